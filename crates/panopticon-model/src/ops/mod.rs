//! Activations faster than the backend's own where its kernel is slow.

mod erf;
#[cfg(feature = "flex")]
mod flex;

pub use erf::{erf, gelu_in_place, gelu_in_place_par};

use burn::prelude::*;

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
