//! The TOML layout of a task config (what serde reads; unknown keys are errors), and the
//! error that names one of its fields.

use std::path::Path;

use serde::Deserialize;

use crate::error::{EvalError, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TaskFile {
    #[serde(rename = "type")]
    pub(super) task_type: String,
    #[serde(default = "default_batch")]
    pub(super) batch_size: usize,
    pub(super) n_last_blocks: Option<usize>,
    pub(super) dataset: DatasetSection,
    #[serde(default)]
    pub(super) transform: TransformSection,
    pub(super) knn: Option<KnnSection>,
    pub(super) linear: Option<LinearSection>,
}

fn default_batch() -> usize {
    64
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DatasetSection {
    pub(super) id: String,
    pub(super) root: String,
    pub(super) train: String,
    pub(super) val: Option<String>,
    pub(super) test: String,
    pub(super) num_classes: Option<usize>,
    pub(super) bands: Option<String>,
    pub(super) train_subset: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum SizeSpec {
    Square(usize),
    Pair([usize; 2]),
}

impl SizeSpec {
    pub(super) fn hw(&self) -> (usize, usize) {
        match *self {
            Self::Square(s) => (s, s),
            Self::Pair([h, w]) => (h, w),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransformSection {
    pub(super) resize: Option<SizeSpec>,
    pub(super) center_crop: Option<SizeSpec>,
    pub(super) chn_select: Option<Vec<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KnnSection {
    pub(super) ks: Option<Vec<usize>>,
    pub(super) temperature: Option<f32>,
    pub(super) metrics: Option<Vec<String>>,
    pub(super) k_selection: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinearSection {
    pub(super) epochs: usize,
    pub(super) n_last_blocks_list: Option<Vec<usize>>,
    pub(super) poolings: Option<Vec<String>>,
    pub(super) base_lrs: Option<Vec<f64>>,
    pub(super) metrics: Option<Vec<String>>,
    pub(super) sampler_seed: Option<u64>,
    pub(super) init_seed: Option<u64>,
}

/// A config error naming `field` of the file at `path`.
pub(super) fn cfg_err(
    path: &Path,
    field: &str,
    value: impl std::fmt::Display,
    reason: &str,
) -> EvalError {
    EvalError::Config {
        field: format!("{field}` in `{}", path.display()),
        value: value.to_string(),
        reason: reason.into(),
    }
}

impl TaskFile {
    /// Reads the TOML of the config file at `path`; a syntax or schema error names its line.
    pub(super) fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!("line {}: ", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            EvalError::Dataset {
                path: path.to_path_buf(),
                reason: format!("{line}{}", e.message().trim().replace('\n', " ")),
            }
        })
    }
}
