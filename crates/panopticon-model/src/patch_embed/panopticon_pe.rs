//! `PanopticonPE`: any-channel patch embedding.

use burn::nn::Linear;
use burn::prelude::*;

use super::chn_attn::ChnAttn;
use super::conv3d::Conv3dWrapper;
use crate::channel_ids::ChannelIds;
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
        }
    }

    /// # Shapes
    /// - `imgs`: `[B, C, H, W]`
    /// - `spec_masks`: `[B, C]`, true = ignore the channel
    /// - output: `[B, L, D]`
    pub fn forward(
        &self,
        imgs: Tensor<4>,
        ids: &ChannelIds,
        spec_masks: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let x = self.conv3d.forward(imgs); // [B, C, L, A]
        self.proj.forward(self.chnfus.forward(x, ids, spec_masks)) // [B, L, D]
    }
}
