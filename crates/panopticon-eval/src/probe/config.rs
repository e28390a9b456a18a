//! The probe grid's settings and the heads it trains: one per (last n blocks, pooling,
//! learning rate).

use super::features::{Pooling, ProbeFeatures};
use crate::error::{EvalError, Result};
use crate::metrics::{Average, Metric};
use crate::rng::SplitMix64;

/// The base learning-rate grid of `default_eval_linear.yaml`.
pub const LR_GRID: [f64; 16] = [
    1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.3, 0.5,
];

/// Linear-probe task settings (spec §6.4).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeConfig {
    /// `n_last_blocks_list`, default `[1, 4]`.
    pub n_last_blocks: Vec<usize>,
    /// Poolings, default `[Avgpool, Cls]`.
    pub poolings: Vec<Pooling>,
    /// Base learning rates, scaled by `batch_size / 256`.
    pub base_lrs: Vec<f64>,
    /// Samples per iteration.
    pub batch_size: usize,
    /// Epochs; `max_iter = ceil(N_train · epochs / batch_size)`.
    pub epochs: usize,
    /// Seed of the shuffled infinite sampler (upstream: 0).
    pub sampler_seed: u64,
    /// Seed of the `N(0, 0.01²)` weight initialisation.
    pub init_seed: u64,
    /// Validation metrics; the first one picks the head reported on test.
    pub metrics: Vec<Metric>,
    /// `true`: multilabel soft-margin loss; `false`: cross-entropy.
    pub multilabel: bool,
}

impl ProbeConfig {
    /// Classification defaults (`default_eval_linear.yaml`): 64 heads, CE loss, val metrics
    /// top-1 micro, top-1 macro, top-5 micro.
    pub fn classification(epochs: usize, batch_size: usize) -> Self {
        Self {
            n_last_blocks: vec![1, 4],
            poolings: vec![Pooling::Avgpool, Pooling::Cls],
            base_lrs: LR_GRID.to_vec(),
            batch_size,
            epochs,
            sampler_seed: 0,
            init_seed: 0,
            metrics: vec![
                Metric::TOP1_MICRO,
                Metric::TOP1_MACRO,
                Metric::Accuracy {
                    top_k: 5,
                    average: Average::Micro,
                },
            ],
            multilabel: false,
        }
    }

    /// Multilabel defaults (`default_eval_linear_multilabel.yaml`): the grid plus lr 1.0
    /// (68 heads), soft-margin loss, val metrics AP micro and macro (what every multilabel task
    /// config sets; the unused `MultilabelAccuracy` defaults are not implemented).
    pub fn multilabel(epochs: usize, batch_size: usize) -> Self {
        let mut base_lrs = LR_GRID.to_vec();
        base_lrs.push(1.0);
        Self {
            base_lrs,
            metrics: vec![Metric::AP_MICRO, Metric::AP_MACRO],
            multilabel: true,
            ..Self::classification(epochs, batch_size)
        }
    }

    /// Iterations of the run: `ceil(n_train · epochs / batch_size)`.
    pub fn max_iter(&self, n_train: usize) -> usize {
        (n_train * self.epochs).div_ceil(self.batch_size.max(1))
    }

    /// `classifier_{n}_blocks_pooling_{pool}_lr_{lr:.5f}` with `.` → `_` (upstream names).
    pub fn head_name(n: usize, pooling: Pooling, lr: f64) -> String {
        format!(
            "classifier_{n}_blocks_pooling_{}_lr_{lr:.5}",
            pooling.name()
        )
        .replace('.', "_")
    }

    /// Fresh heads for every grid point (blocks-major, then pooling, then lr), weights
    /// `N(0, 0.01²)` from `init_seed`, biases 0.
    pub fn init_heads(
        &self,
        features: &ProbeFeatures,
        num_classes: usize,
    ) -> Result<Vec<ProbeHead>> {
        self.check(features)?;
        let mut rng = SplitMix64::new(self.init_seed);
        let mut heads = Vec::new();
        for &n in &self.n_last_blocks {
            for &pooling in &self.poolings {
                let dim = features.pooled_dim(n, pooling);
                for &base_lr in &self.base_lrs {
                    let lr = base_lr * self.batch_size as f64 / 256.0;
                    heads.push(ProbeHead {
                        name: Self::head_name(n, pooling, lr),
                        n_blocks: n,
                        pooling,
                        lr,
                        weight: (0..num_classes * dim)
                            .map(|_| (0.01 * rng.normal()) as f32)
                            .collect(),
                        bias: vec![0.0; num_classes],
                    });
                }
            }
        }
        Ok(heads)
    }

    /// The (n blocks, pooling) groups, in grid order.
    pub(crate) fn groups(&self) -> Vec<(usize, Pooling)> {
        self.n_last_blocks
            .iter()
            .flat_map(|&n| self.poolings.iter().map(move |&p| (n, p)))
            .collect()
    }

    pub(super) fn check(&self, features: &ProbeFeatures) -> Result<()> {
        let bad = |field: &str, value: String, reason: String| {
            Err(EvalError::Config {
                field: field.into(),
                value,
                reason,
            })
        };
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "must be >= 1".into());
        }
        if self.epochs == 0 {
            return bad("epochs", "0".into(), "must be >= 1".into());
        }
        if self.base_lrs.is_empty() || self.base_lrs.iter().any(|&l| !(l > 0.0 && l.is_finite())) {
            return bad(
                "base_lrs",
                format!("{:?}", self.base_lrs),
                "needs positive, finite rates".into(),
            );
        }
        if self.poolings.is_empty() {
            return bad("poolings", "[]".into(), "needs at least one pooling".into());
        }
        if self.metrics.is_empty() {
            return bad(
                "metrics",
                "[]".into(),
                "needs at least one metric (the first selects)".into(),
            );
        }
        let b = features.num_blocks();
        if self.n_last_blocks.is_empty() || self.n_last_blocks.iter().any(|&n| n == 0 || n > b) {
            return bad(
                "n_last_blocks",
                format!("{:?}", self.n_last_blocks),
                format!("each n must be in 1..={b} (the number of cached blocks)"),
            );
        }
        Ok(())
    }
}

/// One linear head, kept on the host in PyTorch layout.
///
/// # Shapes
/// `weight`: `[C, dim]` row-major (`nn.Linear.weight`); `bias`: `[C]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeHead {
    /// Upstream classifier name.
    pub name: String,
    /// Number of last blocks read.
    pub n_blocks: usize,
    /// Pooling of the input.
    pub pooling: Pooling,
    /// Scaled learning rate (`base · batch / 256`).
    pub lr: f64,
    /// Weight, `[C, dim]` row-major.
    pub weight: Vec<f32>,
    /// Bias, `[C]`.
    pub bias: Vec<f32>,
}
