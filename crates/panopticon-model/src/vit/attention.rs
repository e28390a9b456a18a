//! Multi-head self-attention with a fused qkv projection (DINOv2 `Attention`).

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::ops::{self, Panels, Then};

/// Self-attention: `qkv` outputs `[q | k | v]`, each split into contiguous per-head chunks.
#[derive(Module, Debug)]
pub struct Attention {
    /// `D → 3D`.
    pub qkv: Linear,
    /// `D → D`.
    pub proj: Linear,
    /// Number of heads.
    pub num_heads: usize,
    /// `qkv`'s weight laid out for small-batch CPU inference ([`Self::pack`]).
    #[module(skip)]
    pub qkv_panels: Option<Panels>,
    /// `proj`'s, likewise.
    #[module(skip)]
    pub proj_panels: Option<Panels>,
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
            qkv_panels: None,
            proj_panels: None,
        }
    }

    /// Gives both projections a small-batch weight layout ([`Panels`], made at first use)
    /// when `on`; drops it when not.
    pub fn pack(&mut self, on: bool) {
        self.qkv_panels = on.then(Panels::new);
        self.proj_panels = on.then(Panels::new);
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
        let qkv = ops::linear_with(x, &self.qkv, self.qkv_panels.as_ref(), Then::Nothing);
        let y = ops::self_attention(qkv, self.num_heads);
        ops::linear_with(y, &self.proj, self.proj_panels.as_ref(), then)
    }

    /// Row 0 (the cls token) of [`forward_then`](Self::forward_then): keys and values of every
    /// token, the query, attention and projection of row 0 only. `then`'s residual is `[B, 1, D]`.
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, 1, D]`
    pub fn forward_cls_then(&self, x: Tensor<3>, then: Then) -> Tensor<3> {
        let [b, n, d] = x.dims();
        let (h, hd) = (self.num_heads, d / self.num_heads);
        let qkv = ops::linear_with(x, &self.qkv, self.qkv_panels.as_ref(), Then::Nothing);
        // [B, N, D] → [B, h, N, hd]
        let heads = |t: Tensor<3>, len: usize| t.reshape([b, len, h, hd]).swap_dims(1, 2);
        let q = heads(qkv.clone().narrow(1, 0, 1).narrow(2, 0, d), 1);
        let k = heads(qkv.clone().narrow(2, d, d), n);
        let v = heads(qkv.narrow(2, 2 * d, d), n);
        let scores = q.matmul(k.swap_dims(2, 3)) * (hd as f64).powf(-0.5); // [B, h, 1, N]
        let out = softmax(scores, 3).matmul(v); // [B, h, 1, hd]
        let out = out.swap_dims(1, 2).reshape([b, 1, d]);
        ops::linear_with(out, &self.proj, self.proj_panels.as_ref(), then)
    }
}
