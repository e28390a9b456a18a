//! # panopticon-eval
//!
//! Frozen-feature evaluation of Panopticon (spec §6): the weighted kNN classifier (§6.3),
//! the grid of linear probes trained together on cached features (§6.4), the metrics with
//! torchmetrics 0.10.3 semantics (§6.5) and the result files (§6.1).
//!
//! Library code takes a `&Device` and never names a backend. Features are Burn tensors;
//! metrics work on host `f32` score rows.

mod error;
mod knn;
mod labels;
pub mod metrics;
pub mod probe;
mod results;
mod rng;
mod split;

pub use error::{EvalError, Result};
pub use knn::{KSelection, KnnConfig, KnnReport, knn_scores};
pub use labels::Labels;
pub use metrics::{Average, Metric};
pub use results::{ResultRow, Results};
pub use rng::SplitMix64;
pub use split::Split;
