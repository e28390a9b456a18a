//! Classification metrics with torchmetrics 0.10.3 semantics (spec §6.5).
//!
//! Scores are host `f32` rows (`[N, C]` row-major), as passed to torchmetrics' `preds`.
//! Every function is checked against `scripts/gen_eval_metric_fixtures.py` (torchmetrics
//! 0.10.3 and scikit-learn) to 1e-6.
//!
//! **Deviation from the spec text, following the pinned library**: the spec says macro
//! accuracy ignores classes absent from targets and predictions. torchmetrics 0.10.3's
//! `MulticlassAccuracy` does not: an absent class has recall 0 (0/0 → 0) and still counts in
//! the mean (`MulticlassAccuracy(num_classes=4, average="macro")` on targets {0, 1} averages
//! over 4 classes). We follow 0.10.3; the fixtures pin that case.

mod accuracy;
mod average_precision;
mod f1;

pub use accuracy::{multiclass_accuracy, top_k_indices};
pub use average_precision::{binary_average_precision, multilabel_average_precision};
pub use f1::multilabel_f1;

use crate::error::{EvalError, Result};
use crate::labels::Labels;

/// How per-class statistics are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Average {
    /// Pool all (sample, class) statistics, then compute the score once.
    Micro,
    /// Compute the score per class, then take the unweighted mean.
    Macro,
}

impl Average {
    fn name(self) -> &'static str {
        match self {
            Self::Micro => "micro",
            Self::Macro => "macro",
        }
    }
}

/// A metric of the evaluation configs (spec §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// `MulticlassAccuracy(top_k, average)`: key `acc_top-{k}_{avg}`.
    Accuracy {
        /// A sample counts as correct when its target is among the `top_k` highest scores.
        top_k: usize,
        /// Micro (fraction of samples) or macro (mean per-class recall).
        average: Average,
    },
    /// `MultilabelAveragePrecision(average)`: key `MulLabAvergPrec_{avg}`.
    AveragePrecision {
        /// Micro (all pairs pooled) or macro (mean over labels with positives).
        average: Average,
    },
    /// `MultilabelF1Score(average)` at threshold 0.5: key `MulLabF1ScoreMacro_{avg}`
    /// (the "Macro" in the micro key is the upstream quirk, kept for comparable result files).
    F1 {
        /// Micro (pooled counts) or macro (mean of per-label F1).
        average: Average,
    },
}

impl Metric {
    /// Top-1 micro accuracy, the default kNN metric.
    pub const TOP1_MICRO: Metric = Metric::Accuracy {
        top_k: 1,
        average: Average::Micro,
    };
    /// Top-1 macro accuracy.
    pub const TOP1_MACRO: Metric = Metric::Accuracy {
        top_k: 1,
        average: Average::Macro,
    };
    /// Micro average precision, the default multilabel linear-probe metric.
    pub const AP_MICRO: Metric = Metric::AveragePrecision {
        average: Average::Micro,
    };
    /// Macro average precision.
    pub const AP_MACRO: Metric = Metric::AveragePrecision {
        average: Average::Macro,
    };

    /// The key used in `results.csv` (upstream spelling, quirks included).
    pub fn key(&self) -> String {
        match self {
            Self::Accuracy { top_k, average } => format!("acc_top-{top_k}_{}", average.name()),
            Self::AveragePrecision { average } => format!("MulLabAvergPrec_{}", average.name()),
            Self::F1 { average } => format!("MulLabF1ScoreMacro_{}", average.name()),
        }
    }

    /// `true` for metrics that need multi-hot targets.
    pub fn is_multilabel(&self) -> bool {
        !matches!(self, Self::Accuracy { .. })
    }

    /// Computes the metric, as a fraction in `[0, 1]` (NaN where torchmetrics gives NaN,
    /// e.g. average precision without any positive).
    ///
    /// # Shapes
    /// `scores`: `[N, C]` row-major with `N = labels.len()`, `C = labels.num_classes()`.
    pub fn compute(&self, scores: &[f32], labels: &Labels) -> Result<f64> {
        check_scores(scores, labels)?;
        match (self, labels) {
            (
                Self::Accuracy { top_k, average },
                Labels::Multiclass {
                    classes,
                    num_classes,
                },
            ) => multiclass_accuracy(scores, classes, *num_classes, *top_k, *average),
            (
                Self::AveragePrecision { average },
                Labels::Multilabel {
                    targets,
                    num_labels,
                },
            ) => Ok(multilabel_average_precision(
                scores,
                targets,
                *num_labels,
                *average,
            )),
            (
                Self::F1 { average },
                Labels::Multilabel {
                    targets,
                    num_labels,
                },
            ) => Ok(multilabel_f1(scores, targets, *num_labels, *average)),
            _ => Err(EvalError::KindMismatch {
                what: format!("metric {}", self.key()),
                detail: if self.is_multilabel() {
                    "needs multilabel targets; use an accuracy metric for multiclass tasks".into()
                } else {
                    "needs multiclass labels; use average precision or F1 for multilabel tasks"
                        .into()
                },
            }),
        }
    }
}

fn check_scores(scores: &[f32], labels: &Labels) -> Result<()> {
    let expected = labels.len() * labels.num_classes();
    if scores.len() != expected {
        return Err(EvalError::Shape {
            what: format!(
                "score matrix of {} samples x {} classes",
                labels.len(),
                labels.num_classes()
            ),
            expected,
            got: scores.len(),
        });
    }
    Ok(())
}

/// torchmetrics' input formatting: scores are passed through a sigmoid unless every one of
/// them already lies in `[0, 1]`. The sigmoid is in f32, as in torch, so large logits tie at 1.
pub(crate) fn probabilities(scores: &[f32]) -> Vec<f32> {
    if scores.iter().all(|&s| (0.0..=1.0).contains(&s)) {
        scores.to_vec()
    } else {
        scores.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect()
    }
}

/// `num / den`, 0 when `den == 0` (torchmetrics' `_safe_divide`).
pub(crate) fn safe_divide(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}
