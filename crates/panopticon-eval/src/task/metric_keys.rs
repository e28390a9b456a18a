//! Metric keys as `results.csv` and task configs spell them.

use std::path::Path;

use super::schema::cfg_err;
use crate::error::Result;
use crate::metrics::{Average, Metric};

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

/// The metrics a config lists under `field`, each checked against the dataset kind.
pub(super) fn metrics(
    path: &Path,
    field: &str,
    keys: &[String],
    multilabel: bool,
) -> Result<Vec<Metric>> {
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
