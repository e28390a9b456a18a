//! The inference kernels: a `Linear` fused with what follows it, self-attention and GELU,
//! faster than the backend's own on a Flex (CPU) device, Burn operations everywhere else.

#[cfg(feature = "flex")]
mod attention_kernel;
mod erf;
#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
mod linear_kernel;
mod panels;
#[cfg(feature = "flex")]
mod uninit;

pub use erf::{erf, gelu_in_place, gelu_in_place_par};
pub use panels::Panels;

use burn::prelude::*;

use crate::vit::heads_attention;

/// The exact (erf, not tanh) GELU, `0.5·x·(1 + erf(x/√2))`.
///
/// On a Flex (CPU) device this runs a vectorised, multi-threaded kernel within 3e-7·max(1, |x|)
/// of the definition, ≈10× Flex's scalar `erff`. Everywhere else, including autodiff tensors,
/// it is Burn's own `gelu`.
///
/// # Shapes
/// - `x`: any → same
pub fn exact_gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if flex::is_flex(&x.device()) {
        return flex::gelu(x);
    }
    burn::tensor::activation::gelu(x)
}

/// What [`fused_linear`] does to its output `y = x·W + b` before storing it.
#[allow(clippy::large_enum_variant)] // short-lived, passed by value once per layer
pub enum Epilogue {
    /// `y`.
    Plain,
    /// The exact GELU ([`exact_gelu`]) of `y`.
    Gelu,
    /// `residual + gamma ⊙ y`: a LayerScale'd residual branch (`gamma` absent: no LayerScale).
    Residual {
        /// `[B, N, d_out]`.
        residual: Tensor<3>,
        /// `[d_out]`.
        gamma: Option<Tensor<1>>,
    },
}

/// `epilogue(layer(x))`: a `Linear` and what follows it in a transformer block, in one pass.
/// `panels` (`layer`'s weight laid out for few rows, see [`Panels`]) is read when `x` has few
/// rows (one or two images).
///
/// On a Flex (CPU) device with f32 tensors the GEMM writes the output once and one pass adds
/// the bias and applies the epilogue (Burn's route allocates and sweeps `[B, N, d_out]` up to
/// four more times). Everywhere else it is Burn's `Linear` followed by the same operations.
///
/// # Shapes
/// - `x`: `[B, N, d_in]` → `[B, N, d_out]`
pub fn fused_linear(
    x: Tensor<3>,
    layer: &burn::nn::Linear,
    panels: Option<&Panels>,
    epilogue: Epilogue,
) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if flex::is_flex(&x.device()) && x.dtype() == burn::tensor::DType::F32 {
        let weight = layer.weight.val();
        if weight.dtype() == burn::tensor::DType::F32 {
            let bias = layer.bias.as_ref().map(|b| b.val());
            let [k, n] = weight.dims();
            let [b, rows, _] = x.dims();
            let panels = panels
                .and_then(|p| p.for_rows(layer, b * rows))
                .filter(|p| p.dims() == [k * n] && p.device() == x.device());
            return flex::linear(x, weight, panels, bias, epilogue);
        }
    }
    let _ = panels;
    epilogue.apply(layer.forward(x))
}

impl Epilogue {
    /// Applies `self` to `y` with Burn operations.
    pub fn apply(self, y: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Plain => y,
            Self::Gelu => exact_gelu(y),
            Self::Residual { residual, gamma } => match gamma {
                Some(g) => residual + y * g.unsqueeze::<3>(),
                None => residual + y,
            },
        }
    }
}

/// DINOv2 multi-head self-attention from the fused qkv projection (see
/// [`heads_attention`]).
///
/// On a Flex (CPU) device with f32 tensors a fused kernel reads the heads in place and writes
/// `[B, N, D]` directly (no permute copies, vectorised softmax). Everywhere else it is
/// [`heads_attention`].
///
/// # Shapes
/// - `qkv`: `[B, N, 3·D]`
/// - output: `[B, N, D]`
pub fn fused_self_attention(qkv: Tensor<3>, heads: usize) -> Tensor<3> {
    #[cfg(feature = "flex")]
    if flex::is_flex(&qkv.device()) && qkv.dtype() == burn::tensor::DType::F32 {
        return flex::self_attention(qkv, heads);
    }
    heads_attention(qkv, heads)
}

/// `len` values in `[-amp, amp)` from a fixed LCG: test data for the kernels.
#[cfg(test)]
fn pseudo_random(len: usize, seed: u64, amp: f32) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * amp
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// Burn's route: the reference.
    fn generic(x: Tensor<3>, layer: &burn::nn::Linear, epilogue: Epilogue) -> Tensor<3> {
        epilogue.apply(layer.forward(x))
    }

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
        let got = exact_gelu(x.clone());
        assert!(max_diff(got, want.clone()) <= 2e-6);
        x.to_data().assert_eq(&kept, true);
        // Unshared input (written in place) and a non-contiguous view.
        assert!(max_diff(exact_gelu(x.clone() * 1.0), want.clone()) <= 2e-6);
        let t = x.clone().swap_dims(1, 2);
        let want_t = burn::tensor::activation::gelu(t.clone());
        assert!(max_diff(exact_gelu(t), want_t) <= 2e-6);
    }

    #[test]
    fn fused_linear_equals_burns_route_and_leaves_inputs_alone() {
        use burn::nn::LinearConfig;
        let device = Device::default();
        let mut layer = LinearConfig::new(40, 70).init(&device);
        let x = Tensor::<3>::random([3, 17, 40], Distribution::Normal(0.0, 1.0), &device);
        let res = Tensor::<3>::random([3, 17, 70], Distribution::Normal(0.0, 1.0), &device);
        let gamma = Tensor::<1>::random([70], Distribution::Normal(0.0, 0.5), &device);
        let kept = [x.clone().into_data(), res.clone().into_data()];
        let thens = || {
            [
                Epilogue::Plain,
                Epilogue::Gelu,
                Epilogue::Residual {
                    residual: res.clone(),
                    gamma: Some(gamma.clone()),
                },
                Epilogue::Residual {
                    residual: res.clone(),
                    gamma: None,
                },
            ]
        };
        for with_bias in [true, false] {
            if !with_bias {
                layer.bias = None;
            }
            for (then, want) in thens().into_iter().zip(thens()) {
                let got = fused_linear(x.clone(), &layer, None, then);
                let want = generic(x.clone(), &layer, want);
                assert_eq!(got.dims(), [3, 17, 70]);
                assert!(max_diff(got, want) <= 2e-6);
            }
        }
        // A non-contiguous input takes the same route.
        let xt = x.clone().swap_dims(0, 1);
        let got = fused_linear(xt.clone(), &layer, None, Epilogue::Gelu);
        assert!(max_diff(got, generic(xt, &layer, Epilogue::Gelu)) <= 2e-6);
        x.to_data().assert_eq(&kept[0], true);
        res.to_data().assert_eq(&kept[1], true);
    }

    #[test]
    fn panels_are_read_for_few_rows_and_ignored_when_they_do_not_fit() {
        use burn::nn::LinearConfig;
        let device = Device::default();
        let layer = LinearConfig::new(40, 70).init(&device);
        let other = LinearConfig::new(40, 70).init(&device);
        let x = Tensor::<3>::random([2, 17, 40], Distribution::Normal(0.0, 1.0), &device);
        let then = || Epilogue::Gelu;
        let own = Panels::new();
        assert!(!own.is_laid_out());
        let got = fused_linear(x.clone(), &layer, Some(&own), then());
        assert!(
            own.is_laid_out(),
            "a first call with few rows lays the weight out"
        );
        assert!(max_diff(got, generic(x.clone(), &layer, then())) <= 2e-6);
        // Panels of another weight (with `layer`'s bias): proof that they are what is read.
        let mut swapped = other.clone();
        swapped.bias = layer.bias.clone();
        let foreign = Panels::new();
        assert!(foreign.for_rows(&other, 34).is_some());
        let got = fused_linear(x.clone(), &layer, Some(&foreign), then());
        assert!(max_diff(got, generic(x.clone(), &swapped, then())) <= 2e-6);
        // Panels of another shape are ignored.
        let wide = Panels::new();
        assert!(
            wide.for_rows(&LinearConfig::new(40, 71).init(&device), 34)
                .is_some()
        );
        let got = fused_linear(x.clone(), &layer, Some(&wide), then());
        assert!(max_diff(got, generic(x.clone(), &layer, then())) <= 2e-6);
        // A first call with many rows (a batch workload) never lays the weight out.
        let batchy = Panels::new();
        let big = Tensor::<3>::random([3, 257, 40], Distribution::Normal(0.0, 1.0), &device);
        let got = fused_linear(big.clone(), &layer, Some(&batchy), then());
        assert!(max_diff(got, generic(big, &layer, then())) <= 2e-6);
        let _ = fused_linear(x, &layer, Some(&batchy), then());
        assert!(!batchy.is_laid_out());
    }

    #[test]
    fn fused_attention_equals_burns_and_keeps_autodiff() {
        let device = Device::default();
        let qkv = Tensor::<3>::random([2, 29, 3 * 48], Distribution::Normal(0.0, 2.0), &device);
        let kept = qkv.clone().into_data();
        let got = fused_self_attention(qkv.clone(), 4);
        assert_eq!(got.dims(), [2, 29, 48]);
        assert!(max_diff(got, heads_attention(qkv.clone(), 4)) <= 1e-5);
        qkv.to_data().assert_eq(&kept, true);
        // Autodiff tensors take Burn's route and get a gradient.
        let ad = Tensor::<3>::from_data(kept, &device.autodiff()).require_grad();
        let grads = fused_self_attention(ad.clone(), 4).sum().backward();
        assert_eq!(ad.grad(&grads).expect("gradient").dims(), [2, 29, 144]);
    }

    #[test]
    fn autodiff_tensors_keep_their_gradient() {
        let device = Device::default().autodiff();
        let x = Tensor::<2>::from_floats([[-1.5, 0.0, 0.7, 3.0]], &device).require_grad();
        let grads = exact_gelu(x.clone()).sum().backward();
        let g = x.grad(&grads).expect("gradient").into_data();
        // d/dx gelu at -1.5, 0, 0.7, 3 (from the exact derivative Φ(x) + x·φ(x)).
        let want = [-0.127_469, 0.5, 0.976_614, 1.011_946];
        for (got, want) in g.iter::<f32>().zip(want) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }
}
