//! Activations and attention faster than the backend's own where its kernel is slow.

#[cfg(feature = "flex")]
mod attention_kernel;
mod erf;
#[cfg(feature = "flex")]
mod flex;

pub use erf::{erf, gelu_in_place, gelu_in_place_par};

use burn::prelude::*;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

/// The exact (erf, not tanh) GELU, `0.5·x·(1 + erf(x/√2))`.
///
/// On a Flex (CPU) device this runs a vectorised, multi-threaded kernel within 3e-7·max(1, |x|)
/// of the definition, ≈10× Flex's scalar `erff`. Everywhere else, including autodiff tensors
/// (training needs the backward), it is Burn's own `gelu`.
///
/// # Shapes
/// - `x`: any → same
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if flex::is_flex(&x.device()) {
        return flex::gelu(x);
    }
    burn::tensor::activation::gelu(x)
}

/// DINOv2 multi-head self-attention from the fused qkv projection: `qkv` holds `[q | k | v]`,
/// each split into `heads` contiguous chunks; `softmax(q·kᵀ/√hd)·v` per head.
///
/// On a Flex (CPU) device, f32 and without autodiff, a fused kernel reads the heads in place
/// and writes `[B, N, D]` directly (no permute copies, vectorised softmax). Everywhere else it
/// is Burn's `attention` on permuted heads.
///
/// # Shapes
/// - `qkv`: `[B, N, 3·D]`
/// - output: `[B, N, D]`
pub fn self_attention(qkv: Tensor<3>, heads: usize) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if flex::is_flex(&qkv.device()) && qkv.dtype() == burn::tensor::DType::F32 {
        return flex::self_attention(qkv, heads);
    }
    self_attention_generic(qkv, heads)
}

/// [`self_attention`] through Burn's `attention` on permuted heads (any backend, autodiff).
fn self_attention_generic(qkv: Tensor<3>, heads: usize) -> Tensor<3> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn equals_burns_gelu_and_leaves_shared_inputs_alone() {
        let device = Device::default();
        let x = Tensor::<3>::random([4, 33, 517], Distribution::Normal(0.0, 3.0), &device);
        let kept = x.clone().into_data();
        let want = burn::tensor::activation::gelu(x.clone());
        // `x` is still held here, so the kernel must not write into its buffer.
        let got = gelu(x.clone());
        assert!(max_diff(got, want.clone()) <= 2e-6);
        x.to_data().assert_eq(&kept, true);
        // Unshared input (written in place) and a non-contiguous view.
        assert!(max_diff(gelu(x.clone() * 1.0), want.clone()) <= 2e-6);
        let t = x.clone().swap_dims(1, 2);
        let want_t = burn::tensor::activation::gelu(t.clone());
        assert!(max_diff(gelu(t), want_t) <= 2e-6);
    }

    #[test]
    fn fused_attention_equals_burns_and_keeps_autodiff() {
        let device = Device::default();
        let qkv = Tensor::<3>::random([2, 29, 3 * 48], Distribution::Normal(0.0, 2.0), &device);
        let kept = qkv.clone().into_data();
        let got = self_attention(qkv.clone(), 4);
        assert_eq!(got.dims(), [2, 29, 48]);
        assert!(max_diff(got, self_attention_generic(qkv.clone(), 4)) <= 1e-5);
        qkv.to_data().assert_eq(&kept, true);
        // Autodiff tensors take Burn's route and get a gradient.
        let ad = Tensor::<3>::from_data(kept, &device.autodiff()).require_grad();
        let grads = self_attention(ad.clone(), 4).sum().backward();
        assert_eq!(ad.grad(&grads).expect("gradient").dims(), [2, 29, 144]);
    }

    #[test]
    fn autodiff_tensors_keep_their_gradient() {
        let device = Device::default().autodiff();
        let x = Tensor::<2>::from_floats([[-1.5, 0.0, 0.7, 3.0]], &device).require_grad();
        let grads = gelu(x.clone()).sum().backward();
        let g = x.grad(&grads).expect("gradient").into_data();
        // d/dx gelu at -1.5, 0, 0.7, 3 (from the exact derivative Φ(x) + x·φ(x)).
        let want = [-0.127_469, 0.5, 0.976_614, 1.011_946];
        for (got, want) in g.iter::<f32>().zip(want) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }
}
