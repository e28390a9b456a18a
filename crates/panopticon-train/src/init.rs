//! Initial weights of a run (spec §2.5, §3.13 `MODEL.pretrained_weights` / `MODEL.WEIGHTS`).
//!
//! * **Stage 1**: a stock DINOv2 backbone (`dinov2_vitb14_pretrain.pth`) into the student
//!   backbone except the keys matching `backbone_exclude` (`pos_emb`, `patch_embed`: they keep
//!   their random init), and the RGB DINO head of `rgb_heads.pth` into the student head. Then
//!   teacher := student, as upstream's `prepare_for_distributed_training` copies every student
//!   sub-module to the teacher after loading (so the file's teacher head is never used).
//! * **Stage 2**: a stage-1 checkpoint directory: student, teacher, heads and loss centres
//!   (model-only: fresh optimizer, iteration 0 — fvcore's `load` of `MODEL.WEIGHTS`). A teacher
//!   snapshot (`teacher_backbone.bpk`, or a PyTorch teacher checkpoint) works as `backbone`
//!   (+ `heads`) instead: it initialises the student, and the teacher is its copy.
//!
//! Backbone loading is `panopticon-model`'s
//! [`Panopticon::load_weights`](panopticon_model::Panopticon::load_weights) (key mapping, prefix
//! detection, exclude regexes), head loading its [`DinoHead::from_checkpoint`].

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot, ModuleStore, PytorchStore};
use panopticon_model::{CheckpointPart, DinoHead, LoadOptions, LoadReport};
use serde::Deserialize;

use crate::SslMetaArch;
use crate::error::{Result, TrainError};

/// `[init]` of a [`crate::TrainConfig`]; all fields optional (absent = random init).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitSection {
    /// Backbone weights for the student (`.pth`, `.safetensors` or `.bpk`): a stock DINOv2
    /// checkpoint (stage 1), a teacher snapshot, or a released teacher file.
    pub backbone: Option<PathBuf>,
    /// Regexes (unanchored) of backbone keys not taken from `backbone` (stage 1:
    /// `["pos_emb", "patch_embed"]`, spec §2.2).
    #[serde(default)]
    pub backbone_exclude: Vec<String>,
    /// DINO head for the student: a PyTorch file with `[model.]student.dino_head.*` (stage 1's
    /// `rgb_heads.pth`; `teacher.dino_head.*` / `dino_head.*` if there is no student head), or
    /// a Burn `*_dino_head.bpk`.
    pub heads: Option<PathBuf>,
    /// A run checkpoint directory (`<run>/checkpoints/ckpt_…`), a run directory (its newest
    /// checkpoint) or an upstream `model_final.pth`: every model tensor and the loss centres,
    /// no optimizer state (stage 2).
    pub checkpoint: Option<PathBuf>,
}

/// What [`init_weights`] loaded.
#[derive(Debug, Clone, Default)]
pub struct InitReport {
    /// The backbone load, key by key.
    pub backbone: Option<LoadReport>,
    /// The head file and the prefix its tensors were found under.
    pub heads: Option<(PathBuf, String)>,
    /// The checkpoint directory loaded.
    pub checkpoint: Option<PathBuf>,
}

impl InitSection {
    /// Whether anything is to be loaded.
    pub fn is_empty(&self) -> bool {
        self.backbone.is_none() && self.heads.is_none() && self.checkpoint.is_none()
    }

    /// Checks the combination: `checkpoint` replaces `backbone`/`heads`, and exclude patterns
    /// need a `backbone` and must compile.
    pub fn validate(&self) -> Result<()> {
        if self.checkpoint.is_some() && (self.backbone.is_some() || self.heads.is_some()) {
            return Err(TrainError::Config {
                key: "init.checkpoint",
                value: format!("{:?}", self.checkpoint),
                hint: "a checkpoint holds backbone and heads already; drop init.backbone/heads",
            });
        }
        if !self.backbone_exclude.is_empty() && self.backbone.is_none() {
            return Err(TrainError::Config {
                key: "init.backbone_exclude",
                value: format!("{:?}", self.backbone_exclude),
                hint: "exclude patterns apply to init.backbone, which is not set",
            });
        }
        regex::RegexSet::new(&self.backbone_exclude).map_err(|e| TrainError::Config {
            key: "init.backbone_exclude",
            value: e.to_string(),
            hint: "use valid regular expressions",
        })?;
        Ok(())
    }
}

/// Loads the `[init]` weights into a freshly built `arch` (see the module docs).
pub fn init_weights(arch: &mut SslMetaArch, init: &InitSection) -> Result<InitReport> {
    init.validate()?;
    let mut report = InitReport::default();
    if let Some(file) = init.checkpoint.as_ref().filter(|p| p.is_file()) {
        load_torch_checkpoint(arch, file)?;
        report.checkpoint = Some(file.clone());
        return Ok(report);
    }
    if let Some(dir) = &init.checkpoint {
        let ckpt = resolve_checkpoint(dir)?;
        crate::checkpoint::load_model_state(arch, &ckpt)?;
        report.checkpoint = Some(ckpt);
        return Ok(report);
    }
    let model_err = |e: panopticon_model::PanopticonError| TrainError::Model(e.to_string());
    if let Some(path) = &init.backbone {
        let opts = LoadOptions {
            part: CheckpointPart::Auto,
            strict: false,
            exclude: init.backbone_exclude.clone(),
            ..Default::default()
        };
        let r = arch
            .student
            .backbone
            .load_weights(path, &opts)
            .map_err(model_err)?;
        if r.applied.is_empty() {
            return Err(TrainError::Format {
                path: path.clone(),
                reason: format!("no tensor matched the backbone:\n{r}"),
            });
        }
        report.backbone = Some(r);
    }
    if let Some(path) = &init.heads {
        let prefix = load_head(arch, path)?;
        report.heads = Some((path.clone(), prefix));
    }
    // Upstream copies student → teacher after all loading.
    arch.teacher = arch.student.valid();
    Ok(report)
}

/// The student head from `path`; returns the prefix it was found under.
fn load_head(arch: &mut SslMetaArch, path: &Path) -> Result<String> {
    let (head, prefix) = read_head(
        arch,
        path,
        &[
            "model.student.dino_head.",
            "student.dino_head.",
            "model.teacher.dino_head.",
            "teacher.dino_head.",
            "dino_head.",
        ],
    )?;
    if let Some(head) = head {
        arch.student.dino_head = head;
    }
    Ok(prefix)
}

/// A head of the run's sizes from the first of `prefixes` present in `path` (`None` for a
/// `.bpk`, which is loaded into the student head directly).
fn read_head(
    arch: &mut SslMetaArch,
    path: &Path,
    prefixes: &[&str],
) -> Result<(Option<DinoHead>, String)> {
    if path.extension().is_some_and(|e| e == "bpk") {
        let mut store = BurnpackStore::from_file(path);
        arch.student
            .dino_head
            .load_from(&mut store)
            .map_err(|e| TrainError::Format {
                path: path.into(),
                reason: e.to_string(),
            })?;
        return Ok((None, String::new()));
    }
    let device = arch.device().clone();
    let want = arch.config.head.clone();
    for &prefix in prefixes {
        let head = DinoHead::from_checkpoint(path, prefix, &device)
            .map_err(|e| TrainError::Model(e.to_string()))?;
        if let Some(head) = head {
            let got = head.config();
            // The hidden width does not exist in a one-layer head.
            let key = |c: &panopticon_model::DinoHeadConfig| {
                let hidden = (c.nlayers > 1).then_some(c.hidden_dim);
                (c.in_dim, c.out_dim, hidden, c.bottleneck_dim, c.nlayers)
            };
            if key(&got) != key(&want) {
                return Err(TrainError::Format {
                    path: path.into(),
                    reason: format!(
                        "head `{prefix}*` is {got:?} but the run's head is {want:?}; match \
                         model.head_* to the file"
                    ),
                });
            }
            return Ok((Some(head), prefix.into()));
        }
    }
    Err(TrainError::Format {
        path: path.into(),
        reason: format!("no DINO head under any of {prefixes:?} in the file"),
    })
}

/// An upstream training checkpoint (`model_final.pth`: `model.{student,teacher}.backbone.*`,
/// `model.{student,teacher}.dino_head.*`, `model.dino_loss.center`,
/// `model.ibot_patch_loss.center`): each side into its twin, centres if present.
fn load_torch_checkpoint(arch: &mut SslMetaArch, path: &Path) -> Result<()> {
    let model_err = |e: panopticon_model::PanopticonError| TrainError::Model(e.to_string());
    for part in [CheckpointPart::Student, CheckpointPart::Teacher] {
        let opts = LoadOptions {
            part,
            strict: true,
            ..Default::default()
        };
        let target = match part {
            CheckpointPart::Teacher => &mut arch.teacher.backbone,
            _ => &mut arch.student.backbone,
        };
        target.load_weights(path, &opts).map_err(model_err)?;
    }
    for side in ["student", "teacher"] {
        let prefixes = [
            format!("model.{side}.dino_head."),
            format!("{side}.dino_head."),
        ];
        let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
        let (head, _) = read_head(arch, path, &prefixes)?;
        let head = head.ok_or_else(|| TrainError::Format {
            path: path.into(),
            reason: "a burnpack is not a training checkpoint".into(),
        })?;
        match side {
            "student" => arch.student.dino_head = head,
            _ => arch.teacher.dino_head = head.valid(),
        }
    }
    let mut store = PytorchStore::from_file(path);
    let tensors = store.get_all_tensors().map_err(|e| TrainError::Format {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let device = arch.device().clone();
    let centres = [
        ("dino_loss.center", &mut arch.dino_loss.center),
        ("ibot_patch_loss.center", &mut arch.ibot_loss.center),
    ];
    for (key, centre) in centres {
        let Some(t) = [format!("model.{key}"), key.to_string()]
            .iter()
            .find_map(|k| tensors.get(k))
        else {
            continue;
        };
        let data = burn::store::bridge::to_data(t)
            .map_err(|e| TrainError::Format {
                path: path.into(),
                reason: format!("{key}: {e}"),
            })?
            .convert::<f32>();
        let k = centre.value().dims()[1];
        if data.num_elements() != k {
            return Err(TrainError::Format {
                path: path.into(),
                reason: format!(
                    "{key} has {} values, the run's heads {k} prototypes",
                    data.num_elements()
                ),
            });
        }
        // DINO stores (1, K), iBOT (1, 1, K): flatten.
        let flat = data.try_to_vec::<f32>().map_err(|e| TrainError::Format {
            path: path.into(),
            reason: format!("{key}: {e:?}"),
        })?;
        let values = Tensor::<2>::from_data(TensorData::new(flat, [1, k]), &device);
        *centre = crate::Center::from_tensor(values)?;
    }
    Ok(())
}

/// A checkpoint directory itself, or the newest checkpoint of a run directory.
fn resolve_checkpoint(dir: &Path) -> Result<PathBuf> {
    if dir.join("state.json").is_file() {
        return Ok(dir.into());
    }
    for candidate in [dir.to_path_buf(), dir.join("checkpoints")] {
        if let Some(c) = crate::checkpoint::last_checkpoint(&candidate)? {
            return Ok(c);
        }
    }
    Err(TrainError::Format {
        path: dir.into(),
        reason: "not a checkpoint directory (no state.json) nor a run with checkpoints".into(),
    })
}
