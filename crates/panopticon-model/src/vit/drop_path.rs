//! Stochastic depth for training (DINOv2 `drop_add_residual_stochastic_depth` / `DropPath`).

use burn::prelude::*;
use burn::tensor::{Distribution, IndexingUpdateOp};

/// Adds `branch(x)` to `x` with stochastic depth rate `p` when training on an autodiff device.
///
/// - `p > 0.1`: the branch runs on a random subset of `max(⌊B·(1−p)⌋, 1)` samples and is
///   added back scaled by `B / keep` (the batch-subset variant, which also saves compute);
/// - `0 < p ≤ 0.1`: classic per-sample DropPath (drop with prob `p`, scale kept by `1/(1−p)`);
/// - otherwise (or at inference): `x + branch(x)`.
///
/// # Shapes
/// - `x`: `[B, N, D]` → `[B, N, D]`
pub fn residual(x: Tensor<3>, p: f64, branch: impl Fn(Tensor<3>) -> Tensor<3>) -> Tensor<3> {
    let training = x.device().is_autodiff();
    if !training || p <= 0.0 {
        return x.clone() + branch(x);
    }
    let [b, n, d] = x.dims();
    let device = x.device();
    if p > 0.1 {
        let keep = ((b as f64 * (1.0 - p)) as usize).max(1);
        // A random permutation prefix: argsort of uniform noise.
        let noise = Tensor::<1>::random([b], Distribution::Uniform(0.0, 1.0), &device);
        let idx = noise.argsort(0).narrow(0, 0, keep);
        let sub = x.clone().select(0, idx.clone());
        let out = branch(sub) * (b as f64 / keep as f64);
        x.select_assign(0, idx, out, IndexingUpdateOp::Add)
    } else {
        let keep = Tensor::<3>::random([b, 1, 1], Distribution::Bernoulli(1.0 - p), &device);
        let out = branch(x.clone()) * keep.expand([b, n, d]) / (1.0 - p);
        x + out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per-sample increments `out − x` for a branch that returns ones.
    fn increments(device: &Device, p: f64) -> Vec<f32> {
        let x = Tensor::<3>::zeros([8, 2, 3], device);
        let out = residual(x, p, |x| x.ones_like());
        let v: Vec<f32> = out.into_data().try_into_vec_as::<f32>().unwrap();
        v.chunks(6)
            .map(|c| {
                assert!(
                    c.iter().all(|&e| e == c[0]),
                    "whole samples are dropped or kept"
                );
                c[0]
            })
            .collect()
    }

    #[test]
    fn inference_never_drops() {
        assert_eq!(increments(&Device::default(), 0.5), vec![1.0; 8]);
    }

    #[test]
    fn batch_subset_variant_above_0_1() {
        let inc = increments(&Device::default().autodiff(), 0.5);
        // keep = ⌊8·0.5⌋ = 4 samples get the branch scaled by 8/4, the others nothing.
        assert_eq!(inc.iter().filter(|&&v| v == 2.0).count(), 4, "{inc:?}");
        assert_eq!(inc.iter().filter(|&&v| v == 0.0).count(), 4, "{inc:?}");
    }

    #[test]
    fn classic_drop_path_up_to_0_1() {
        let device = Device::default().autodiff();
        let scale = 1.0 / (1.0 - 0.1f32);
        let mut dropped = 0;
        for _ in 0..20 {
            for v in increments(&device, 0.1) {
                assert!(v == 0.0 || (v - scale).abs() < 1e-6, "{v}");
                dropped += (v == 0.0) as usize;
            }
        }
        assert!(
            (2..=45).contains(&dropped),
            "~16 of 160 expected, got {dropped}"
        );
    }
}
