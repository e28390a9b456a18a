//! `PanopticonPE`: any-channel patch embedding.

use burn::nn::Linear;
use burn::prelude::*;

use super::chn_attn::ChnAttn;
use super::chn_emb::HostChnIds;
use super::conv3d::Conv3dWrapper;
use super::folded::{FoldedChnAttn, patchify_by_location};
use crate::config::PanopticonPeConfig;

/// Per-channel patch projection → channel cross-attention → projection to `D`.
#[derive(Module, Debug)]
pub struct PanopticonPe {
    /// Per-channel patchifier to `A` dims.
    pub conv3d: Conv3dWrapper,
    /// Channel fusion.
    pub chnfus: ChnAttn,
    /// `A → D` projection.
    pub proj: Linear,
    /// The folded channel attention of the current weights (inference fast path), if made.
    #[module(skip)]
    pub folded: Option<FoldedChnAttn>,
}

impl PanopticonPe {
    /// Builds the embedding for tokens of width `embed_dim` and patches of side `patch`.
    pub fn init(cfg: &PanopticonPeConfig, embed_dim: usize, patch: usize, device: &Device) -> Self {
        Self {
            conv3d: Conv3dWrapper::init(cfg.attn_dim, patch, device),
            chnfus: ChnAttn::init(
                cfg.attn_dim,
                cfg.num_heads,
                cfg.qkv_bias,
                cfg.layer_norm,
                cfg.opt_coarsity,
                device,
            ),
            proj: crate::init::linear(cfg.attn_dim, embed_dim, true, device),
            folded: None,
        }
    }

    /// Precomputes the folded channel attention from the current weights; forward passes on
    /// their device then take the fast exact path. A snapshot: fold again after changing the
    /// weights in place.
    pub fn fold(&mut self) {
        self.folded = Some(FoldedChnAttn::new(&self.conv3d, &self.chnfus));
    }

    /// Drops the folded matrices: the literal (trainable) path runs again.
    pub fn unfold(&mut self) {
        self.folded = None;
    }

    /// # Shapes
    /// - `imgs`: `[B, C, H, W]`
    /// - `spec_masks`: `[B, C]`, true = ignore the channel
    /// - output: `[B, L, D]`
    pub fn forward(
        &self,
        imgs: Tensor<4>,
        ids: &HostChnIds,
        spec_masks: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let x = match &self.folded {
            Some(folded) if folded.is_on(&imgs.device()) => {
                let patch = self.conv3d.conv3d.weight.dims()[3];
                let emb = match ids.shared() {
                    Some(one) => self.chnfus.chnemb.forward(&one), // [1, C, A]
                    None => self.chnfus.chnemb.forward(ids),       // [B, C, A]
                };
                let y = folded.forward(
                    patchify_by_location(imgs, patch),
                    emb,
                    ids.batch,
                    spec_masks,
                );
                match &self.chnfus.layer_norm {
                    Some(norm) => norm.forward(y),
                    None => y,
                }
            }
            _ => {
                let x = self.conv3d.forward(imgs); // [B, C, L, A]
                self.chnfus.forward(x, ids, spec_masks) // [B, L, A]
            }
        };
        self.proj.forward(x)
    }
}
