//! Converting official PyTorch checkpoints to Burn burnpack files, verified.
//!
//! [`convert_checkpoint`] loads a checkpoint into a model, writes it as `.bpk` (atomically),
//! reloads the written file into a fresh model and runs a probe input through both: a
//! conversion only counts when the outputs agree (exactly for f32).

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::*;
use burn::store::{BurnpackStore, FloatCastAdapter, ModuleSnapshot};
use burn::tensor::DType;

use crate::config::{PanopticonConfig, PatchEmbedConfig};
use crate::error::{PanopticonError, Result, WeightsError};
use crate::heads::DinoHead;
use crate::input::PanopticonInput;
use crate::load::{CheckpointPart, LoadOptions, LoadReport};
use crate::precision::{Precision, StorageCast};
use crate::vit::Panopticon;

/// What kind of file is converted; decides where the backbone is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    /// Recognise the layout from the keys.
    #[default]
    Auto,
    /// A bare backbone state dict: the released `panopticon_vitb14_teacher.pth`.
    Teacher,
    /// A training checkpoint: `{model: {teacher.backbone.*, student.*, *.dino_head.*, …}}`.
    TrainCheckpoint,
    /// An evaluation snapshot: `{teacher: {backbone.*, dino_head.*}}`.
    TeacherSnapshot,
    /// A stock DINOv2 checkpoint (`dinov2_vit{s,b,l,g}14[_reg]_pretrain.pth`). Into a
    /// Panopticon config it is the stage-1 initialisation: `patch_embed` and `pos_embed`
    /// are excluded (spec §2.5) and stay at their init.
    Dinov2,
}

impl SourceKind {
    /// Parses `auto|teacher|train-checkpoint|teacher-snapshot|dinov2`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auto" => Self::Auto,
            "teacher" => Self::Teacher,
            "train-checkpoint" => Self::TrainCheckpoint,
            "teacher-snapshot" => Self::TeacherSnapshot,
            "dinov2" => Self::Dinov2,
            _ => return None,
        })
    }

    /// The name [`SourceKind::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Teacher => "teacher",
            Self::TrainCheckpoint => "train-checkpoint",
            Self::TeacherSnapshot => "teacher-snapshot",
            Self::Dinov2 => "dinov2",
        }
    }

    /// Backbone prefixes this kind may have.
    fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::Auto => &[],
            Self::Teacher | Self::Dinov2 => &["", "backbone.", "module."],
            Self::TrainCheckpoint => &[
                "model.teacher.backbone.",
                "model.student.backbone.",
                "teacher.backbone.",
                "student.backbone.",
            ],
            Self::TeacherSnapshot => &["teacher.backbone."],
        }
    }
}

/// How to convert.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// Layout of the source.
    pub kind: SourceKind,
    /// Backbone of a training checkpoint (teacher by default).
    pub part: CheckpointPart,
    /// Element type written.
    pub precision: Precision,
    /// Write even when model parameters are missing from the source (they keep their init).
    pub allow_partial: bool,
    /// Convert even when tensors hold NaN or ±inf ([`LoadOptions::allow_nonfinite`]).
    pub allow_nonfinite: bool,
}

/// What a conversion did.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    /// The backbone load, key by key.
    pub load: LoadReport,
    /// The backbone file written.
    pub out: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Head files written next to it (`name`, path), e.g. `dino_head`.
    pub heads: Vec<(String, PathBuf)>,
    /// Max |source − converted| over the probe outputs: the normalised cls and patch tokens,
    /// and for f32 also the pre-norm tokens.
    pub max_abs_diff: f32,
    /// What the check accepted ([`Precision::allowed`] of the outputs' largest magnitude).
    pub allowed: f32,
    /// Wall time.
    pub seconds: f64,
}

/// Converts `src` into a burnpack at `out` for a model of `config`, then verifies it.
pub fn convert_checkpoint(
    config: &PanopticonConfig,
    src: impl AsRef<Path>,
    out: impl AsRef<Path>,
    opts: &ConvertOptions,
    device: &Device,
) -> Result<ConvertReport> {
    let (src, out) = (src.as_ref(), out.as_ref());
    let start = Instant::now();
    let stage1 = opts.kind == SourceKind::Dinov2
        && matches!(config.patch_embed, PatchEmbedConfig::Panopticon(_));
    let part = match (opts.kind, opts.part) {
        (SourceKind::TrainCheckpoint | SourceKind::TeacherSnapshot, CheckpointPart::Auto) => {
            CheckpointPart::Teacher
        }
        (_, part) => part,
    };
    let load_opts = LoadOptions {
        part,
        strict: false,
        exclude: if stage1 {
            vec!["pos_emb".into(), "patch_embed".into()]
        } else {
            Vec::new()
        },
        allow_nonfinite: opts.allow_nonfinite,
    };
    let mut model = config.init(device)?;
    let load = model.load_weights(src, &load_opts).map_err(|e| match e {
        PanopticonError::Weights(WeightsError::Format { path, reason })
            if opts.kind != SourceKind::Auto =>
        {
            WeightsError::Format {
                path,
                reason: format!(
                    "{reason}; is kind `{}` right? (or use `auto`)",
                    opts.kind.name()
                ),
            }
            .into()
        }
        e => e,
    })?;
    let allowed = opts.kind.prefixes();
    if !allowed.is_empty() && !allowed.contains(&load.prefix.as_str()) {
        return Err(WeightsError::Format {
            path: src.into(),
            reason: format!(
                "the backbone sits under `{}`, which is not a `{}` layout (expected one of \
                 {allowed:?}); pick the right kind or `auto`",
                load.prefix,
                opts.kind.name()
            ),
        }
        .into());
    }
    if !load.missing.is_empty() && !opts.allow_partial {
        return Err(WeightsError::Missing {
            path: src.into(),
            keys: load.missing.clone(),
        }
        .into());
    }

    let probe = probe_input(config, device)?;
    let want = probe_outputs(&model, &probe)?;
    save(&model, out, opts.precision, &provenance(src, &load, config))?;
    drop(model);

    let mut reloaded = config.init(device)?;
    reloaded.load_weights(out, &LoadOptions::default())?;
    let got = probe_outputs(&reloaded, &probe)?;
    // Half precision is judged on what users get (the normalised tokens); f32 on everything.
    let mut max_abs_diff = max_abs_diff(&want[1..], &got[1..]);
    if opts.precision == Precision::F32 {
        max_abs_diff = max_abs_diff.max(self::max_abs_diff(&want[..1], &got[..1]));
    }
    drop(reloaded);
    let allowed = opts.precision.allowed(max_abs(&want[1..]));
    if max_abs_diff > allowed || max_abs_diff.is_nan() {
        let _ = std::fs::remove_file(out);
        return Err(WeightsError::Format {
            path: out.into(),
            reason: format!(
                "verification failed: the converted model differs from the source by {max_abs_diff:e} \
                 (allowed {allowed:e}); the file was removed"
            ),
        }
        .into());
    }

    let heads = convert_heads(src, &load.prefix, out, opts.precision, device)?;
    let bytes = std::fs::metadata(out)
        .map_err(|source| WeightsError::Io {
            path: out.into(),
            source,
        })?
        .len();
    Ok(ConvertReport {
        load,
        out: out.into(),
        bytes,
        heads,
        max_abs_diff,
        allowed,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Writes the DINO/iBOT heads that sit next to the backbone as `<out>.dino_head.bpk` etc.
fn convert_heads(
    src: &Path,
    backbone_prefix: &str,
    out: &Path,
    precision: Precision,
    device: &Device,
) -> Result<Vec<(String, PathBuf)>> {
    let Some(owner) = backbone_prefix.strip_suffix("backbone.") else {
        return Ok(Vec::new());
    };
    let mut written = Vec::new();
    for name in ["dino_head", "ibot_head"] {
        let Some(head) = DinoHead::from_checkpoint(src, &format!("{owner}{name}."), device)? else {
            continue;
        };
        let path = out.with_extension(format!("{name}.bpk"));
        let x = Tensor::<2>::from_data(
            TensorData::new(
                pseudo_random(2 * head.config().in_dim, 7),
                [2, head.config().in_dim],
            ),
            device,
        );
        let want = head.forward(x.clone()).into_data();
        let allowed = precision.allowed(max_abs(std::slice::from_ref(&want)));
        save(&head, &path, precision, &[("kind".into(), name.into())])?;
        let mut reloaded = head.config().init(device)?;
        load_burnpack(&mut reloaded, &path)?;
        let diff = max_abs_diff(&[want], &[reloaded.forward(x).into_data()]);
        if diff > allowed || diff.is_nan() {
            let _ = std::fs::remove_file(&path);
            return Err(WeightsError::Format {
                path,
                reason: format!("head verification failed: difference {diff:e} > {allowed:e}"),
            }
            .into());
        }
        written.push((name.to_string(), path));
    }
    Ok(written)
}

/// Loads a burnpack written by [`save`] into `module` (strict).
pub(crate) fn load_burnpack<M: ModuleSnapshot>(module: &mut M, path: &Path) -> Result<()> {
    let mut store =
        BurnpackStore::from_file(path).with_from_adapter(FloatCastAdapter::to(DType::F32));
    module.load_from(&mut store).map_err(|e| {
        PanopticonError::from(WeightsError::Format {
            path: path.into(),
            reason: e.to_string(),
        })
    })?;
    Ok(())
}

/// Writes `module` as a burnpack, atomically: a temp file next to `out`, then a rename.
fn save<M: ModuleSnapshot>(
    module: &M,
    out: &Path,
    precision: Precision,
    metadata: &[(String, String)],
) -> Result<()> {
    let fail = |reason: String| {
        PanopticonError::from(WeightsError::Write {
            path: out.into(),
            reason,
        })
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    panopticon_atomic::write_with(out, |tmp| {
        let mut store = BurnpackStore::from_file(tmp)
            .overwrite(true)
            .auto_extension(false)
            .with_to_adapter(StorageCast(precision));
        for (k, v) in metadata {
            store = store.metadata(k.clone(), v.clone());
        }
        module.save_into(&mut store).map_err(std::io::Error::other)
    })
    .map_err(|e| fail(e.to_string()))
}

/// Provenance stored in the burnpack's metadata.
fn provenance(src: &Path, load: &LoadReport, config: &PanopticonConfig) -> Vec<(String, String)> {
    vec![
        ("panopticon.source".into(), src.display().to_string()),
        ("panopticon.prefix".into(), load.prefix.clone()),
        ("panopticon.config".into(), config.to_string()),
    ]
}

/// A fixed input exercising every part of the model: two samples, a non-square image
/// (position resampling), three optical channels and one SAR channel.
fn probe_input(config: &PanopticonConfig, device: &Device) -> Result<PanopticonInput> {
    let (h, w) = (2 * config.patch_size, 3 * config.patch_size);
    let ids: Vec<f32> = match &config.patch_embed {
        PatchEmbedConfig::Panopticon(_) => vec![664.6, 559.8, 492.4, -1.0],
        PatchEmbedConfig::Conv(c) => (0..c.in_chans).map(|i| i as f32).collect(),
    };
    let c = ids.len();
    let imgs = Tensor::<4>::from_data(
        TensorData::new(pseudo_random(2 * c * h * w, 1), [2, c, h, w]),
        device,
    );
    PanopticonInput::with_shared_ids(imgs, &ids)
}

/// Backend-independent values in [−2, 2) (a 64-bit LCG).
fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        })
        .collect()
}

/// `[x_prenorm, x_norm_clstoken, x_norm_patchtokens]`.
fn probe_outputs(model: &Panopticon, input: &PanopticonInput) -> Result<Vec<TensorData>> {
    let f = model.forward_features(input, None)?;
    Ok(vec![
        f.x_prenorm.into_data(),
        f.x_norm_clstoken.into_data(),
        f.x_norm_patchtokens.into_data(),
    ])
}

fn max_abs(a: &[TensorData]) -> f32 {
    a.iter()
        .flat_map(|x| x.iter::<f32>().map(f32::abs).collect::<Vec<_>>())
        .fold(0.0, f32::max)
}

fn max_abs_diff(a: &[TensorData], b: &[TensorData]) -> f32 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            x.iter::<f32>()
                .zip(y.iter::<f32>())
                .map(|(p, q)| (p - q).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, |m: f32, d| {
            if d.is_nan() || m.is_nan() {
                f32::NAN
            } else {
                m.max(d)
            }
        })
}
