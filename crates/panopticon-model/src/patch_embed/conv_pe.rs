//! `PatchEmbed`: DINOv2's standard convolutional patch embedding (fixed input channels).

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::prelude::*;

/// `Conv2d(in_chans, D, kernel P, stride P)`, flattened to tokens.
#[derive(Module, Debug)]
pub struct PatchEmbed {
    /// `proj.weight` `[D, in_chans, P, P]`, `proj.bias` `[D]`.
    pub proj: Conv2d,
}

impl PatchEmbed {
    /// Builds the convolution.
    pub fn init(in_chans: usize, embed_dim: usize, patch: usize, device: &Device) -> Self {
        Self {
            proj: Conv2dConfig::new([in_chans, embed_dim], [patch, patch])
                .with_stride([patch, patch])
                .with_padding(PaddingConfig2d::Valid)
                .init(device),
        }
    }

    /// # Shapes
    /// - `imgs`: `[B, in_chans, H, W]`
    /// - output: `[B, L, D]`
    pub fn forward(&self, imgs: Tensor<4>) -> Tensor<3> {
        let x = self.proj.forward(imgs); // [B, D, Hp, Wp]
        x.flatten::<3>(2, 3).swap_dims(1, 2)
    }
}
