//! Switching the model between its literal (trainable) form and its inference form.

use super::model::{Panopticon, PatchEmbedding};

impl Panopticon {
    /// Precomputes what inference with frozen weights reads, from the current weights:
    /// - the folded channel attention (exact; see
    ///   [`FoldedChnAttn`](crate::patch_embed::FoldedChnAttn)), so that forward passes skip the
    ///   `[B, C, L, A]` channel tokens (no effect on a stock DINOv2 convolution);
    /// - room for the blocks' `Linear` weights laid out for small batches
    ///   ([`Panels`](crate::ops::Panels)): on a Flex (CPU) device, a first forward of one or
    ///   two images lays them out (a second copy of those weights in memory, ≈ 5 % faster).
    ///
    /// Models from [`Panopticon::from_file`] and [`Panopticon::pretrained`](crate::hub) come
    /// folded, and [`load_weights`](Panopticon::load_weights) refolds a folded model; after
    /// changing the weights any other way, call this again (or [`unfold`](Self::unfold) for
    /// training).
    pub fn fold(&mut self) {
        if let PatchEmbedding::Panopticon(pe) = &mut self.patch_embed {
            pe.fold();
        }
        for blk in &mut self.blocks {
            blk.pack(true);
        }
    }

    /// Back to the literal channel attention and the plain weights alone (the reference path,
    /// and the one to train).
    pub fn unfold(&mut self) {
        if let PatchEmbedding::Panopticon(pe) = &mut self.patch_embed {
            pe.unfold();
        }
        for blk in &mut self.blocks {
            blk.pack(false);
        }
    }

    /// Whether anything [`fold`](Self::fold) precomputes is in place.
    pub fn is_folded(&self) -> bool {
        matches!(&self.patch_embed, PatchEmbedding::Panopticon(pe) if pe.folded.is_some())
            || self.blocks.iter().any(|b| b.is_packed())
    }
}
