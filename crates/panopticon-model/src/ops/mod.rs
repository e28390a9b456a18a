//! Activations and attention faster than the backend's own where its kernel is slow.

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

/// What [`linear`] does to its output `y = x·W + b`.
#[allow(clippy::large_enum_variant)] // short-lived, passed by value once per layer
pub enum Then {
    /// Nothing: `y`.
    Nothing,
    /// The exact GELU ([`gelu`]) of `y`.
    Gelu,
    /// `residual + gamma ⊙ y`: a LayerScale'd residual branch (`gamma` absent: no LayerScale).
    AddTo {
        /// `[B, N, d_out]`.
        residual: Tensor<3>,
        /// `[d_out]`.
        gamma: Option<Tensor<1>>,
    },
}

/// `then(layer(x))`: a `Linear` and what follows it in a transformer block, in one pass.
///
/// On a Flex (CPU) device, f32 and without autodiff, the GEMM writes the output once and one
/// pass adds the bias and applies `then` (Burn's route allocates and sweeps `[B, N, d_out]`
/// up to four more times). Everywhere else it is Burn's `Linear` followed by the same
/// operations.
///
/// # Shapes
/// - `x`: `[B, N, d_in]` → `[B, N, d_out]`
pub fn linear(x: Tensor<3>, layer: &burn::nn::Linear, then: Then) -> Tensor<3> {
    linear_with(x, layer, None, then)
}

/// [`linear`], reading the weight from `panels` (`layer`'s weight laid out for few rows, see
/// [`Panels`]) when `x` has few rows (one or two images).
///
/// # Shapes
/// - `x`: `[B, N, d_in]` → `[B, N, d_out]`
pub fn linear_with(
    x: Tensor<3>,
    layer: &burn::nn::Linear,
    panels: Option<&Panels>,
    then: Then,
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
            return flex::linear(x, weight, panels, bias, then);
        }
    }
    let _ = panels;
    linear_generic(x, layer, then)
}

/// [`linear`] as Burn operations (any backend, autodiff).
fn linear_generic(x: Tensor<3>, layer: &burn::nn::Linear, then: Then) -> Tensor<3> {
    then.apply(layer.forward(x))
}

impl Then {
    /// Applies `self` to `y` with Burn operations.
    pub fn apply(self, y: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Nothing => y,
            Self::Gelu => gelu(y),
            Self::AddTo { residual, gamma } => match gamma {
                Some(g) => residual + y * g.unsqueeze::<3>(),
                None => residual + y,
            },
        }
    }
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
                Then::Nothing,
                Then::Gelu,
                Then::AddTo {
                    residual: res.clone(),
                    gamma: Some(gamma.clone()),
                },
                Then::AddTo {
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
                let got = linear(x.clone(), &layer, then);
                let want = linear_generic(x.clone(), &layer, want);
                assert_eq!(got.dims(), [3, 17, 70]);
                assert!(max_diff(got, want) <= 2e-6);
            }
        }
        // A non-contiguous input takes the same route.
        let xt = x.clone().swap_dims(0, 1);
        let got = linear(xt.clone(), &layer, Then::Gelu);
        assert!(max_diff(got, linear_generic(xt, &layer, Then::Gelu)) <= 2e-6);
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
        let then = || Then::Gelu;
        let own = Panels::new();
        assert!(!own.is_laid_out());
        let got = linear_with(x.clone(), &layer, Some(&own), then());
        assert!(
            own.is_laid_out(),
            "a first call with few rows lays the weight out"
        );
        assert!(max_diff(got, linear_generic(x.clone(), &layer, then())) <= 2e-6);
        // Panels of another weight (with `layer`'s bias): proof that they are what is read.
        let mut swapped = other.clone();
        swapped.bias = layer.bias.clone();
        let foreign = Panels::new();
        assert!(foreign.for_rows(&other, 34).is_some());
        let got = linear_with(x.clone(), &layer, Some(&foreign), then());
        assert!(max_diff(got, linear_generic(x.clone(), &swapped, then())) <= 2e-6);
        // Panels of another shape are ignored.
        let wide = Panels::new();
        assert!(
            wide.for_rows(&LinearConfig::new(40, 71).init(&device), 34)
                .is_some()
        );
        let got = linear_with(x.clone(), &layer, Some(&wide), then());
        assert!(max_diff(got, linear_generic(x.clone(), &layer, then())) <= 2e-6);
        // A first call with many rows (a batch workload) never lays the weight out.
        let batchy = Panels::new();
        let big = Tensor::<3>::random([3, 257, 40], Distribution::Normal(0.0, 1.0), &device);
        let got = linear_with(big.clone(), &layer, Some(&batchy), then());
        assert!(max_diff(got, linear_generic(big, &layer, then())) <= 2e-6);
        let _ = linear_with(x, &layer, Some(&batchy), then());
        assert!(!batchy.is_laid_out());
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
