//! The `[linear]` table of a task config: the probe grid (blocks, poolings, learning rates),
//! epochs, metrics and seeds.

use std::path::Path;

use super::metric_keys::metrics;
use super::schema::{LinearSection, cfg_err};
use crate::error::Result;
use crate::probe::{Pooling, ProbeConfig};

impl LinearSection {
    /// The probe-grid settings of this table; `has_val`: the task names a validation split
    /// (probes are selected on it).
    pub(super) fn into_config(
        self,
        path: &Path,
        multilabel: bool,
        has_val: bool,
        batch_size: usize,
    ) -> Result<ProbeConfig> {
        if !has_val {
            return Err(cfg_err(
                path,
                "dataset.val",
                "(missing)",
                "linear probes are selected on a validation split; set dataset.val",
            ));
        }
        if self.epochs == 0 {
            return Err(cfg_err(path, "linear.epochs", 0, "must be at least 1"));
        }
        let mut c = if multilabel {
            ProbeConfig::multilabel(self.epochs, batch_size)
        } else {
            ProbeConfig::classification(self.epochs, batch_size)
        };
        if let Some(n) = self.n_last_blocks_list {
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
        if let Some(p) = self.poolings {
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
        if let Some(lrs) = self.base_lrs {
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
        if let Some(m) = self.metrics {
            c.metrics = metrics(path, "linear.metrics", &m, multilabel)?;
        }
        c.sampler_seed = self.sampler_seed.unwrap_or(0);
        c.init_seed = self.init_seed.unwrap_or(0);
        Ok(c)
    }
}
