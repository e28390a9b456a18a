//! The probe grid's run: training every head together, selection on validation and the
//! test report.

use burn::prelude::*;

use super::config::{ProbeConfig, ProbeHead};
use super::split::ProbeSplit;
use super::train::{head_scores, train_heads};
use crate::error::{EvalError, Result};
use crate::results::Results;

impl ProbeConfig {
    /// Trains fresh heads on `train`, selects on `val`, tests on `test` (spec §6.4).
    pub fn run(
        &self,
        task: &str,
        train: &ProbeSplit,
        val: &ProbeSplit,
        test: Option<&ProbeSplit>,
        device: &Device,
    ) -> Result<ProbeReport> {
        let heads = self.init_heads(&train.features, train.labels.num_classes())?;
        self.run_with_heads(task, heads, train, val, test, device)
    }

    /// [`ProbeConfig::run`] from given initial heads (e.g. weights shared with a reference).
    pub fn run_with_heads(
        &self,
        task: &str,
        heads: Vec<ProbeHead>,
        train: &ProbeSplit,
        val: &ProbeSplit,
        test: Option<&ProbeSplit>,
        device: &Device,
    ) -> Result<ProbeReport> {
        self.check(&train.features)?;
        for other in std::iter::once(val).chain(test) {
            train.labels.check_compatible(
                &other.labels,
                &format!("probe {} vs {}", train.name, other.name),
            )?;
            for (n, pooling) in self.groups() {
                let (a, b) = (
                    train.features.pooled_dim(n, pooling),
                    other.features.pooled_dim(n, pooling),
                );
                if a != b || other.features.num_blocks() < n {
                    return Err(EvalError::Shape {
                        what: format!(
                            "{} probe input width ({n} blocks, {})",
                            other.name,
                            pooling.name()
                        ),
                        expected: a,
                        got: b,
                    });
                }
            }
        }
        for m in &self.metrics {
            if m.is_multilabel() != self.multilabel {
                return Err(EvalError::KindMismatch {
                    what: format!("probe metric {}", m.key()),
                    detail: "does not fit the task kind; multiclass tasks use accuracy, \
                             multilabel tasks average precision or F1"
                        .into(),
                });
            }
        }
        let heads = train_heads(self, heads, train, device)?;
        let evaluate = |split: &ProbeSplit| -> Result<Vec<Vec<f64>>> {
            let scores = head_scores(self, &heads, &split.features, device)?;
            scores
                .iter()
                .map(|s| {
                    self.metrics
                        .iter()
                        .map(|m| m.compute(s, &split.labels))
                        .collect()
                })
                .collect()
        };
        let val_metrics = evaluate(val)?; // [head][metric]
        let best = |mi: usize| {
            (0..heads.len()).fold(0, |b, h| {
                if val_metrics[h][mi] > val_metrics[b][mi] {
                    h
                } else {
                    b
                }
            })
        };
        let val_best = (0..self.metrics.len())
            .map(|mi| {
                let h = best(mi);
                (
                    self.metrics[mi].key(),
                    heads[h].name.clone(),
                    val_metrics[h][mi],
                )
            })
            .collect();
        let selected = best(0);
        let mut results = Results::new(task);
        let test_metrics = match test {
            Some(test) => {
                let t = evaluate(test)?;
                for (mi, m) in self.metrics.iter().enumerate() {
                    results.push(m.key(), t[selected][mi], heads[selected].name.clone());
                }
                Some(t)
            }
            None => None,
        };
        Ok(ProbeReport {
            results,
            val_best,
            selected,
            val_metrics,
            test_metrics,
            heads,
        })
    }
}

/// What a probe run produced.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    /// Test rows: every metric of the head that was best on the first val metric.
    pub results: Results,
    /// For every metric: (key, best head on val, its val value).
    pub val_best: Vec<(String, String, f64)>,
    /// Index of the head reported on test.
    pub selected: usize,
    /// Val metric values, `[head][metric]`.
    pub val_metrics: Vec<Vec<f64>>,
    /// Test metric values, `[head][metric]`, when a test split was given.
    pub test_metrics: Option<Vec<Vec<f64>>>,
    /// The trained heads, grid order.
    pub heads: Vec<ProbeHead>,
}
