//! The pre-norm transformer block of DINOv2.

use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::attention::Attention;
use super::drop_path::residual;
use super::ffn::Ffn;
use super::layer_scale::LayerScale;
use crate::ops::Then;

/// `x + ls1(attn(norm1(x)))`, then `x + ls2(mlp(norm2(x)))`.
#[derive(Module, Debug)]
pub struct Block {
    /// Pre-attention norm.
    pub norm1: LayerNorm,
    /// Self-attention.
    pub attn: Attention,
    /// LayerScale of the attention branch (absent when `init_values` is None).
    pub ls1: Option<LayerScale>,
    /// Pre-FFN norm.
    pub norm2: LayerNorm,
    /// Feed-forward layer; `None` is the `"identity"` FFN.
    pub mlp: Option<Ffn>,
    /// LayerScale of the FFN branch.
    pub ls2: Option<LayerScale>,
    /// Stochastic-depth rate of this block (training only).
    pub drop_path: f64,
}

/// Options of [`Block::init`].
#[derive(Debug, Clone)]
pub struct BlockOptions {
    /// Token width.
    pub dim: usize,
    /// Heads.
    pub num_heads: usize,
    /// FFN hidden width (already rounded for SwiGLU).
    pub hidden: usize,
    /// qkv bias.
    pub qkv_bias: bool,
    /// Attention output bias.
    pub proj_bias: bool,
    /// FFN biases.
    pub ffn_bias: bool,
    /// LayerScale init; `None` = no LayerScale.
    pub init_values: Option<f64>,
    /// FFN kind.
    pub ffn: crate::config::FfnLayer,
    /// LayerNorm epsilon.
    pub eps: f64,
    /// Stochastic-depth rate.
    pub drop_path: f64,
}

impl Block {
    /// Builds a block.
    pub fn init(o: &BlockOptions, device: &Device) -> Self {
        use crate::config::FfnLayer;
        let norm = || LayerNormConfig::new(o.dim).with_epsilon(o.eps).init(device);
        let ls = || {
            o.init_values
                .filter(|v| *v != 0.0)
                .map(|v| LayerScale::init(o.dim, v, device))
        };
        Self {
            norm1: norm(),
            attn: Attention::init(o.dim, o.num_heads, o.qkv_bias, o.proj_bias, device),
            ls1: ls(),
            norm2: norm(),
            mlp: match o.ffn {
                FfnLayer::Mlp => Some(Ffn::mlp(o.dim, o.hidden, o.ffn_bias, device)),
                FfnLayer::SwiGlu => Some(Ffn::swiglu(o.dim, o.hidden, o.ffn_bias, device)),
                FfnLayer::Identity => None,
            },
            ls2: ls(),
            drop_path: o.drop_path,
        }
    }

    /// Gives the block's `Linear` layers a small-batch weight layout
    /// ([`Panels`](crate::ops::Panels), made at first use) when `on`; drops it when not.
    pub fn pack(&mut self, on: bool) {
        self.attn.pack(on);
        if let Some(mlp) = &mut self.mlp {
            mlp.pack(on);
        }
    }

    /// Whether [`pack`](Self::pack) is on (it sets every layer's cell together, and every
    /// block has attention).
    pub fn is_packed(&self) -> bool {
        self.attn.qkv_panels.is_some()
    }

    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        if !x.device().is_autodiff() {
            return self.forward_inference(x);
        }
        let scale = |ls: &Option<LayerScale>, y: Tensor<3>| match ls {
            Some(ls) => ls.forward(y),
            None => y,
        };
        let x = residual(x, self.drop_path, |x| {
            scale(&self.ls1, self.attn.forward(self.norm1.forward(x)))
        });
        residual(x, self.drop_path, |x| {
            let y = self.norm2.forward(x);
            let y = match &self.mlp {
                Some(ffn) => ffn.forward(y),
                None => y,
            };
            scale(&self.ls2, y)
        })
    }

    /// [`forward`](Self::forward) without stochastic depth: each residual branch ends in a
    /// `Linear`, which takes its LayerScale and the residual add into the same pass.
    fn forward_inference(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.norm1.forward(x.clone());
        let x = self.attn.forward_then(h, add_to(x, &self.ls1));
        let h = self.norm2.forward(x.clone());
        match &self.mlp {
            Some(ffn) => ffn.forward_then(h, add_to(x, &self.ls2)),
            None => add_to(x, &self.ls2).apply(h),
        }
    }

    /// Row 0 (the cls token) of [`forward`](Self::forward) at inference: the first LayerNorm
    /// of every token, everything else for row 0 only (attention folds the key and value
    /// projections into the cls query: [`Attention::forward_cls_then`]). The last block of a
    /// cls-only forward needs no more (≈ 160× fewer FLOPs for that block at 224²).
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, 1, D]`
    pub fn forward_cls(&self, x: Tensor<3>) -> Tensor<3> {
        let x0 = x.clone().narrow(1, 0, 1);
        let h = self.norm1.forward(x);
        let x0 = self.attn.forward_cls_then(h, add_to(x0, &self.ls1));
        let h0 = self.norm2.forward(x0.clone());
        match &self.mlp {
            Some(ffn) => ffn.forward_then(h0, add_to(x0, &self.ls2)),
            None => add_to(x0, &self.ls2).apply(h0),
        }
    }
}

/// `residual + ls(y)`, fused into the `Linear` that ends a residual branch.
fn add_to(residual: Tensor<3>, ls: &Option<LayerScale>) -> Then {
    Then::AddTo {
        residual,
        gamma: ls.as_ref().map(|ls| ls.gamma.val()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FfnLayer;
    use burn::tensor::Distribution;

    #[test]
    fn cls_row_equals_the_full_blocks_first_row() {
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
            let x = Tensor::<3>::random([3, 21, 48], Distribution::Normal(0.0, 1.0), &device);
            let kept = x.clone().into_data();
            let want = block.forward(x.clone()).narrow(1, 0, 1);
            let got = block.forward_cls(x.clone());
            assert_eq!(got.dims(), [3, 1, 48]);
            let diff = (got - want).abs().max().into_scalar::<f32>();
            assert!(diff <= 1e-5, "{ffn:?} {init_values:?} {qkv_bias}: {diff}");
            x.into_data().assert_eq(&kept, true);
        }
    }
}
