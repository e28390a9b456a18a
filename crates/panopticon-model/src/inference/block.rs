//! A transformer block with frozen weights: each residual branch ends in a fused `Linear`
//! (bias, LayerScale and the residual add in the same pass), and the cls-only form of the
//! last block.

use burn::nn::{LayerNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use super::ops::{Epilogue, Panels, fused_linear, fused_self_attention};
use crate::vit::{Block, Ffn, LayerScale, SwiGluFfn, swiglu};

/// A `Linear` with its weight laid out for few rows ([`Panels`], made at first use).
#[derive(Debug, Clone)]
struct PanelLinear {
    layer: Linear,
    panels: Panels,
}

impl PanelLinear {
    fn new(layer: &Linear) -> Self {
        Self {
            layer: layer.clone(),
            panels: Panels::new(),
        }
    }

    /// # Shapes
    /// - `x`: `[B, N, d_in]` → `[B, N, d_out]`
    fn forward(&self, x: Tensor<3>, epilogue: Epilogue) -> Tensor<3> {
        fused_linear(x, &self.layer, Some(&self.panels), epilogue)
    }
}

#[derive(Debug, Clone)]
enum FrozenFfn {
    Mlp { fc1: PanelLinear, fc2: PanelLinear },
    SwiGlu(SwiGluFfn),
}

impl FrozenFfn {
    /// `epilogue(ffn(x))`.
    fn forward(&self, x: Tensor<3>, epilogue: Epilogue) -> Tensor<3> {
        match self {
            Self::Mlp { fc1, fc2 } => fc2.forward(fc1.forward(x, Epilogue::Gelu), epilogue),
            Self::SwiGlu(m) => epilogue.apply(m.w3.forward(swiglu(m.w12.forward(x)))),
        }
    }
}

/// [`Block`] at inference (no stochastic depth).
#[derive(Debug, Clone)]
pub(super) struct FrozenBlock {
    norm1: LayerNorm,
    qkv: PanelLinear,
    proj: PanelLinear,
    num_heads: usize,
    /// LayerScale of the attention branch.
    gamma1: Option<Tensor<1>>,
    norm2: LayerNorm,
    /// `None`: the identity FFN.
    ffn: Option<FrozenFfn>,
    gamma2: Option<Tensor<1>>,
}

impl FrozenBlock {
    pub(super) fn new(block: &Block) -> Self {
        let gamma = |ls: &Option<LayerScale>| ls.as_ref().map(|ls| ls.gamma.val());
        Self {
            norm1: block.norm1.clone(),
            qkv: PanelLinear::new(&block.attn.qkv),
            proj: PanelLinear::new(&block.attn.proj),
            num_heads: block.attn.num_heads,
            gamma1: gamma(&block.ls1),
            norm2: block.norm2.clone(),
            ffn: block.mlp.as_ref().map(|ffn| match ffn {
                Ffn::Mlp(m) => FrozenFfn::Mlp {
                    fc1: PanelLinear::new(&m.fc1),
                    fc2: PanelLinear::new(&m.fc2),
                },
                Ffn::SwiGlu(m) => FrozenFfn::SwiGlu(m.clone()),
            }),
            gamma2: gamma(&block.ls2),
        }
    }

    /// `residual + γ ⊙ y`, applied by the `Linear` that ends a branch.
    fn add_to(residual: Tensor<3>, gamma: &Option<Tensor<1>>) -> Epilogue {
        Epilogue::Residual {
            residual,
            gamma: gamma.clone(),
        }
    }

    /// `x + ffn(norm2(x))`, LayerScale'd.
    fn ffn_branch(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.norm2.forward(x.clone());
        let then = Self::add_to(x, &self.gamma2);
        match &self.ffn {
            Some(ffn) => ffn.forward(h, then),
            None => then.apply(h),
        }
    }

    /// [`Block::forward`].
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub(super) fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.norm1.forward(x.clone());
        let qkv = self.qkv.forward(h, Epilogue::Plain);
        let y = fused_self_attention(qkv, self.num_heads);
        let x = self.proj.forward(y, Self::add_to(x, &self.gamma1));
        self.ffn_branch(x)
    }

    /// Row 0 (the cls token) of [`forward`](Self::forward): the first LayerNorm of every
    /// token, everything else for row 0 only (attention folds the key and value projections
    /// into the cls query, see [`Self::cls_attention`]). The last block of a cls-only forward
    /// needs no more (≈ 160× fewer FLOPs for that block at 224²).
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, 1, D]`
    pub(super) fn forward_cls(&self, x: Tensor<3>) -> Tensor<3> {
        let x0 = x.clone().narrow(1, 0, 1);
        let h = self.norm1.forward(x);
        let y0 = self.cls_attention(h);
        let x0 = self.proj.forward(y0, Self::add_to(x0, &self.gamma1));
        self.ffn_branch(x0)
    }

    /// Row 0 of the attention before its output projection, without the keys and values of
    /// every token: for head `h`, `q·(W_k x_j + b_k) = (W_kᵀ q)·x_j + q·b_k`, whose last term
    /// is the same for every `j` and cancels in the softmax; and since the attention `a` sums
    /// to 1, `Σ_j a_j (W_v x_j + b_v) = W_v (Σ_j a_j x_j) + b_v`. So the tokens are read twice
    /// as `D`-vectors per head, instead of projected (`12·N·D` multiply-adds per image for
    /// ViT-B, not `2·N·D²`).
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` (normed) → `[B, 1, D]`
    fn cls_attention(&self, x: Tensor<3>) -> Tensor<3> {
        let d = x.dims()[2];
        let (h, hd) = (self.num_heads, d / self.num_heads);
        let device = x.device();
        // Views of the [D, 3D] weight, read in place by the matmuls (no copies).
        let weight = self.qkv.layer.weight.val();
        let part = |i: usize| weight.clone().narrow(1, i * d, d).unsqueeze::<3>(); // [1, D, D]
        let bias = self.qkv.layer.bias.as_ref().map(|b| b.val());
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
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FfnLayer;
    use crate::vit::BlockOptions;
    use burn::tensor::Distribution;

    #[test]
    fn frozen_block_and_its_cls_row_equal_the_trainable_block() {
        let device = Device::default();
        let cases = [FfnLayer::Mlp, FfnLayer::SwiGlu, FfnLayer::Identity]
            .into_iter()
            .flat_map(|ffn| {
                [
                    (ffn, Some(0.3), true),
                    (ffn, None, true),
                    (ffn, None, false),
                ]
            });
        for (ffn, init_values, qkv_bias) in cases {
            let o = BlockOptions {
                dim: 48,
                num_heads: 4,
                hidden: 96,
                qkv_bias,
                proj_bias: true,
                ffn_bias: true,
                init_values,
                ffn,
                eps: 1e-6,
                drop_path: 0.0,
            };
            let mut block = Block::init(&o, &device);
            // Biases start at zero: make them count (the cls path folds them differently).
            block.attn.qkv.bias = block.attn.qkv.bias.take().map(|b| {
                b.map(|t| Tensor::random(t.dims(), Distribution::Normal(0.0, 0.5), &device))
            });
            let frozen = FrozenBlock::new(&block);
            let x = Tensor::<3>::random([3, 21, 48], Distribution::Normal(0.0, 1.0), &device);
            let kept = x.clone().into_data();
            let want = block.forward(x.clone());
            let full = frozen.forward(x.clone());
            let diff = (full - want.clone()).abs().max().into_scalar::<f32>();
            assert!(diff <= 1e-5, "{ffn:?} {init_values:?} {qkv_bias}: {diff}");
            let got = frozen.forward_cls(x.clone());
            assert_eq!(got.dims(), [3, 1, 48]);
            let diff = (got - want.narrow(1, 0, 1))
                .abs()
                .max()
                .into_scalar::<f32>();
            assert!(diff <= 1e-5, "{ffn:?} {init_values:?} {qkv_bias}: {diff}");
            x.into_data().assert_eq(&kept, true);
        }
    }
}
