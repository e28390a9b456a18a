//! [`TrainConfig`]: the TOML run configuration (`configs/train/*.toml`). Unknown keys are
//! errors that name the key.

use std::path::{Path, PathBuf};

use panopticon_model::PanopticonConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::{
    Centering, ComputeDtype, FreezeEpoch, InitSection, MetaArchConfig, ParamGroupConfig,
    ScheduleConfig, Schedules,
};

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Output, logging and checkpointing.
    pub run: RunSection,
    /// Backbone and heads.
    pub model: ModelSection,
    /// Loss weights.
    pub loss: LossSection,
    /// Optimizer and LR/WD schedules.
    pub optim: OptimSection,
    /// Teacher EMA and temperature.
    pub teacher: TeacherSection,
    /// Datasets, crops and loader.
    pub data: DataSection,
    /// Initial weights (absent = random init).
    #[serde(default)]
    pub init: InitSection,
}

/// `[run]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Run directory (metrics.jsonl, checkpoints/).
    pub output_dir: PathBuf,
    /// Iterations to run in total (`epochs · epoch_length` if absent).
    pub max_iters: Option<usize>,
    /// `train.OFFICIAL_EPOCH_LENGTH`.
    pub epoch_length: usize,
    /// Seed of model init, sampler and augmentations.
    pub seed: u64,
    /// Save a checkpoint every this many iterations (0 = only at the end).
    pub checkpoint_every: usize,
    /// Checkpoints kept.
    pub keep_last: usize,
    /// `f32` (default) or `bf16` (pure bf16 training, GPU; see [`ComputeDtype`]).
    #[serde(default)]
    pub precision: ComputeDtype,
}

/// `[model]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// `PanopticonConfig::preset` name (e.g. `tiny-test`).
    pub preset: String,
    /// `dino.head_n_prototypes`.
    pub head_n_prototypes: usize,
    /// `dino.head_hidden_dim`.
    pub head_hidden_dim: usize,
    /// `dino.head_bottleneck_dim`.
    pub head_bottleneck_dim: usize,
    /// `dino.head_nlayers` (default 3).
    #[serde(default = "three")]
    pub head_nlayers: usize,
    /// `ibot.separate_head`.
    #[serde(default)]
    pub ibot_separate_head: bool,
    /// `student.layerscale` (LayerScale init) overriding the preset's; 0 = no LayerScale.
    #[serde(default)]
    pub layerscale: Option<f64>,
}

/// `[loss]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSection {
    /// `dino.loss_weight`.
    pub dino_weight: f64,
    /// `ibot.loss_weight`.
    pub ibot_weight: f64,
    /// `dino.koleo_loss_weight`.
    pub koleo_weight: f64,
    /// `train.centering`: `centering` or `sinkhorn_knopp`.
    pub centering: String,
}

/// `[optim]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimSection {
    /// `optim.epochs`.
    pub epochs: usize,
    /// `optim.lr` (already scaled).
    pub lr: f64,
    /// `optim.min_lr`.
    pub min_lr: f64,
    /// `optim.warmup_epochs`.
    pub warmup_epochs: usize,
    /// `optim.weight_decay`.
    pub weight_decay: f64,
    /// `optim.weight_decay_end`.
    pub weight_decay_end: f64,
    /// `optim.layerwise_decay`.
    pub layerwise_decay: f64,
    /// `optim.lr_multiplier`.
    pub lr_multiplier: String,
    /// `optim.freeze_weights`.
    pub freeze_weights: String,
    /// `optim.clip_grad`.
    pub clip_grad: f64,
    /// Reproduce upstream's stale-epoch freeze bug (spec §3.8 QUIRK).
    #[serde(default)]
    pub bug_compat_freeze: bool,
    /// `gradient_accumulation_steps`: loader batches per optimizer step (default 1). The
    /// LR is not rescaled: set `lr` for the accumulated batch (`sqrt_wrt_1024` counts it).
    #[serde(default = "one")]
    pub gradient_accumulation_steps: usize,
}

fn one() -> usize {
    1
}

fn three() -> usize {
    3
}

/// `[teacher]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeacherSection {
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

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// SpectralEarth root (with `enmap/`), if used.
    pub spectral_earth: Option<PathBuf>,
    /// Satlas root, if used (needs `satlas_metadata`).
    pub satlas_root: Option<PathBuf>,
    /// Satlas metadata JSON Lines.
    pub satlas_metadata: Option<PathBuf>,
    /// FMoW root, if used: the folder holding `fmow/` and `fmow-sentinel/` (upstream
    /// `$RDIR/datasets`). Stage settings: 2 views, all three sources, `large_enough`, max_crop 256.
    pub fmow_root: Option<PathBuf>,
    /// FMoW metadata table: `train`, `val`, `train_val_clean` (default, both stages) or a path
    /// relative to `fmow_root`.
    pub fmow_split: Option<String>,
    /// FMoW subset size (stage 2: 800000, which tiles the ≈ 84k locations to up-weight them).
    pub fmow_subset: Option<usize>,
    /// FMoW `max_crop`: locations need a view at least this large, drawn first (default 256).
    pub fmow_max_crop: Option<usize>,
    /// MMEarth variant folder, if used (e.g. `data/mmearth/data_1M_v001`; train split,
    /// MODALITY_MINIMAL_SET1).
    pub mmearth: Option<PathBuf>,
    /// `batch_size_per_gpu`.
    pub batch_size: usize,
    /// Loader threads.
    pub workers: usize,
    /// Global crop side (a multiple of the patch size).
    pub global_size: usize,
    /// Local crop side.
    pub local_size: usize,
    /// Local crops per sample.
    pub n_local: usize,
    /// `[low, high]` channels of global crops.
    pub global_channels: [usize; 2],
    /// `[low, high]` channels of local crops.
    pub local_channels: [usize; 2],
    /// Failed samples skipped before stopping.
    pub max_failures: usize,
}

impl TrainConfig {
    /// Parses a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TrainError::Io {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            TrainError::Format { reason, .. } => TrainError::Format {
                path: path.into(),
                reason,
            },
            e => e,
        })
    }

    /// [`TrainConfig::from_file`] with `section.key=value` overrides applied first (values in
    /// TOML syntax; anything that is not valid TOML is taken as a string, so
    /// `run.output_dir=runs/a` works unquoted).
    pub fn from_file_with(path: impl AsRef<Path>, overrides: &[String]) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TrainError::Io {
            path: path.into(),
            source,
        })?;
        let fmt = |reason: String| TrainError::Format {
            path: path.into(),
            reason,
        };
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| fmt(e.to_string()))?;
        for o in overrides {
            apply_override(&mut table, o).map_err(fmt)?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| fmt(e.to_string()))
    }

    /// The config as TOML text (what a run saves as `config.toml`).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| TrainError::Format {
            path: PathBuf::from("<config>"),
            reason: e.to_string(),
        })
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| TrainError::Format {
            path: PathBuf::from("<toml>"),
            reason: e.to_string(),
        })
    }

    /// Total iterations of the run.
    pub fn max_iters(&self) -> usize {
        self.run
            .max_iters
            .unwrap_or(self.optim.epochs.saturating_mul(self.run.epoch_length))
    }

    /// The four schedules.
    pub fn schedules(&self) -> Result<Schedules> {
        let (o, t) = (&self.optim, &self.teacher);
        Schedules::new(&ScheduleConfig {
            epochs: o.epochs,
            epoch_length: self.run.epoch_length,
            lr: o.lr,
            min_lr: o.min_lr,
            warmup_epochs: o.warmup_epochs,
            freeze_epochs: 0,
            hold_epochs: 0,
            weight_decay: o.weight_decay,
            weight_decay_end: o.weight_decay_end,
            momentum_teacher: t.momentum_teacher,
            final_momentum_teacher: t.final_momentum_teacher,
            warmup_teacher_temp: t.warmup_teacher_temp,
            teacher_temp: t.teacher_temp,
            warmup_teacher_temp_epochs: t.warmup_teacher_temp_epochs,
        })
    }

    /// Checks everything that can be checked without touching files: schedules, parameter
    /// rules, model and head sizes, crop sizes, batch settings and the `[init]` combination.
    pub fn validate(&self) -> Result<()> {
        // Counts first: the schedules and heads are built from them.
        let d = &self.data;
        let positive = [
            ("run.epoch_length", self.run.epoch_length),
            ("data.batch_size", d.batch_size),
            ("data.global_size", d.global_size),
            ("data.local_size", d.local_size),
            ("model.head_n_prototypes", self.model.head_n_prototypes),
            ("model.head_hidden_dim", self.model.head_hidden_dim),
            ("model.head_bottleneck_dim", self.model.head_bottleneck_dim),
            ("model.head_nlayers", self.model.head_nlayers),
            (
                "optim.gradient_accumulation_steps",
                self.optim.gradient_accumulation_steps,
            ),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(TrainError::Config {
                    key,
                    value: "0".into(),
                    hint: "must be at least 1",
                });
            }
        }
        self.schedules()?;
        self.rules()?;
        // The model and head sizes, bounded by their own checks (the field is named).
        let arch = self.meta_arch(0)?;
        let model_err = |e: panopticon_model::PanopticonError| TrainError::Model(e.to_string());
        arch.model.validate().map_err(model_err)?;
        arch.head.validate().map_err(model_err)?;
        let patch = self.meta_arch(0)?.model.patch_size;
        if !d.global_size.is_multiple_of(patch) {
            return Err(TrainError::Config {
                key: "data.global_size",
                value: d.global_size.to_string(),
                hint: "use a multiple of the model patch size",
            });
        }
        for (key, [lo, hi]) in [
            ("data.global_channels", d.global_channels),
            ("data.local_channels", d.local_channels),
        ] {
            if lo == 0 || lo > hi {
                return Err(TrainError::Config {
                    key,
                    value: format!("[{lo}, {hi}]"),
                    hint: "use [low, high] with 1 ≤ low ≤ high",
                });
            }
        }
        if d.spectral_earth.is_none()
            && d.satlas_root.is_none()
            && d.fmow_root.is_none()
            && d.mmearth.is_none()
        {
            return Err(TrainError::Config {
                key: "data",
                value: "no dataset".into(),
                hint: "set fmow_root, satlas_root + satlas_metadata, mmearth and/or spectral_earth",
            });
        }
        if d.fmow_root.is_none()
            && (d.fmow_split.is_some() || d.fmow_subset.is_some() || d.fmow_max_crop.is_some())
        {
            return Err(TrainError::Config {
                key: "data.fmow_root",
                value: "unset".into(),
                hint: "fmow_split / fmow_subset / fmow_max_crop need fmow_root",
            });
        }
        if d.satlas_root.is_some() != d.satlas_metadata.is_some() {
            return Err(TrainError::Config {
                key: "data.satlas_root",
                value: format!("{:?} / {:?}", d.satlas_root, d.satlas_metadata),
                hint: "set both satlas_root and satlas_metadata, or neither",
            });
        }
        let (o, t, l) = (&self.optim, &self.teacher, &self.loss);
        let reals = [
            ("optim.lr", o.lr),
            ("optim.min_lr", o.min_lr),
            ("optim.weight_decay", o.weight_decay),
            ("optim.weight_decay_end", o.weight_decay_end),
            ("optim.layerwise_decay", o.layerwise_decay),
            ("optim.clip_grad", o.clip_grad),
            ("teacher.momentum_teacher", t.momentum_teacher),
            ("teacher.final_momentum_teacher", t.final_momentum_teacher),
            ("teacher.warmup_teacher_temp", t.warmup_teacher_temp),
            ("teacher.teacher_temp", t.teacher_temp),
            ("loss.dino_weight", l.dino_weight),
            ("loss.ibot_weight", l.ibot_weight),
            ("loss.koleo_weight", l.koleo_weight),
        ];
        for (key, v) in reals {
            if !(v.is_finite() && v >= 0.0) {
                return Err(TrainError::Config {
                    key,
                    value: v.to_string(),
                    hint: "use a finite value ≥ 0",
                });
            }
        }
        for (key, v) in [
            ("teacher.warmup_teacher_temp", t.warmup_teacher_temp),
            ("teacher.teacher_temp", t.teacher_temp),
        ] {
            if v == 0.0 {
                return Err(TrainError::Config {
                    key,
                    value: "0".into(),
                    hint: "a softmax temperature must be > 0",
                });
            }
        }
        if o.epochs.checked_mul(self.run.epoch_length).is_none() {
            return Err(TrainError::Config {
                key: "optim.epochs",
                value: o.epochs.to_string(),
                hint: "epochs · run.epoch_length overflows; use fewer epochs",
            });
        }
        if self.max_iters() == 0 {
            return Err(TrainError::Config {
                key: "run.max_iters",
                value: "0".into(),
                hint: "must be at least 1 (or optim.epochs · run.epoch_length ≥ 1)",
            });
        }
        self.init.validate()
    }

    /// Errors unless every data path the config names exists: checked before the run
    /// directory gets anything, so a typo leaves no half-made run behind.
    pub fn check_data_paths(&self) -> Result<()> {
        let d = &self.data;
        let paths = [
            ("data.spectral_earth", &d.spectral_earth),
            ("data.satlas_root", &d.satlas_root),
            ("data.satlas_metadata", &d.satlas_metadata),
            ("data.fmow_root", &d.fmow_root),
            ("data.mmearth", &d.mmearth),
        ];
        for (key, path) in paths {
            if let Some(p) = path
                && !p.exists()
            {
                return Err(TrainError::Config {
                    key,
                    value: p.display().to_string(),
                    hint: "no such file or directory",
                });
            }
        }
        Ok(())
    }

    /// The backbone config of `model.preset`.
    pub fn backbone(&self) -> Result<PanopticonConfig> {
        let mut c =
            PanopticonConfig::preset(&self.model.preset).ok_or_else(|| TrainError::Config {
                key: "model.preset",
                value: self.model.preset.clone(),
                hint: "use a PanopticonConfig preset such as `tiny-test` or `vitb14`",
            })?;
        if let Some(ls) = self.model.layerscale {
            if !(ls.is_finite() && ls >= 0.0) {
                return Err(TrainError::Config {
                    key: "model.layerscale",
                    value: ls.to_string(),
                    hint: "use a finite value ≥ 0 (0 = no LayerScale)",
                });
            }
            c.init_values = (ls > 0.0).then_some(ls);
        }
        Ok(c)
    }

    /// Parameter-group rules.
    pub fn rules(&self) -> Result<ParamGroupConfig> {
        let backbone = self.backbone()?;
        ParamGroupConfig::new(
            self.optim.layerwise_decay,
            backbone.depth,
            &self.optim.lr_multiplier,
            &self.optim.freeze_weights,
        )
    }

    /// Meta-architecture settings; `start_iter` matters only with `bug_compat_freeze`.
    pub fn meta_arch(&self, start_iter: usize) -> Result<MetaArchConfig> {
        let m = &self.model;
        let mut c = MetaArchConfig::new(
            self.backbone()?,
            m.head_n_prototypes,
            m.head_hidden_dim,
            m.head_bottleneck_dim,
        );
        c.head.nlayers = m.head_nlayers;
        if m.ibot_separate_head {
            c.ibot_head = Some(c.head.clone());
        }
        c.dino_loss_weight = self.loss.dino_weight;
        c.ibot_loss_weight = self.loss.ibot_weight;
        c.koleo_loss_weight = self.loss.koleo_weight;
        c.clip_grad = self.optim.clip_grad;
        c.centering = match self.loss.centering.as_str() {
            "centering" => Centering::Softmax,
            "sinkhorn_knopp" => Centering::SinkhornKnopp,
            other => {
                return Err(TrainError::Config {
                    key: "loss.centering",
                    value: other.into(),
                    hint: "use `centering` or `sinkhorn_knopp`",
                });
            }
        };
        c.freeze = if self.optim.bug_compat_freeze {
            FreezeEpoch::StaleStart { start_iter }
        } else {
            FreezeEpoch::PerIteration
        };
        Ok(c)
    }
}

/// Sets `a.b.c = value` in `table` (a `--set a.b.c=value` override; the value in TOML syntax,
/// or a bare string); the sections must exist, so a typo is an error rather than a new key.
pub fn apply_override(table: &mut toml::Table, spec: &str) -> std::result::Result<(), String> {
    let (key, value) = spec
        .split_once('=')
        .ok_or_else(|| format!("--set {spec}: expected section.key=value"))?;
    let path: Vec<&str> = key.trim().split('.').collect();
    let (leaf, sections) = path.split_last().expect("split yields one item");
    let mut node = table;
    for s in sections {
        node = match node.get_mut(*s) {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(format!("--set {spec}: no section `{s}` in the config")),
        };
    }
    let raw = value.trim();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    node.insert(leaf.to_string(), parsed);
    Ok(())
}
