//! The `[knn]` table of a task config: k values, temperature, metrics and how k is chosen.

use std::path::Path;

use super::metric_keys::metrics;
use super::schema::{KnnSection, cfg_err};
use crate::error::Result;
use crate::knn::{KSelection, KnnConfig};
use crate::metrics::Metric;

impl KnnSection {
    /// The kNN settings of this table (defaults where a key is absent); `has_val`: the task
    /// names a validation split.
    pub(super) fn into_config(
        self,
        path: &Path,
        multilabel: bool,
        has_val: bool,
    ) -> Result<KnnConfig> {
        let mut c = KnnConfig {
            k_selection: KSelection::BestOnTest,
            ..KnnConfig::default()
        };
        if multilabel {
            c.metrics = vec![Metric::AP_MICRO, Metric::AP_MACRO];
        }
        if let Some(ks) = self.ks {
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
        if let Some(t) = self.temperature {
            if !(t > 0.0 && t.is_finite()) {
                return Err(cfg_err(path, "knn.temperature", t, "must be > 0"));
            }
            c.temperature = t;
        }
        if let Some(m) = self.metrics {
            c.metrics = metrics(path, "knn.metrics", &m, multilabel)?;
        }
        c.k_selection = match self.k_selection.as_deref() {
            None | Some("best_on_test") => KSelection::BestOnTest,
            Some("validation") => {
                if !has_val && c.ks.len() > 1 {
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
        Ok(c)
    }
}
