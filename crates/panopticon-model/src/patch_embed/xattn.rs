//! `CrossAttnNoQueryProj`: multi-head cross-attention with k/v projections only.

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::softmax;

/// Cross-attention without query or output projection.
///
/// The k/v projections are redundant after the conv (no non-linearity in between) but are
/// kept, as upstream does, for checkpoint compatibility.
#[derive(Module, Debug)]
pub struct CrossAttnNoQueryProj {
    /// `inproj_k.weight` `[A, A]` (and bias if `qkv_bias`).
    pub inproj_k: Linear,
    /// `inproj_v.weight` `[A, A]` (and bias if `qkv_bias`).
    pub inproj_v: Linear,
    /// Number of heads; head `h` owns features `[h·hd, (h+1)·hd)`.
    pub num_heads: usize,
}

impl CrossAttnNoQueryProj {
    /// Builds the projections (trunc-normal 0.02 init happens in the model's init).
    pub fn init(dim: usize, num_heads: usize, qkv_bias: bool, device: &Device) -> Self {
        let lin = || crate::init::linear(dim, dim, qkv_bias, device);
        Self {
            inproj_k: lin(),
            inproj_v: lin(),
            num_heads,
        }
    }

    /// Attends from the (unprojected) queries to the projected keys/values.
    /// `key_padding_mask` is true where a key must be ignored.
    ///
    /// # Shapes
    /// - `q`: `[1 or N, Nq, A]`
    /// - `kv`: `[N, Nkv, A]`
    /// - `key_padding_mask`: `[N, Nkv]`
    /// - output: `[N, Nq, A]`
    pub fn forward(
        &self,
        q: Tensor<3>,
        kv: Tensor<3>,
        key_padding_mask: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let [n, nkv, a] = kv.dims();
        let nq = q.dims()[1];
        let h = self.num_heads;
        let hd = a / h;
        let split = |x: Tensor<3>, len: usize| {
            let rows = x.dims()[0];
            x.reshape([rows, len, h, hd]).swap_dims(1, 2)
        };
        let scale = (hd as f64).powf(-0.5);
        let qh = split(q, nq).mul_scalar(scale); // [1|N, h, Nq, hd]
        let kh = split(self.inproj_k.forward(kv.clone()), nkv); // [N, h, Nkv, hd]
        let vh = split(self.inproj_v.forward(kv), nkv);
        let qh = if qh.dims()[0] != n {
            qh.expand([n, h, nq, hd])
        } else {
            qh
        };
        let mut logits = qh.matmul(kh.swap_dims(2, 3)); // [N, h, Nq, Nkv]
        if let Some(mask) = key_padding_mask {
            let mask = mask.reshape([n, 1, 1, nkv]).expand([n, h, nq, nkv]);
            logits = logits.mask_fill(mask, f32::NEG_INFINITY);
        }
        let attn = softmax(logits, 3);
        attn.matmul(vh) // [N, h, Nq, hd]
            .swap_dims(1, 2)
            .reshape([n, nq, a])
    }
}
