//! Evaluation task configs (spec §6.6, as TOML) and the driver that runs one task end to
//! end: open the splits, extract (cached) features, run kNN or the linear-probe grid.
//!
//! ```toml
//! type = "knn"                 # or "linear"
//! batch_size = 64
//! # n_last_blocks = 1          # blocks extracted (knn: 1, linear: max of n_last_blocks_list)
//!
//! [dataset]
//! id = "eurosat-sar"           # or "resisc45", "benv2_webdataset", "benv2", "corine",
//!                              # "geobench.m-eurosat", ... (see DATASET_IDS)
//! root = "$RDIR/datasets/eurosat_SAR"   # relative paths: from the config file's folder
//! train = "small_train"
//! # val = "val"
//! test = "test"
//! # num_classes = 10           # default: the dataset's class count
//! # bands = "s2"               # benv2_webdataset: "s1", "s2" or "all"
//! # train_subset = 0.1         # benv2_webdataset: fraction of the training shards;
//!                              # geobench.*: fraction of the training samples
//!
//! [transform]                  # applied in this order (spec §4.10)
//! resize = 224                 # or [h, w]
//! # center_crop = 224
//! # chn_select = [1, 0]
//!
//! [knn]
//! ks = [20]
//! # temperature = 0.07
//! # metrics = ["acc_top-1_micro", "acc_top-1_macro"]
//! # k_selection = "best_on_test"   # or "validation" (needs dataset.val)
//! ```
//!
//! Multilabel datasets (BigEarthNet v2, Corine, GeoBench m-bigearthnet) make multilabel tasks: the kNN variant
//! of spec §6.3 and probes with the multilabel soft-margin loss and the 17-rate grid
//! (`base_lrs` default adds 1.0); their metrics are `MulLabAvergPrec_{micro|macro}` and
//! `MulLabF1ScoreMacro_{micro|macro}` (default AP micro, AP macro).
//!
//! Linear tasks have a `[linear]` table instead: `epochs` (required), `n_last_blocks_list`
//! (`[1, 4]`), `poolings` (`["avgpool", "cls"]`; also `DOFA_globalpool`, `DOFA_no_globalpool`), `base_lrs` (the 16-value grid), `metrics`
//! (top-1 micro, top-1 macro, top-5 micro), `sampler_seed`, `init_seed` (0). Unknown keys
//! are errors.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use panopticon_model::FrozenPanopticon;
use serde::Deserialize;

use crate::datasets::{DatasetKind, EvalDataset, EvalTransform, Targets};
use crate::error::{EvalError, Result};
use crate::extract::{FeatureCache, extract_features};
use crate::knn::{KSelection, KnnConfig};
use crate::labels::Labels;
use crate::metrics::{Average, Metric};
use crate::probe::{Pooling, ProbeConfig, ProbeFeatures, ProbeSplit};
use crate::results::{Results, write_atomic};
use crate::split::Split;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    #[serde(rename = "type")]
    task_type: String,
    #[serde(default = "default_batch")]
    batch_size: usize,
    n_last_blocks: Option<usize>,
    dataset: DatasetSection,
    #[serde(default)]
    transform: TransformSection,
    knn: Option<KnnSection>,
    linear: Option<LinearSection>,
}

fn default_batch() -> usize {
    64
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetSection {
    id: String,
    root: String,
    train: String,
    val: Option<String>,
    test: String,
    num_classes: Option<usize>,
    bands: Option<String>,
    train_subset: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeSpec {
    Square(usize),
    Pair([usize; 2]),
}

impl SizeSpec {
    fn hw(&self) -> (usize, usize) {
        match *self {
            Self::Square(s) => (s, s),
            Self::Pair([h, w]) => (h, w),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransformSection {
    resize: Option<SizeSpec>,
    center_crop: Option<SizeSpec>,
    chn_select: Option<Vec<usize>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnnSection {
    ks: Option<Vec<usize>>,
    temperature: Option<f32>,
    metrics: Option<Vec<String>>,
    k_selection: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinearSection {
    epochs: usize,
    n_last_blocks_list: Option<Vec<usize>>,
    poolings: Option<Vec<String>>,
    base_lrs: Option<Vec<f64>>,
    metrics: Option<Vec<String>>,
    sampler_seed: Option<u64>,
    init_seed: Option<u64>,
}

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

fn cfg_err(path: &Path, field: &str, value: impl std::fmt::Display, reason: &str) -> EvalError {
    EvalError::Config {
        field: format!("{field}` in `{}", path.display()),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Parses a metric key of `results.csv` (`acc_top-{k}_{micro|macro}`,
/// `MulLabAvergPrec_{avg}`, `MulLabF1ScoreMacro_{avg}`).
pub fn parse_metric(key: &str) -> Option<Metric> {
    let avg = |s: &str| match s {
        "micro" => Some(Average::Micro),
        "macro" => Some(Average::Macro),
        _ => None,
    };
    if let Some(rest) = key.strip_prefix("acc_top-") {
        let (k, a) = rest.split_once('_')?;
        let top_k: usize = k.parse().ok().filter(|&k| k > 0)?;
        return Some(Metric::Accuracy {
            top_k,
            average: avg(a)?,
        });
    }
    if let Some(a) = key.strip_prefix("MulLabAvergPrec_") {
        return Some(Metric::AveragePrecision { average: avg(a)? });
    }
    if let Some(a) = key.strip_prefix("MulLabF1ScoreMacro_") {
        return Some(Metric::F1 { average: avg(a)? });
    }
    None
}

fn metrics(path: &Path, field: &str, keys: &[String], multilabel: bool) -> Result<Vec<Metric>> {
    if keys.is_empty() {
        return Err(cfg_err(path, field, "[]", "list at least one metric"));
    }
    keys.iter()
        .map(|k| {
            let known = if multilabel {
                "use MulLabAvergPrec_{micro|macro} or MulLabF1ScoreMacro_{micro|macro} \
                 (multilabel datasets)"
            } else {
                "use acc_top-{k}_{micro|macro} (multiclass datasets)"
            };
            let m =
                parse_metric(k).ok_or_else(|| cfg_err(path, field, format!("\"{k}\""), known))?;
            if m.is_multilabel() != multilabel {
                let reason = if multilabel {
                    "the dataset is multilabel; use MulLabAvergPrec_{micro|macro} or \
                     MulLabF1ScoreMacro_{micro|macro}"
                } else {
                    "multilabel metrics need a multilabel dataset; use acc_top-{k}_{micro|macro}"
                };
                return Err(cfg_err(path, field, format!("\"{k}\""), reason));
            }
            Ok(m)
        })
        .collect()
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
            ("knn", knn, None) => {
                let s = knn.unwrap_or(KnnSection {
                    ks: None,
                    temperature: None,
                    metrics: None,
                    k_selection: None,
                });
                let mut c = KnnConfig {
                    k_selection: KSelection::BestOnTest,
                    ..KnnConfig::default()
                };
                if multilabel {
                    c.metrics = vec![Metric::AP_MICRO, Metric::AP_MACRO];
                }
                if let Some(ks) = s.ks {
                    if ks.is_empty() || ks.contains(&0) {
                        return Err(cfg_err(
                            path,
                            "knn.ks",
                            format!("{ks:?}"),
                            "give k values ≥ 1",
                        ));
                    }
                    c.ks = ks;
                }
                if let Some(t) = s.temperature {
                    if !(t > 0.0 && t.is_finite()) {
                        return Err(cfg_err(path, "knn.temperature", t, "must be > 0"));
                    }
                    c.temperature = t;
                }
                if let Some(m) = s.metrics {
                    c.metrics = metrics(path, "knn.metrics", &m, multilabel)?;
                }
                c.k_selection = match s.k_selection.as_deref() {
                    None | Some("best_on_test") => KSelection::BestOnTest,
                    Some("validation") => {
                        if file.dataset.val.is_none() && c.ks.len() > 1 {
                            return Err(cfg_err(
                                path,
                                "knn.k_selection",
                                "\"validation\"",
                                "needs dataset.val",
                            ));
                        }
                        KSelection::Validation
                    }
                    Some(other) => {
                        return Err(cfg_err(
                            path,
                            "knn.k_selection",
                            format!("\"{other}\""),
                            "use \"best_on_test\" or \"validation\"",
                        ));
                    }
                };
                TaskKind::Knn(c)
            }
            ("linear", None, Some(s)) => {
                if file.dataset.val.is_none() {
                    return Err(cfg_err(
                        path,
                        "dataset.val",
                        "(missing)",
                        "linear probes are selected on a validation split; set dataset.val",
                    ));
                }
                if s.epochs == 0 {
                    return Err(cfg_err(path, "linear.epochs", 0, "must be at least 1"));
                }
                let mut c = if multilabel {
                    ProbeConfig::multilabel(s.epochs, file.batch_size)
                } else {
                    ProbeConfig::classification(s.epochs, file.batch_size)
                };
                if let Some(n) = s.n_last_blocks_list {
                    if n.is_empty() || n.contains(&0) {
                        return Err(cfg_err(
                            path,
                            "linear.n_last_blocks_list",
                            format!("{n:?}"),
                            "give block counts ≥ 1",
                        ));
                    }
                    c.n_last_blocks = n;
                }
                if let Some(p) = s.poolings {
                    c.poolings = p
                        .iter()
                        .map(|p| {
                            Pooling::parse(p).ok_or_else(|| {
                                cfg_err(
                                    path,
                                    "linear.poolings",
                                    format!("\"{p}\""),
                                    "use \"avgpool\", \"cls\", \"DOFA_globalpool\" or \"DOFA_no_globalpool\"",
                                )
                            })
                        })
                        .collect::<Result<_>>()?;
                    if c.poolings.is_empty() {
                        return Err(cfg_err(
                            path,
                            "linear.poolings",
                            "[]",
                            "list at least one pooling",
                        ));
                    }
                }
                if let Some(lrs) = s.base_lrs {
                    if lrs.is_empty() || lrs.iter().any(|&l| !(l > 0.0 && l.is_finite())) {
                        return Err(cfg_err(
                            path,
                            "linear.base_lrs",
                            format!("{lrs:?}"),
                            "give learning rates > 0",
                        ));
                    }
                    c.base_lrs = lrs;
                }
                if let Some(m) = s.metrics {
                    c.metrics = metrics(path, "linear.metrics", &m, multilabel)?;
                }
                c.sampler_seed = s.sampler_seed.unwrap_or(0);
                c.init_seed = s.init_seed.unwrap_or(0);
                TaskKind::Linear(c)
            }
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

    /// Opens every split and checks labels against `num_classes` (no pixels are read).
    pub fn prepare(&self) -> Result<PreparedTask> {
        let open_subset = |split: &str, subset: Option<f64>| -> Result<EvalDataset> {
            let ds = EvalDataset::open(self.dataset, &self.root, split, subset)?;
            if let Targets::MultiHot { num_labels, .. } = ds.targets()
                && *num_labels != self.num_classes
            {
                return Err(EvalError::Config {
                    field: format!("dataset.num_classes` in `{}", self.path.display()),
                    value: self.num_classes.to_string(),
                    reason: format!("split `{split}` has {num_labels} labels per sample"),
                });
            }
            if let Some((i, &l)) = ds
                .labels()
                .iter()
                .enumerate()
                .find(|&(_, &l)| l as usize >= self.num_classes)
            {
                return Err(EvalError::Config {
                    field: format!("dataset.num_classes` in `{}", self.path.display()),
                    value: self.num_classes.to_string(),
                    reason: format!(
                        "split `{split}` sample {i} ({}) has class {l} (`{}`); the class count \
                         disagrees with the labels ({} has {} classes)",
                        ds.sample_name(i),
                        self.dataset.class_name(l as usize),
                        self.dataset.id(),
                        self.dataset.num_classes()
                    ),
                });
            }
            Ok(ds)
        };
        let open = |split: &str| open_subset(split, None);
        let train = open_subset(&self.train, self.train_subset)?;
        if let TaskKind::Knn(k) = &self.kind {
            let max_k = k.ks.iter().copied().max().unwrap_or(0);
            if max_k > train.len() {
                return Err(EvalError::Config {
                    field: format!("knn.ks` in `{}", self.path.display()),
                    value: format!("{:?}", k.ks),
                    reason: format!(
                        "k = {max_k} exceeds the {} samples of split `{}`",
                        train.len(),
                        self.train
                    ),
                });
            }
        }
        Ok(PreparedTask {
            train,
            val: self.val.as_deref().map(open).transpose()?,
            test: open(&self.test)?,
            config: self.clone(),
        })
    }
}

/// Every task config under `path` (a `.toml` file, or a folder searched recursively), named
/// by their path relative to `path` without `.toml`, sorted by name.
pub fn discover_tasks(path: &Path) -> Result<Vec<(String, PathBuf)>> {
    let missing = |reason: &str| EvalError::Dataset {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if path.is_file() {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(stem, path.to_path_buf())]);
    }
    if !path.is_dir() {
        return Err(missing("no such task config file or folder"));
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| EvalError::Dataset {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "toml") {
                let rel = p.strip_prefix(path).unwrap_or(&p).with_extension("");
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((name, p));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(missing("folder holds no .toml task configs"));
    }
    Ok(out)
}

/// A task whose splits are opened and checked.
#[derive(Debug, Clone)]
pub struct PreparedTask {
    /// The config.
    pub config: TaskConfig,
    /// Training split.
    pub train: EvalDataset,
    /// Validation split.
    pub val: Option<EvalDataset>,
    /// Test split.
    pub test: EvalDataset,
}

impl PreparedTask {
    fn features(
        &self,
        ds: &EvalDataset,
        model: &FrozenPanopticon,
        model_id: &str,
        cache: &FeatureCache,
        device: &Device,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<ProbeFeatures> {
        let c = &self.config;
        let mut listing = String::new();
        for i in 0..ds.len() {
            listing += &format!("{}\t{}\n", ds.sample_name(i), ds.targets().describe(i));
        }
        let root = std::fs::canonicalize(ds.root()).unwrap_or_else(|_| ds.root().to_path_buf());
        let key = FeatureCache::key(&[
            model_id,
            &format!("{}|{}", c.dataset.id(), c.dataset.registry_name()),
            &root.display().to_string(),
            ds.split(),
            &c.transform.describe(),
            &c.n_last_blocks.to_string(),
            &FeatureCache::key(&[&listing]),
        ]);
        cache.get_or_compute(&key, device, || {
            let error = RefCell::new(None);
            let total = ds.len();
            let split = ds.split().to_string();
            let out = extract_features(
                model,
                ds.batches(&c.transform, c.batch_size, device, &error),
                c.n_last_blocks,
                &mut |done| progress(&split, done, total),
            );
            if let Some(e) = error.into_inner() {
                return Err(e);
            }
            let f = out?;
            f.check_finite(&split)?;
            Ok(f)
        })
    }

    /// Runs the task: features (from `cache` when present), then kNN or the probe grid.
    /// `model_id` must change whenever the model's weights do (it keys the cache);
    /// `progress(split, done, total)` reports extraction.
    pub fn run(
        &self,
        model: &FrozenPanopticon,
        model_id: &str,
        cache: &FeatureCache,
        device: &Device,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<Results> {
        let c = &self.config;
        let labels = |ds: &EvalDataset| match ds.targets() {
            Targets::Classes(l) => Labels::multiclass(l, c.num_classes),
            Targets::MultiHot { values, num_labels } => {
                Labels::multilabel(values.clone(), *num_labels)
            }
        };
        let mut feats =
            |ds: &EvalDataset| self.features(ds, model, model_id, cache, device, progress);
        let train = feats(&self.train)?;
        let val = self.val.as_ref().map(&mut feats).transpose()?;
        let test = feats(&self.test)?;
        match &c.kind {
            TaskKind::Knn(knn) => {
                let split = |name: &str, f: &ProbeFeatures, ds: &EvalDataset| {
                    Split::new(name, f.pooled(1, Pooling::Cls)?, labels(ds)?)
                };
                let train = split("train", &train, &self.train)?;
                let val = match (&val, &self.val) {
                    (Some(f), Some(ds)) => Some(split("val", f, ds)?),
                    _ => None,
                };
                let test = split("test", &test, &self.test)?;
                Ok(knn.run(&c.name, &train, val.as_ref(), &test)?.results)
            }
            TaskKind::Linear(probe) => {
                let split = |name: &str, f: ProbeFeatures, ds: &EvalDataset| {
                    ProbeSplit::new(name, f, labels(ds)?)
                };
                let train = split("train", train, &self.train)?;
                let (Some(vf), Some(vds)) = (val, &self.val) else {
                    unreachable!("linear configs require dataset.val");
                };
                let val = split("val", vf, vds)?;
                let test = split("test", test, &self.test)?;
                Ok(probe
                    .run(&c.name, &train, &val, Some(&test), device)?
                    .results)
            }
        }
    }
}

/// Reads a task's `results.json` back (values from percent to fractions; `null` → NaN).
pub fn read_results_json(path: &Path) -> Result<Results> {
    let bad = |reason: String| EvalError::Dataset {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut r = Results::new(doc["task"].as_str().unwrap_or_default());
    for row in doc["results"]
        .as_array()
        .ok_or_else(|| bad("no `results` list".into()))?
    {
        r.push(
            row["metric"].as_str().unwrap_or_default(),
            row["value"].as_f64().map_or(f64::NAN, |v| v / 100.0),
            row["best_classifier"].as_str().unwrap_or_default(),
        );
    }
    Ok(r)
}

/// Writes the aggregated `results.csv` (`relpath,metric,value,best_classifier`) and
/// `results.txt` (every task's table) bottom-up, as the reference driver does: `dir` and
/// every folder above a task (task names with `/`) get the rows of the tasks below them,
/// `relpath` relative to that folder. Returns the top-level `results.csv`.
pub fn write_summary(dir: &Path, all: &[Results]) -> Result<PathBuf> {
    let mut folders: Vec<String> = vec![String::new()];
    for r in all {
        let parts: Vec<&str> = r.task.split('/').collect();
        for i in 1..parts.len() {
            let f = parts[..i].join("/");
            if !folders.contains(&f) {
                folders.push(f);
            }
        }
    }
    for folder in &folders {
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        let mut csv = String::from("relpath,metric,value,best_classifier\n");
        let mut txt = String::new();
        for r in all.iter().filter(|r| r.task.starts_with(&prefix)) {
            let rel = &r.task[prefix.len()..];
            for line in r.to_csv().lines().skip(1) {
                csv += &format!("{rel},{line}\n");
            }
            txt += &r.to_table();
            txt += "\n";
        }
        let out = dir.join(folder);
        std::fs::create_dir_all(&out).map_err(|source| EvalError::Io {
            path: out.clone(),
            source,
        })?;
        write_atomic(&out.join("results.txt"), &txt)?;
        write_atomic(&out.join("results.csv"), &csv)?;
    }
    Ok(dir.join("results.csv"))
}
