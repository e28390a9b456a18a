//! A task config parsed and checked: dataset, kNN or probe settings, blocks and transform.

use std::path::{Path, PathBuf};

use super::schema::{TaskFile, cfg_err};
use crate::datasets::{DatasetKind, EvalTransform};
use crate::error::{EvalError, Result};
use crate::knn::KnnConfig;
use crate::metrics::Metric;
use crate::probe::ProbeConfig;

/// What a task does with the features.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskKind {
    /// Weighted kNN (spec §6.3).
    Knn(KnnConfig),
    /// The linear-probe grid (spec §6.4).
    Linear(ProbeConfig),
}

/// A parsed, checked task config.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskConfig {
    /// Task name: the config path relative to the tasks folder, without `.toml`.
    pub name: String,
    /// The config file.
    pub path: PathBuf,
    /// kNN or linear, with its settings.
    pub kind: TaskKind,
    /// The dataset.
    pub dataset: DatasetKind,
    /// Dataset root (resolved).
    pub root: PathBuf,
    /// Training split (the kNN memory / probe training set).
    pub train: String,
    /// Validation split (probe selection; kNN k selection).
    pub val: Option<String>,
    /// Test split (reported).
    pub test: String,
    /// Number of classes.
    pub num_classes: usize,
    /// Test-time transform.
    pub transform: EvalTransform,
    /// Samples per forward pass.
    pub batch_size: usize,
    /// Backbone blocks extracted.
    pub n_last_blocks: usize,
    /// Fraction of the training shards kept (benv2_webdataset only).
    pub train_subset: Option<f64>,
}

impl TaskConfig {
    /// Reads and checks the task config at `path`, named `name`.
    pub fn from_file(path: &Path, name: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::Dataset {
            path: path.to_path_buf(),
            reason: format!("cannot read task config: {e}"),
        })?;
        Self::parse(&text, path, name)
    }

    /// Parses a task config; `path` locates relative dataset roots and labels errors.
    pub fn parse(text: &str, path: &Path, name: &str) -> Result<Self> {
        let file = TaskFile::parse(text, path)?;
        let dataset = file.dataset.kind(path)?;
        let multilabel = dataset.is_multilabel();
        file.dataset.check_subset(dataset, path)?;
        let root = file.dataset.root(path)?;
        if file.batch_size == 0 {
            return Err(cfg_err(path, "batch_size", 0, "must be at least 1"));
        }
        let num_classes = file.dataset.num_classes(dataset, path)?;
        let kind = match (file.task_type.as_str(), file.knn, file.linear) {
            ("knn", Some(_) | None, Some(_)) | ("linear", Some(_), _) => {
                return Err(cfg_err(
                    path,
                    "type",
                    format!("\"{}\"", file.task_type),
                    "a knn task takes a [knn] table, a linear task a [linear] table, not both kinds",
                ));
            }
            ("knn", knn, None) => TaskKind::Knn(knn.unwrap_or_default().into_config(
                path,
                multilabel,
                file.dataset.val.is_some(),
            )?),
            ("linear", None, Some(s)) => TaskKind::Linear(s.into_config(
                path,
                multilabel,
                file.dataset.val.is_some(),
                file.batch_size,
            )?),
            (other, _, _) => {
                return Err(cfg_err(
                    path,
                    "type",
                    format!("\"{other}\""),
                    "use \"knn\" or \"linear\"",
                ));
            }
        };
        let task_metrics = match &kind {
            TaskKind::Knn(k) => &k.metrics,
            TaskKind::Linear(p) => &p.metrics,
        };
        if let Some(Metric::Accuracy { top_k, .. }) = task_metrics
            .iter()
            .find(|m| matches!(m, Metric::Accuracy { top_k, .. } if *top_k > num_classes))
        {
            return Err(cfg_err(
                path,
                "metrics",
                format!("acc_top-{top_k}"),
                &format!("top-k needs k ≤ num_classes = {num_classes}"),
            ));
        }
        let needed = match &kind {
            TaskKind::Knn(_) => 1,
            TaskKind::Linear(c) => c.n_last_blocks.iter().copied().max().unwrap_or(1),
        };
        let n_last_blocks = file.n_last_blocks.unwrap_or(needed);
        if n_last_blocks < needed {
            return Err(cfg_err(
                path,
                "n_last_blocks",
                n_last_blocks,
                &format!("must be at least {needed} (the largest block count the task uses)"),
            ));
        }
        let transform = file.transform.into_transform(dataset, path)?;
        Ok(Self {
            name: name.to_string(),
            path: path.to_path_buf(),
            kind,
            dataset,
            root,
            train: file.dataset.train,
            val: file.dataset.val,
            test: file.dataset.test,
            num_classes,
            transform,
            batch_size: file.batch_size,
            n_last_blocks,
            train_subset: file.dataset.train_subset,
        })
    }
}
