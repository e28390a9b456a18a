//! # panopticon-eval
//!
//! Frozen-feature evaluation of Panopticon (spec §6): the weighted kNN classifier (§6.3),
//! the grid of linear probes trained together on cached features (§6.4), the metrics with
//! torchmetrics 0.10.3 semantics (§6.5) and the result files (§6.1).
//!
//! [`datasets`] reads the EuroSAT-SAR, RESISC45, BigEarthNet v2 (webdataset shards) and
//! SpectralEarth Corine evaluation sets (spec §5.7, §5.9) with the eval transforms (§4.10);
//! [`task`] parses TOML task configs (§6.6) and runs a task end to end (cached features,
//! kNN or probes; multilabel datasets make multilabel tasks), as `panopticon eval` does.
//!
//! Library code takes a `&Device` and never names a backend. Features are Burn tensors;
//! metrics work on host `f32` score rows.
//!
//! ```
//! use burn::prelude::*;
//! use panopticon_eval::{KnnConfig, Labels, Split};
//!
//! # fn main() -> panopticon_eval::Result<()> {
//! let device = Device::default();
//! // Two well-separated classes in 2-D.
//! let x = |v: Vec<f32>, n| Tensor::<2>::from_data(TensorData::new(v, [n, 2]), &device);
//! let train = Split::new(
//!     "train",
//!     x(vec![1.0, 0.1, 0.9, -0.1, 0.1, 1.0, -0.1, 0.9], 4),
//!     Labels::multiclass(&[0, 0, 1, 1], 2)?,
//! )?;
//! let test = Split::new("test", x(vec![1.0, 0.0, 0.0, 1.0], 2), Labels::multiclass(&[0, 1], 2)?)?;
//! let report = KnnConfig { ks: vec![2], ..KnnConfig::default() }.run("demo_knn", &train, None, &test)?;
//! assert_eq!(report.results.rows[0].metric, "acc_top-1_micro");
//! assert_eq!(report.results.rows[0].value, 1.0);
//! print!("{}", report.results.to_table()); // or .write_all(dir) for results.{csv,json,txt}
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod datasets;
mod error;
mod extract;
mod knn;
mod labels;
pub mod metrics;
pub mod probe;
mod results;
mod rng;
mod split;
pub mod task;

pub use error::{EvalError, Result};
pub use extract::{FeatureCache, extract_features};
pub use knn::{KSelection, KnnConfig, KnnReport, knn_scores};
pub use labels::Labels;
pub use metrics::{Average, Metric};
pub use results::{ResultRow, Results};
pub use rng::SplitMix64;
pub use split::Split;
