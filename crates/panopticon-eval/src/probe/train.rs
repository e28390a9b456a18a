//! One pass of SGD over cached features for every head, with closed-form gradients.
//!
//! Heads of one (blocks, pooling) group read the same input, so their weights are stacked
//! into one `[dim, H·C]` matrix: a batch costs two matmuls per group whatever `H` is.
//! The total loss is the sum of per-head losses, so each head's gradient is its own loss's.

use burn::prelude::*;
use burn::tensor::activation::{sigmoid, softmax};

use super::config::{ProbeConfig, ProbeHead};
use super::features::ProbeFeatures;
use super::split::ProbeSplit;
use crate::error::{EvalError, Result};
use crate::rng::SplitMix64;
use crate::split::to_host;

const MOMENTUM: f32 = 0.9;

/// The sample indices of every iteration: consecutive `batch_size` slices of an endless
/// stream of seeded permutations (an infinite shuffled sampler without `drop_last`).
pub(crate) fn batch_schedule(n: usize, batch: usize, iters: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = SplitMix64::new(seed);
    let mut perm = Vec::new();
    let mut pos = 0;
    (0..iters)
        .map(|_| {
            (0..batch)
                .map(|_| {
                    if pos == perm.len() {
                        perm = rng.permutation(n);
                        pos = 0;
                    }
                    pos += 1;
                    perm[pos - 1]
                })
                .collect()
        })
        .collect()
}

/// Cosine annealing from 1 to 0 over `max_iter` steps, factor for step `t` (0-based).
fn cosine(t: usize, max_iter: usize) -> f64 {
    0.5 * (1.0 + (std::f64::consts::PI * t as f64 / max_iter as f64).cos())
}

/// Indices of `heads` per group (grid order), checking each head's shape.
fn grouped(
    cfg: &ProbeConfig,
    heads: &[ProbeHead],
    features: &ProbeFeatures,
    c: usize,
) -> Result<Vec<Vec<usize>>> {
    let groups = cfg.groups();
    let mut out = vec![Vec::new(); groups.len()];
    for (i, h) in heads.iter().enumerate() {
        let g = groups
            .iter()
            .position(|&(n, p)| n == h.n_blocks && p == h.pooling)
            .ok_or_else(|| EvalError::Config {
                field: "heads".into(),
                value: h.name.clone(),
                reason: "reads a (blocks, pooling) pair that is not in the config's grid".into(),
            })?;
        let dim = features.pooled_dim(h.n_blocks, h.pooling);
        if h.weight.len() != c * dim || h.bias.len() != c {
            return Err(EvalError::Shape {
                what: format!("weight of head {} ([{c}, {dim}] expected)", h.name),
                expected: c * dim,
                got: h.weight.len(),
            });
        }
        out[g].push(i);
    }
    Ok(out)
}

/// Stacks the heads of a group as `W: [dim, H·C]`, `b: [1, H·C]`.
fn stack(
    heads: &[ProbeHead],
    idx: &[usize],
    dim: usize,
    c: usize,
    device: &Device,
) -> (Tensor<2>, Tensor<2>) {
    let hc = idx.len() * c;
    let mut w = vec![0f32; dim * hc];
    let mut b = vec![0f32; hc];
    for (k, &i) in idx.iter().enumerate() {
        for ci in 0..c {
            for d in 0..dim {
                w[d * hc + k * c + ci] = heads[i].weight[ci * dim + d];
            }
            b[k * c + ci] = heads[i].bias[ci];
        }
    }
    (
        Tensor::from_data(TensorData::new(w, [dim, hc]), device),
        Tensor::from_data(TensorData::new(b, [1, hc]), device),
    )
}

/// Writes a stacked group back into the heads.
fn unstack(
    heads: &mut [ProbeHead],
    idx: &[usize],
    w: Tensor<2>,
    b: Tensor<2>,
    dim: usize,
    c: usize,
) {
    let hc = idx.len() * c;
    let (w, b) = (to_host(w), to_host(b));
    for (k, &i) in idx.iter().enumerate() {
        for ci in 0..c {
            for d in 0..dim {
                heads[i].weight[ci * dim + d] = w[d * hc + k * c + ci];
            }
            heads[i].bias[ci] = b[k * c + ci];
        }
    }
}

/// Trains every head (SGD, momentum 0.9, no weight decay, cosine lr) and returns them.
pub(crate) fn train_heads(
    cfg: &ProbeConfig,
    mut heads: Vec<ProbeHead>,
    train: &ProbeSplit,
    device: &Device,
) -> Result<Vec<ProbeHead>> {
    let c = train.labels.num_classes();
    let n = train.len();
    let max_iter = cfg.max_iter(n);
    let batches = batch_schedule(n, cfg.batch_size, max_iter, cfg.sampler_seed);
    let dense = train.labels.dense(); // [N, C]
    for (gi, (nb, pooling)) in cfg.groups().into_iter().enumerate() {
        let idx = &grouped(cfg, &heads, &train.features, c)?[gi];
        if idx.is_empty() {
            continue;
        }
        let h = idx.len();
        let hc = h * c;
        let dim = train.features.pooled_dim(nb, pooling);
        let x = train.features.pooled(nb, pooling)?; // [N, dim]
        let (mut w, mut b) = stack(&heads, idx, dim, c, device);
        let mut mw = Tensor::<2>::zeros([dim, hc], device);
        let mut mb = Tensor::<2>::zeros([1, hc], device);
        for (t, batch) in batches.iter().enumerate() {
            let bs = batch.len();
            let rows = Tensor::<1, Int>::from_data(
                TensorData::new(batch.iter().map(|&i| i as i64).collect::<Vec<_>>(), [bs]),
                device,
            );
            let xb = x.clone().select(0, rows); // [bs, dim]
            let yb: Vec<f32> = batch
                .iter()
                .flat_map(|&i| dense[i * c..(i + 1) * c].iter().copied())
                .collect();
            let yb =
                Tensor::<3>::from_data(TensorData::new(yb, [bs, 1, c]), device).expand([bs, h, c]);
            let logits = (xb.clone().matmul(w.clone()) + b.clone()).reshape([bs, h, c]);
            // d(mean loss)/d(logits): CE → (softmax − y)/bs; soft-margin → (σ − y)/(bs·C).
            let g = if cfg.multilabel {
                (sigmoid(logits) - yb) / (bs * c) as f32
            } else {
                (softmax(logits, 2) - yb) / bs as f32
            }
            .reshape([bs, hc]);
            let gw = xb.transpose().matmul(g.clone()); // [dim, hc]
            let gb = g.sum_dim(0); // [1, hc]
            mw = mw * MOMENTUM + gw;
            mb = mb * MOMENTUM + gb;
            let f = cosine(t, max_iter);
            let lr: Vec<f32> = idx
                .iter()
                .flat_map(|&i| std::iter::repeat_n((heads[i].lr * f) as f32, c))
                .collect();
            let lr = Tensor::<2>::from_data(TensorData::new(lr, [1, hc]), device);
            w = w - mw.clone() * lr.clone();
            b = b - mb.clone() * lr;
        }
        unstack(&mut heads, idx, w, b, dim, c);
    }
    Ok(heads)
}

/// Logits of every head on `features`, one `[N, C]` row-major matrix per head (heads order).
pub(crate) fn head_scores(
    cfg: &ProbeConfig,
    heads: &[ProbeHead],
    features: &ProbeFeatures,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let c = heads.first().map_or(0, |h| h.bias.len());
    let n = features.len();
    let mut out = vec![Vec::new(); heads.len()];
    for (gi, idx) in grouped(cfg, heads, features, c)?.iter().enumerate() {
        if idx.is_empty() {
            continue;
        }
        let (nb, pooling) = cfg.groups()[gi];
        let dim = features.pooled_dim(nb, pooling);
        let hc = idx.len() * c;
        let (w, b) = stack(heads, idx, dim, c, device);
        let logits = to_host(features.pooled(nb, pooling)?.matmul(w) + b); // [N, hc]
        for (k, &i) in idx.iter().enumerate() {
            out[i] = (0..n)
                .flat_map(|r| logits[r * hc + k * c..r * hc + (k + 1) * c].iter().copied())
                .collect();
        }
    }
    Ok(out)
}
