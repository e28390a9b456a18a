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

    /// Row 0 (the cls token) of [`forward_then`](Self::forward_then), without the keys and
    /// values of every token: for head `h`, `q·(W_k x_j + b_k) = (W_kᵀ q)·x_j + q·b_k`, whose
    /// last term is the same for every `j` and cancels in the softmax; and since the
    /// attention `a` sums to 1, `Σ_j a_j (W_v x_j + b_v) = W_v (Σ_j a_j x_j) + b_v`. So the
    /// tokens are read twice as `D`-vectors per head, instead of projected
    /// (`12·N·D` multiply-adds per image for ViT-B, not `2·N·D²`). `then`'s residual is
    /// `[B, 1, D]`.
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, 1, D]`
    pub fn forward_cls_then(&self, x: Tensor<3>, then: Then) -> Tensor<3> {
        let d = x.dims()[2];
        let (h, hd) = (self.num_heads, d / self.num_heads);
        let device = x.device();
        // Views of the [D, 3D] weight, read in place by the matmuls (no copies).
        let weight = self.qkv.weight.val();
        let part = |i: usize| weight.clone().narrow(1, i * d, d).unsqueeze::<3>(); // [1, D, D]
        let bias = self.qkv.bias.as_ref().map(|b| b.val());
        let mut q = x.clone().narrow(1, 0, 1).matmul(part(0)); // [B, 1, D]
        if let Some(bias) = &bias {
            q = q + bias.clone().narrow(0, 0, d).reshape([1, 1, d]);
        }
        // Head membership of each of the D features, [1, h, D]: spreads `q` over a
        // block-diagonal [B, h, D], so that one matmul gives every head's `W_kᵀ q_h`.
        let member: Vec<f32> = (0..h * d).map(|i| f32::from(i / d == i % d / hd)).collect();
        let member = Tensor::<3>::from_data(TensorData::new(member, [1, h, d]), &device);
        let q = (member.clone() * q) * (hd as f64).powf(-0.5); // [B, h, D]
        let qk = q.matmul(part(1).swap_dims(1, 2)); // W_kᵀ q per head: [B, h, D]
        let scores = x.clone().matmul(qk.swap_dims(1, 2)); // [B, N, h]
        let attn = softmax(scores, 1).swap_dims(1, 2); // [B, h, N]
        let mean = attn.matmul(x); // Σ_j a_j x_j per head: [B, h, D]
        // Each head's W_v projection, then its own `hd` features kept: [B, 1, D].
        let mut out = (mean.matmul(part(2)) * member).sum_dim(1);
        if let Some(bias) = bias {
            out = out + bias.narrow(0, 2 * d, d).reshape([1, 1, d]);
        }
        ops::linear_with(out, &self.proj, self.proj_panels.as_ref(), then)
    }
}
