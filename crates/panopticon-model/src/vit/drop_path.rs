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
