//! The pre-norm transformer block of DINOv2.

use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::attention::Attention;
use super::drop_path::residual;
use super::ffn::Ffn;
use super::layer_scale::LayerScale;

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

    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
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
}
