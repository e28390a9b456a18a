//! Validated class labels: one class per sample (multiclass) or multi-hot rows (multilabel).

use crate::error::{EvalError, Result};

/// Labels of one split, validated against the declared class count.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// One class index per sample.
    Multiclass {
        /// Class of each sample, each `< num_classes`.
        classes: Vec<usize>,
        /// Number of classes of the dataset (not just those present).
        num_classes: usize,
    },
    /// Multi-hot targets.
    ///
    /// # Shapes
    /// `targets`: `[N * num_labels]` row-major, each value 0, 1 or NaN (unknown: the
    /// (sample, label) pair is left out of metrics, like torchmetrics' `ignore_index`).
    Multilabel {
        /// Row-major multi-hot targets.
        targets: Vec<f32>,
        /// Number of labels.
        num_labels: usize,
    },
}

impl Labels {
    /// Multiclass labels; errors if a label is negative or `>= num_classes`.
    pub fn multiclass(labels: &[i64], num_classes: usize) -> Result<Self> {
        if num_classes == 0 {
            return Err(config(
                "num_classes",
                0,
                "a dataset needs at least one class",
            ));
        }
        let classes = labels
            .iter()
            .enumerate()
            .map(|(sample, &label)| {
                usize::try_from(label)
                    .ok()
                    .filter(|&c| c < num_classes)
                    .ok_or(EvalError::ClassOutOfRange {
                        label,
                        sample,
                        num_classes,
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::Multiclass {
            classes,
            num_classes,
        })
    }

    /// Multilabel targets.
    ///
    /// # Shapes
    /// `targets`: `[N * num_labels]` row-major; values 0, 1 or NaN (unknown).
    pub fn multilabel(targets: Vec<f32>, num_labels: usize) -> Result<Self> {
        if num_labels == 0 {
            return Err(config(
                "num_labels",
                0,
                "a dataset needs at least one label",
            ));
        }
        if !targets.len().is_multiple_of(num_labels) {
            return Err(EvalError::RaggedTargets {
                len: targets.len(),
                num_labels,
            });
        }
        if let Some(i) = targets
            .iter()
            .position(|&v| !(v.is_nan() || v == 0.0 || v == 1.0))
        {
            return Err(EvalError::InvalidTarget {
                value: targets[i],
                sample: i / num_labels,
                label: i % num_labels,
            });
        }
        Ok(Self::Multilabel {
            targets,
            num_labels,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Self::Multiclass { classes, .. } => classes.len(),
            Self::Multilabel {
                targets,
                num_labels,
            } => targets.len() / num_labels,
        }
    }

    /// `true` when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of classes (multiclass) or labels (multilabel): the width of a score row.
    pub fn num_classes(&self) -> usize {
        match self {
            Self::Multiclass { num_classes, .. } => *num_classes,
            Self::Multilabel { num_labels, .. } => *num_labels,
        }
    }

    /// `true` for multi-hot targets.
    pub fn is_multilabel(&self) -> bool {
        matches!(self, Self::Multilabel { .. })
    }

    /// Labels of the samples at `indices` (in that order).
    pub fn subset(&self, indices: &[usize]) -> Self {
        match self {
            Self::Multiclass {
                classes,
                num_classes,
            } => Self::Multiclass {
                classes: indices.iter().map(|&i| classes[i]).collect(),
                num_classes: *num_classes,
            },
            Self::Multilabel {
                targets,
                num_labels,
            } => Self::Multilabel {
                targets: indices
                    .iter()
                    .flat_map(|&i| {
                        targets[i * num_labels..(i + 1) * num_labels]
                            .iter()
                            .copied()
                    })
                    .collect(),
                num_labels: *num_labels,
            },
        }
    }

    /// Dense training targets, `[N * C]` row-major: one-hot for multiclass, multi-hot with
    /// unknown (NaN) entries read as 0 for multilabel.
    pub(crate) fn dense(&self) -> Vec<f32> {
        match self {
            Self::Multiclass {
                classes,
                num_classes,
            } => {
                let mut out = vec![0.0; classes.len() * num_classes];
                for (i, &c) in classes.iter().enumerate() {
                    out[i * num_classes + c] = 1.0;
                }
                out
            }
            Self::Multilabel { targets, .. } => targets
                .iter()
                .map(|&v| if v == 1.0 { 1.0 } else { 0.0 })
                .collect(),
        }
    }

    /// Errors unless `other` is the same kind with the same class count.
    pub(crate) fn check_compatible(&self, other: &Self, what: &str) -> Result<()> {
        if self.is_multilabel() != other.is_multilabel() {
            return Err(EvalError::KindMismatch {
                what: what.to_string(),
                detail: "one split is multiclass and the other multilabel; use one kind of \
                         labels for every split of a task"
                    .into(),
            });
        }
        if self.num_classes() != other.num_classes() {
            return Err(EvalError::Shape {
                what: format!("{what}: number of classes"),
                expected: self.num_classes(),
                got: other.num_classes(),
            });
        }
        Ok(())
    }
}

fn config(field: &str, value: usize, reason: &str) -> EvalError {
    EvalError::Config {
        field: field.into(),
        value: value.to_string(),
        reason: reason.into(),
    }
}
