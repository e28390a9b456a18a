//! The `[dataset]` table of a task config: which dataset, where it is, its class count and the
//! training subset.

use std::path::{Path, PathBuf};

use super::schema::{DatasetSection, cfg_err};
use crate::datasets::DatasetKind;
use crate::error::{EvalError, Result};

impl DatasetSection {
    /// The dataset `id` (and `bands`) names.
    pub(super) fn kind(&self, path: &Path) -> Result<DatasetKind> {
        DatasetKind::parse(&self.id, self.bands.as_deref()).map_err(|e| match e {
            EvalError::Config {
                field,
                value,
                reason,
            } => cfg_err(path, &field, value, &reason),
            other => other,
        })
    }

    /// `train_subset` is a fraction in (0, 1], for the datasets that take one.
    pub(super) fn check_subset(&self, dataset: DatasetKind, path: &Path) -> Result<()> {
        let Some(f) = self.train_subset else {
            return Ok(());
        };
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
        Ok(())
    }

    /// `num_classes`, or the dataset's; a multilabel dataset's cannot be changed.
    pub(super) fn num_classes(&self, dataset: DatasetKind, path: &Path) -> Result<usize> {
        let num_classes = self.num_classes.unwrap_or(dataset.num_classes());
        if num_classes == 0 {
            return Err(cfg_err(
                path,
                "dataset.num_classes",
                0,
                "must be at least 1",
            ));
        }
        if dataset.is_multilabel() && num_classes != dataset.num_classes() {
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
        Ok(num_classes)
    }

    /// `root` with a leading `$VAR/` (e.g. `$RDIR/datasets/...`) expanded, relative paths
    /// resolved against the folder of the config file at `path`.
    pub(super) fn root(&self, path: &Path) -> Result<PathBuf> {
        let root = &self.root;
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
            path.parent().unwrap_or(Path::new(".")).join(expanded)
        })
    }
}
