//! Per-iteration cosine schedules (spec §3.9).

use crate::error::{Result, TrainError};

/// Upstream `CosineScheduler`: a precomputed array of
/// `freeze` zeros ‖ `linspace(start, base, warmup)` ‖ `hold` × base ‖ cosine from base to final
/// over the remaining `n` iterations (`final + ½(base − final)(1 + cos(πj/n))`, `j = 0..n−1`).
/// Indexing at or past `total` returns `final`.
#[derive(Debug, Clone, PartialEq)]
pub struct CosineSchedule {
    values: Vec<f64>,
    final_value: f64,
}

/// The lengths of the phases of a [`CosineSchedule`], in iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Phases {
    /// Total length (`epochs · OEL`).
    pub total: usize,
    /// Linear warm-up length.
    pub warmup: usize,
    /// Leading zeros.
    pub freeze: usize,
    /// Iterations held at the base value after warm-up.
    pub hold: usize,
}

impl CosineSchedule {
    /// Builds the array; errors if the phases do not fit in `total`.
    pub fn new(base: f64, final_value: f64, start: f64, phases: Phases) -> Result<Self> {
        let Phases {
            total,
            warmup,
            freeze,
            hold,
        } = phases;
        let used = warmup + freeze + hold;
        if used > total {
            return Err(TrainError::Config {
                key: "schedule phases",
                value: format!("{phases:?}"),
                hint: "warmup + freeze + hold must not exceed the total number of iterations",
            });
        }
        let mut values = Vec::with_capacity(total);
        values.extend(std::iter::repeat_n(0.0, freeze));
        values.extend(linspace(start, base, warmup));
        values.extend(std::iter::repeat_n(base, hold));
        let n = total - used;
        values.extend((0..n).map(|j| {
            let t = std::f64::consts::PI * j as f64 / n as f64;
            final_value + 0.5 * (base - final_value) * (1.0 + t.cos())
        }));
        Ok(Self {
            values,
            final_value,
        })
    }

    /// A constant schedule (length 0, so every index returns `value`).
    pub fn constant(value: f64) -> Self {
        Self {
            values: Vec::new(),
            final_value: value,
        }
    }

    /// The value at global iteration `it` (`final` for `it ≥ total`).
    pub fn at(&self, it: usize) -> f64 {
        self.values.get(it).copied().unwrap_or(self.final_value)
    }

    /// Number of precomputed iterations (`total`).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the schedule has no precomputed iterations.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// `np.linspace(start, end, n)` with inclusive endpoints, computed as numpy does
/// (`start + j·step`, last element set to `end`).
fn linspace(start: f64, end: f64, n: usize) -> Vec<f64> {
    match n {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let step = (end - start) / (n - 1) as f64;
            let mut v: Vec<f64> = (0..n).map(|j| start + j as f64 * step).collect();
            v[n - 1] = end;
            v
        }
    }
}

/// The schedule-relevant config values (spec §3.13 names; `lr` is after the scaling rule).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// `optim.epochs`.
    pub epochs: usize,
    /// `train.OFFICIAL_EPOCH_LENGTH` (resolved, > 0).
    pub epoch_length: usize,
    /// `optim.lr` (after the scaling rule).
    pub lr: f64,
    /// `optim.min_lr`.
    pub min_lr: f64,
    /// `optim.warmup_epochs`.
    pub warmup_epochs: usize,
    /// `optim.freeze_epochs` (LR zeros at the start; default 0).
    pub freeze_epochs: usize,
    /// `optim.hold_epochs` (default 0).
    pub hold_epochs: usize,
    /// `optim.weight_decay`.
    pub weight_decay: f64,
    /// `optim.weight_decay_end`.
    pub weight_decay_end: f64,
    /// `teacher.momentum_teacher`.
    pub momentum_teacher: f64,
    /// `teacher.final_momentum_teacher`.
    pub final_momentum_teacher: f64,
    /// `teacher.warmup_teacher_temp`.
    pub warmup_teacher_temp: f64,
    /// `teacher.teacher_temp`.
    pub teacher_temp: f64,
    /// `teacher.warmup_teacher_temp_epochs`.
    pub warmup_teacher_temp_epochs: usize,
}

impl ScheduleConfig {
    /// Stage-1/2 values (`stage1.yaml`, `stage2.yaml`) with the given scaled `lr`.
    pub fn panopticon_stage(lr: f64) -> Self {
        Self {
            epochs: 70,
            epoch_length: 1250,
            lr,
            min_lr: 1e-6,
            warmup_epochs: 5,
            freeze_epochs: 0,
            hold_epochs: 0,
            weight_decay: 0.04,
            weight_decay_end: 0.2,
            momentum_teacher: 0.994,
            final_momentum_teacher: 1.0,
            warmup_teacher_temp: 0.04,
            teacher_temp: 0.07,
            warmup_teacher_temp_epochs: 5,
        }
    }
}

/// The four schedules of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedules {
    /// Base learning rate (before per-group multipliers).
    pub lr: CosineSchedule,
    /// Weight decay (before per-group multipliers).
    pub wd: CosineSchedule,
    /// Teacher EMA momentum.
    pub momentum: CosineSchedule,
    /// Teacher softmax temperature.
    pub teacher_temp: CosineSchedule,
    epoch_length: usize,
}

impl Schedules {
    /// Builds all four schedules as upstream's `build_schedulers`.
    pub fn new(c: &ScheduleConfig) -> Result<Self> {
        if c.epoch_length == 0 {
            return Err(TrainError::Config {
                key: "train.OFFICIAL_EPOCH_LENGTH",
                value: "0".into(),
                hint: "resolve −1 to ceil(len(dataset) / global batch) before building schedules",
            });
        }
        let oel = c.epoch_length;
        let total = c.epochs * oel;
        let lr = CosineSchedule::new(
            c.lr,
            c.min_lr,
            0.0,
            Phases {
                total,
                warmup: c.warmup_epochs * oel,
                freeze: c.freeze_epochs * oel,
                hold: c.hold_epochs * oel,
            },
        )?;
        let plain = Phases {
            total,
            ..Phases::default()
        };
        let wd = CosineSchedule::new(c.weight_decay, c.weight_decay_end, 0.0, plain)?;
        let momentum =
            CosineSchedule::new(c.momentum_teacher, c.final_momentum_teacher, 0.0, plain)?;
        let warm = c.warmup_teacher_temp_epochs * oel;
        let teacher_temp = CosineSchedule::new(
            c.teacher_temp,
            c.teacher_temp,
            c.warmup_teacher_temp,
            Phases {
                total: warm,
                warmup: warm,
                ..Phases::default()
            },
        )?;
        Ok(Self {
            lr,
            wd,
            momentum,
            teacher_temp,
            epoch_length: oel,
        })
    }

    /// The epoch of global iteration `it` (`it / OEL`), as the intended per-iteration
    /// freeze logic uses it.
    pub fn epoch_of(&self, it: usize) -> usize {
        it / self.epoch_length
    }
}

/// Which epoch the `optim.freeze_weights` check sees (spec §3.8 QUIRK, §8 #9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezeEpoch {
    /// The intended behaviour: the epoch of the current iteration (`it / OEL`).
    PerIteration,
    /// Upstream's bug: the epoch computed once before the loop (`start_iter / OEL`), so in an
    /// uninterrupted fresh run a frozen layer (`last_layer`) never unfreezes.
    StaleStart {
        /// The iteration the run (or resume) started at.
        start_iter: usize,
    },
}

impl Schedules {
    /// LR and weight decay of a parameter at global iteration `it`:
    /// `lr = (0 if epoch < freeze_epochs else lr[it]) · lr_mult`, `wd = wd[it] · wd_mult`.
    pub fn step_hyper(
        &self,
        rule: &crate::ParamRule,
        it: usize,
        freeze: FreezeEpoch,
    ) -> crate::StepHyper {
        let epoch = match freeze {
            FreezeEpoch::PerIteration => self.epoch_of(it),
            FreezeEpoch::StaleStart { start_iter } => self.epoch_of(start_iter),
        };
        let lr = if epoch < rule.freeze_epochs {
            0.0
        } else {
            self.lr.at(it)
        };
        crate::StepHyper {
            lr: lr * rule.lr_mult,
            weight_decay: self.wd.at(it) * rule.wd_mult,
        }
    }
}
