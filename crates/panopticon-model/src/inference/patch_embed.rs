//! The patch embedding of a frozen model: the folded channel attention, or the convolution.

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;

use super::folded::{FoldedChnAttn, patchify_by_location};
use crate::channel_ids::ChannelIds;
use crate::input::PanopticonInput;
use crate::patch_embed::{ChnEmb, PatchEmbed};
use crate::vit::PatchEmbedding;

/// Pixels → `[B, L, D]` tokens with frozen weights.
// One per model, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(super) enum FrozenPatchEmbed {
    /// Panopticon's embedding with its channel attention folded (exact).
    Panopticon {
        /// Patch side `P`.
        patch: usize,
        /// The channel embedding (its SAR table is weights; optical ids are sin-cos).
        chnemb: ChnEmb,
        /// The folded cross-attention over channels.
        folded: FoldedChnAttn,
        /// `chnfus.layer_norm`, when the model has one.
        layer_norm: Option<LayerNorm>,
        /// `A → D`.
        proj: Linear,
    },
    /// DINOv2's convolution.
    Conv(PatchEmbed),
}

impl FrozenPatchEmbed {
    /// Folds the current weights of `pe`.
    pub(super) fn new(pe: &PatchEmbedding) -> Self {
        match pe {
            PatchEmbedding::Panopticon(pe) => Self::Panopticon {
                patch: pe.conv3d.conv3d.weight.dims()[3],
                chnemb: pe.chnfus.chnemb.clone(),
                folded: FoldedChnAttn::new(&pe.conv3d, &pe.chnfus),
                layer_norm: pe.chnfus.layer_norm.clone(),
                proj: pe.proj.clone(),
            },
            PatchEmbedding::Conv(pe) => Self::Conv(pe.clone()),
        }
    }

    /// # Shapes
    /// - output: `[B, L, D]`
    pub(super) fn forward(&self, input: &PanopticonInput) -> Tensor<3> {
        let imgs = input.imgs().clone();
        match self {
            Self::Panopticon {
                patch,
                chnemb,
                folded,
                layer_norm,
                proj,
            } => {
                let ids: &ChannelIds = input.chn_ids();
                let emb = match ids.shared_row() {
                    Some(one) => chnemb.forward(&one), // [1, C, A]
                    None => chnemb.forward(ids),       // [B, C, A]
                };
                let y = folded.forward(
                    patchify_by_location(imgs, *patch),
                    emb,
                    ids.batch(),
                    input.spec_masks().cloned(),
                );
                let y = match layer_norm {
                    Some(norm) => norm.forward(y),
                    None => y,
                };
                proj.forward(y)
            }
            Self::Conv(pe) => pe.forward(imgs),
        }
    }
}
