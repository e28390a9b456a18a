//! Teacher-output centering with the delayed EMA update, and Sinkhorn-Knopp (spec §3.5).

use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::error::{Result, TrainError};

/// How teacher logits become target distributions (`train.centering`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Centering {
    /// Softmax with an EMA centre (all Panopticon configs).
    Softmax,
    /// Sinkhorn-Knopp with 3 iterations; no centre.
    SinkhornKnopp,
}

/// Momentum of the centre EMA (`center_momentum`, both losses).
pub const CENTER_MOMENTUM: f64 = 0.9;

/// Sinkhorn-Knopp iterations used by both losses upstream.
pub const SINKHORN_ITERATIONS: usize = 3;

/// A `[1, K]` f32 centre with upstream's *delayed* update.
///
/// [`Center::schedule_update`] only stores the batch statistic; it is folded into the centre
/// at the start of the next [`Center::softmax_centered`] call, so the centre used at step `t`
/// is the EMA over batches `0..t−1` (spec §3.5).
#[derive(Debug, Clone)]
pub struct Center {
    value: Tensor<2>,
    pending: Option<Tensor<2>>,
    momentum: f64,
}

impl Center {
    /// A zero centre of `k` prototypes.
    ///
    /// # Shapes
    /// The centre is `[1, k]`.
    pub fn zeros(k: usize, device: &Device) -> Self {
        Self {
            value: Tensor::zeros([1, k], device),
            pending: None,
            momentum: CENTER_MOMENTUM,
        }
    }

    /// Restores a centre (e.g. from a checkpoint's `dino_loss.center`).
    ///
    /// # Shapes
    /// `value`: `[1, K]`.
    pub fn from_tensor(value: Tensor<2>) -> Result<Self> {
        let dims = value.dims();
        if dims[0] != 1 {
            return Err(TrainError::Shape {
                what: "center",
                expected: "[1, K]".into(),
                got: dims.to_vec(),
            });
        }
        Ok(Self {
            value: value.detach(),
            pending: None,
            momentum: CENTER_MOMENTUM,
        })
    }

    /// The centre currently stored (a scheduled update is not yet included).
    ///
    /// # Shapes
    /// `[1, K]`.
    pub fn value(&self) -> Tensor<2> {
        self.value.clone()
    }

    /// The delayed batch statistic waiting to be applied, if any (`[1, K]`).
    pub fn pending(&self) -> Option<Tensor<2>> {
        self.pending.clone()
    }

    /// Restores a delayed batch statistic (checkpoint resume); `[1, K]`.
    pub fn set_pending(&mut self, stat: Option<Tensor<2>>) {
        self.pending = stat.map(|t| t.detach());
    }

    /// Whether a batch statistic waits to be applied.
    pub fn has_pending_update(&self) -> bool {
        self.pending.is_some()
    }

    /// Folds a scheduled statistic into the centre: `c ← 0.9·c + 0.1·stat`.
    pub fn apply_pending(&mut self) {
        if let Some(stat) = self.pending.take() {
            self.value = self.value.clone() * self.momentum + stat * (1.0 - self.momentum);
        }
    }

    /// Stores the row mean of `logits` for the next [`Center::softmax_centered`] call.
    ///
    /// DINO passes the `2B` teacher cls logits; iBOT passes the `M` masked-patch logits
    /// (upstream's `(1, M, K)` mean, i.e. the same row mean).
    ///
    /// # Shapes
    /// `logits`: `[N, K]` with `N ≥ 1`.
    pub fn schedule_update(&mut self, logits: &Tensor<2>) -> Result<()> {
        let [n, k] = logits.dims();
        if n == 0 || k != self.value.dims()[1] {
            return Err(TrainError::Shape {
                what: "center update logits",
                expected: format!("[N ≥ 1, {}]", self.value.dims()[1]),
                got: vec![n, k],
            });
        }
        self.pending = Some(logits.clone().detach().sum_dim(0) / n as f64);
        Ok(())
    }

    /// Teacher targets and this batch's centre statistic against the stored centre, without
    /// changing it (a scheduled update is *not* applied: call [`Center::apply_pending`] first).
    /// Data-parallel replicas and micro-batches share one centre per step and hand their
    /// statistics back; the same ops as [`Center::teacher_targets`], so the values are equal.
    ///
    /// # Shapes
    /// `logits`: `[N, K]` → targets `[N, K]`, statistic `[1, K]` (softmax mode only).
    pub fn targets(
        &self,
        centering: Centering,
        logits: Tensor<2>,
        teacher_temp: f64,
    ) -> Result<(Tensor<2>, Option<Tensor<2>>)> {
        match centering {
            Centering::Softmax => {
                let [n, k] = logits.dims();
                if n == 0 || k != self.value.dims()[1] {
                    return Err(TrainError::Shape {
                        what: "teacher logits",
                        expected: format!("[N ≥ 1, {}]", self.value.dims()[1]),
                        got: vec![n, k],
                    });
                }
                let probs = softmax(
                    (logits.clone().detach() - self.value.clone()) / teacher_temp,
                    1,
                );
                let stat = logits.detach().sum_dim(0) / n as f64;
                Ok((probs, Some(stat)))
            }
            Centering::SinkhornKnopp => Ok((
                sinkhorn_knopp(logits, teacher_temp, SINKHORN_ITERATIONS),
                None,
            )),
        }
    }

    /// This centre (value and pending statistic) on `device`; the same values.
    pub fn to_device(&self, device: &Device) -> Self {
        Self {
            value: self.value.clone().to_device(device),
            pending: self.pending.clone().map(|p| p.to_device(device)),
            momentum: self.momentum,
        }
    }

    /// Teacher targets under `centering`: in softmax mode this applies the previous step's
    /// scheduled centre update and schedules this batch's (the delayed update of spec §3.5);
    /// Sinkhorn-Knopp normalises the batch itself (`B` = all rows on one process).
    ///
    /// # Shapes
    /// `logits`: `[N, K]` → `[N, K]`.
    pub fn teacher_targets(
        &mut self,
        centering: Centering,
        logits: Tensor<2>,
        teacher_temp: f64,
    ) -> Result<Tensor<2>> {
        match centering {
            Centering::Softmax => {
                let probs = self.softmax_centered(logits.clone(), teacher_temp)?;
                self.schedule_update(&logits)?;
                Ok(probs)
            }
            Centering::SinkhornKnopp => {
                Ok(sinkhorn_knopp(logits, teacher_temp, SINKHORN_ITERATIONS))
            }
        }
    }

    /// `softmax((logits − c) / temp)` after applying any scheduled update.
    ///
    /// # Shapes
    /// `logits`: `[N, K]` → `[N, K]` probabilities.
    pub fn softmax_centered(&mut self, logits: Tensor<2>, teacher_temp: f64) -> Result<Tensor<2>> {
        let [n, k] = logits.dims();
        if k != self.value.dims()[1] {
            return Err(TrainError::Shape {
                what: "teacher logits",
                expected: format!("[N, {}]", self.value.dims()[1]),
                got: vec![n, k],
            });
        }
        self.apply_pending();
        Ok(softmax(
            (logits.detach() - self.value.clone()) / teacher_temp,
            1,
        ))
    }
}

/// Sinkhorn-Knopp teacher assignment, exactly as upstream (no max subtraction before `exp`).
///
/// `Q = exp(logits/temp)ᵀ`, `Q /= ΣQ`, then `iterations` × {rows: `Q /= row sums`, `Q /= K`;
/// columns: `Q /= column sums`, `Q /= n`}, finally `Q *= n`. `n` is the number of rows
/// (single process: DINO's `2B`, iBOT's `M`).
///
/// # Shapes
/// `logits`: `[n, K]` → `[n, K]`, each row summing to 1.
pub fn sinkhorn_knopp(logits: Tensor<2>, teacher_temp: f64, iterations: usize) -> Tensor<2> {
    let [n, k] = logits.dims();
    let bn = n as f64;
    let mut q = (logits.detach() / teacher_temp).exp().transpose(); // [K, n]
    let total = q.clone().sum().reshape([1, 1]);
    q = q / total;
    for _ in 0..iterations {
        q = q.clone() / q.sum_dim(1); // rows: each prototype gets mass 1/K
        q = q / k as f64;
        q = q.clone() / q.sum_dim(0); // columns: each sample gets mass 1/n
        q = q / bn;
    }
    (q * bn).transpose()
}
