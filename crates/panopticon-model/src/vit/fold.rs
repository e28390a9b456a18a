//! Switching the patch embedding between its literal and its folded (inference) form.

use super::model::{Panopticon, PatchEmbedding};

impl Panopticon {
    /// Precomputes the folded channel attention (exact; see
    /// [`FoldedChnAttn`](crate::patch_embed::FoldedChnAttn)) so that forward passes skip the
    /// `[B, C, L, A]` channel tokens. Models from [`Panopticon::from_file`] and
    /// [`Panopticon::pretrained`](crate::hub) come folded, and
    /// [`load_weights`](Panopticon::load_weights) refolds a folded model; after changing the
    /// patch-embedding weights any other way, call this again (or [`unfold`](Self::unfold)
    /// for training). No effect on a stock DINOv2 convolution.
    pub fn fold(&mut self) {
        if let PatchEmbedding::Panopticon(pe) = &mut self.patch_embed {
            pe.fold();
        }
    }

    /// Back to the literal channel attention (the reference path, and the one to train).
    pub fn unfold(&mut self) {
        if let PatchEmbedding::Panopticon(pe) = &mut self.patch_embed {
            pe.unfold();
        }
    }

    /// Whether the folded fast path is in place.
    pub fn is_folded(&self) -> bool {
        matches!(&self.patch_embed, PatchEmbedding::Panopticon(pe) if pe.folded.is_some())
    }
}
