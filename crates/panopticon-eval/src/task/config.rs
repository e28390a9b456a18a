//! A task config parsed and checked: dataset, kNN or probe settings, blocks and transform.

use std::path::{Path, PathBuf};

use super::schema::{SizeSpec, TaskFile, cfg_err};
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

/// Expands a leading `$VAR/` (e.g. `$RDIR/datasets/...`) and resolves relative paths
/// against `base` (the config file's folder).
fn resolve_root(root: &str, base: &Path, path: &Path) -> Result<PathBuf> {
    let expanded = if let Some(rest) = root.strip_prefix('$') {
        let (var, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let value = std::env::var(var).map_err(|_| {
            cfg_err(
                path,
                "dataset.root",
                format!("\"{root}\""),
                &format!("environment variable {var} is not set"),
            )
        })?;
        Path::new(&value).join(tail)
    } else {
        PathBuf::from(root)
    };
    Ok(if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    })
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
        let file: TaskFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!("line {}: ", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            EvalError::Dataset {
                path: path.to_path_buf(),
                reason: format!("{line}{}", e.message().trim().replace('\n', " ")),
            }
        })?;
        let dataset = DatasetKind::parse(&file.dataset.id, file.dataset.bands.as_deref()).map_err(
            |e| match e {
                EvalError::Config {
                    field,
                    value,
                    reason,
                } => cfg_err(path, &field, value, &reason),
                other => other,
            },
        )?;
        let multilabel = dataset.is_multilabel();
        if let Some(f) = file.dataset.train_subset {
            if !matches!(
                dataset,
                DatasetKind::Benv2Webdataset(_) | DatasetKind::GeoBench(_)
            ) {
                return Err(cfg_err(
                    path,
                    "dataset.train_subset",
                    f,
                    "only benv2_webdataset (shards) and geobench.* (samples) take a subset",
                ));
            }
            if !(f > 0.0 && f <= 1.0) {
                return Err(cfg_err(
                    path,
                    "dataset.train_subset",
                    f,
                    "a fraction of the training shards / samples, in (0, 1]",
                ));
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let root = resolve_root(&file.dataset.root, base, path)?;
        if file.batch_size == 0 {
            return Err(cfg_err(path, "batch_size", 0, "must be at least 1"));
        }
        let num_classes = file.dataset.num_classes.unwrap_or(dataset.num_classes());
        if num_classes == 0 {
            return Err(cfg_err(
                path,
                "dataset.num_classes",
                0,
                "must be at least 1",
            ));
        }
        if multilabel && num_classes != dataset.num_classes() {
            return Err(cfg_err(
                path,
                "dataset.num_classes",
                num_classes,
                &format!(
                    "{} targets have {} labels (upstream yamls say 43; the data hold 19)",
                    dataset.id(),
                    dataset.num_classes()
                ),
            ));
        }
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
        let size = |field: &str, s: &Option<SizeSpec>| -> Result<Option<(usize, usize)>> {
            match s.as_ref().map(SizeSpec::hw) {
                Some((h, w)) if h == 0 || w == 0 => Err(cfg_err(
                    path,
                    field,
                    format!("[{h}, {w}]"),
                    "sizes must be ≥ 1",
                )),
                other => Ok(other),
            }
        };
        let transform = EvalTransform {
            resize: size("transform.resize", &file.transform.resize)?,
            center_crop: size("transform.center_crop", &file.transform.center_crop)?,
            chn_select: file.transform.chn_select,
        };
        if let Some(sel) = &transform.chn_select {
            let c = dataset.chn_ids()?.len();
            if sel.is_empty() || sel.iter().any(|&i| i >= c) {
                return Err(cfg_err(
                    path,
                    "transform.chn_select",
                    format!("{sel:?}"),
                    &format!(
                        "indices must be in 0..{c} ({} has {c} channels)",
                        dataset.id()
                    ),
                ));
            }
        }
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
