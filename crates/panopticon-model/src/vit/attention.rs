//! Multi-head self-attention with a fused qkv projection (DINOv2 `Attention`).

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

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
        let y = heads_attention(self.qkv.forward(x), self.num_heads);
        self.proj.forward(y)
    }
}

/// `softmax(q·kᵀ/√hd)·v` per head from the fused qkv projection (`[q | k | v]`, each split
/// into `heads` contiguous chunks), through Burn's `attention`.
///
/// # Shapes
/// - `qkv`: `[B, N, 3·D]`
/// - output: `[B, N, D]`
pub fn heads_attention(qkv: Tensor<3>, heads: usize) -> Tensor<3> {
    let [b, n, d3] = qkv.dims();
    let (d, h) = (d3 / 3, heads);
    let hd = d / h;
    let qkv = qkv.reshape([b, n, 3, h, hd]).permute([2, 0, 3, 1, 4]); // [3, B, h, N, hd]
    let part = |i: usize| qkv.clone().narrow(0, i, 1).reshape([b, h, n, hd]);
    let options = AttentionModuleOptions {
        scale: Some((hd as f64).powf(-0.5)),
        ..Default::default()
    };
    let out = attention(part(0), part(1), part(2), None, None, options); // [B, h, N, hd]
    out.swap_dims(1, 2).reshape([b, n, d])
}
