//! Multi-head self-attention with a fused qkv projection (DINOv2 `Attention`).

use burn::nn::Linear;
use burn::prelude::*;

use crate::ops::{self, Then};

/// Self-attention: `qkv` outputs `[q | k | v]`, each split into contiguous per-head chunks.
#[derive(Module, Debug)]
pub struct Attention {
    /// `D → 3D`.
    pub qkv: Linear,
    /// `D → D`.
    pub proj: Linear,
    /// Number of heads.
    pub num_heads: usize,
}

impl Attention {
    /// Builds the projections.
    pub fn init(
        dim: usize,
        num_heads: usize,
        qkv_bias: bool,
        proj_bias: bool,
        device: &Device,
    ) -> Self {
        Self {
            qkv: crate::init::linear(dim, 3 * dim, qkv_bias, device),
            proj: crate::init::linear(dim, dim, proj_bias, device),
            num_heads,
        }
    }

    /// # Shapes
    /// - `x`: `[B, N, D]`
    /// - output: `[B, N, D]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_then(x, Then::Nothing)
    }

    /// [`forward`](Self::forward) with `then` fused into the output projection.
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward_then(&self, x: Tensor<3>, then: Then) -> Tensor<3> {
        let qkv = ops::linear(x, &self.qkv, Then::Nothing);
        ops::linear(ops::self_attention(qkv, self.num_heads), &self.proj, then)
    }
}
