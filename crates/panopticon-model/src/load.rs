//! Loading official PyTorch checkpoints (`.pth`, `.safetensors`) and Burn `.bpk` files.
//!
//! The module tree mirrors the PyTorch state dict, so the only renames are what Burn itself
//! imposes, done by burn-store's `PyTorchToBurnAdapter`:
//!
//! | PyTorch key | Burn parameter |
//! |---|---|
//! | `*.weight` of a `Linear` (`[out, in]`) | `*.weight` transposed to `[in, out]` |
//! | `norm*.weight` / `norm*.bias` of a `LayerNorm` | `norm*.gamma` / `norm*.beta` |
//! | everything else (`cls_token`, `pos_embed`, `ls1.gamma`, `patch_embed.conv3d.conv3d.weight`, …) | same name, same layout |
//!
//! Checkpoint layouts are recognised by where the backbone's `cls_token` sits: a bare state
//! dict (the released `panopticon_vitb14_teacher.pth`, 183 tensors), a training checkpoint
//! (`model.{teacher,student}.backbone.*`, or the same without `model.`), a teacher snapshot
//! (`teacher.backbone.*`), or a `backbone.`/`module.` prefix.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{
    ApplyError, BurnpackStore, ChainAdapter, FloatCastAdapter, ModuleSnapshot, ModuleStore,
    PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};
use burn::tensor::DType;

use crate::config::PanopticonConfig;
use crate::error::{PanopticonError, Result, WeightsError};
use crate::vit::Panopticon;

/// Which backbone to take from a checkpoint that holds several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckpointPart {
    /// The teacher if there is one, else the only backbone.
    #[default]
    Auto,
    /// `teacher.backbone.*`.
    Teacher,
    /// `student.backbone.*`.
    Student,
}

/// How to load a weights file.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Which backbone of a training checkpoint.
    pub part: CheckpointPart,
    /// Fail on missing or unused tensors (shape mismatches always fail).
    pub strict: bool,
    /// Regexes (unanchored, as upstream's `exclude`) over PyTorch keys relative to the
    /// backbone: matching tensors are not taken from the file and matching parameters are
    /// not required. Stage-1 initialisation from DINOv2 uses `["pos_emb", "patch_embed"]`.
    pub exclude: Vec<String>,
    /// Accept tensors holding NaN or ±inf (by default they fail the load, naming the tensor:
    /// such weights only ever give NaN embeddings).
    pub allow_nonfinite: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            part: CheckpointPart::Auto,
            strict: true,
            exclude: Vec::new(),
            allow_nonfinite: false,
        }
    }
}

/// What a load did, key by key (PyTorch names).
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// The file.
    pub path: PathBuf,
    /// `pth`, `safetensors` or `burnpack`.
    pub format: &'static str,
    /// The prefix the backbone was found under (empty for a bare state dict).
    pub prefix: String,
    /// Tensors loaded into the model.
    pub applied: Vec<String>,
    /// Model parameters the file did not provide (left at their init values).
    pub missing: Vec<String>,
    /// Tensors under the prefix the model has no place for.
    pub unused: Vec<String>,
    /// Tensors outside the prefix (other backbone, heads, optimizer state, ...), not looked at.
    pub ignored: usize,
    /// Tensors of the file skipped by [`LoadOptions::exclude`] (full names, with the prefix).
    pub excluded: Vec<String>,
    /// Model parameters matched by [`LoadOptions::exclude`]: they keep their init values and
    /// do not count as missing.
    pub kept_init: Vec<String>,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = if self.prefix.is_empty() {
            "(none)"
        } else {
            &self.prefix
        };
        writeln!(
            f,
            "weights {} ({}), backbone prefix {prefix}",
            self.path.display(),
            self.format
        )?;
        writeln!(
            f,
            "  applied {}, missing {}, unused {}, excluded {}, ignored {}",
            self.applied.len(),
            self.missing.len(),
            self.unused.len(),
            self.excluded.len(),
            self.ignored
        )?;
        if !self.kept_init.is_empty() {
            writeln!(
                f,
                "  kept at init (excluded): {}",
                self.kept_init.join(", ")
            )?;
        }
        for k in &self.missing {
            writeln!(f, "  missing: {k}")?;
        }
        for k in &self.unused {
            writeln!(f, "  unused:  {k}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pth,
    Safetensors,
    Burnpack,
}

fn sniff(path: &Path) -> Result<Format, WeightsError> {
    let mut head = [0u8; 9];
    let mut file = std::fs::File::open(path).map_err(|source| WeightsError::Io {
        path: path.into(),
        source,
    })?;
    let n = file.read(&mut head).map_err(|source| WeightsError::Io {
        path: path.into(),
        source,
    })?;
    let format_err = |reason: &str| WeightsError::Format {
        path: path.into(),
        reason: reason.into(),
    };
    if n < 4 {
        return Err(format_err("file is empty or truncated"));
    }
    if head.starts_with(b"PK\x03\x04") || head[0] == 0x80 || head.starts_with(b"sys_info") {
        return Ok(Format::Pth);
    }
    if u32::from_le_bytes([head[0], head[1], head[2], head[3]])
        == burn::store::burn_pack::MAGIC_NUMBER
    {
        return Ok(Format::Burnpack);
    }
    if n == 9 && head[8] == b'{' {
        return Ok(Format::Safetensors);
    }
    Err(format_err("unknown file signature"))
}

/// Every tensor of a PyTorch (`.pth`) or safetensors file, keyed by its flattened name, with
/// the format (`pth` or `safetensors`, sniffed from the signature). Tensor data is read
/// lazily (`to_bytes`). What [`Panopticon::load_weights`] and the DINO-head loader read
/// checkpoints with.
pub fn read_checkpoint_tensors(
    path: &Path,
) -> Result<(
    &'static str,
    std::collections::BTreeMap<String, burn::store::burn_pack::Tensor>,
)> {
    let corrupt = |e: &dyn fmt::Display| WeightsError::Format {
        path: path.into(),
        reason: e.to_string(),
    };
    Ok(match sniff(path)? {
        Format::Pth => (
            "pth",
            PytorchStore::from_file(path)
                .get_all_tensors()
                .map_err(|e| corrupt(&e))?
                .clone(),
        ),
        Format::Safetensors => (
            "safetensors",
            SafetensorsStore::from_file(path)
                .get_all_tensors()
                .map_err(|e| corrupt(&e))?
                .clone(),
        ),
        Format::Burnpack => {
            return Err(
                corrupt(&"a Burn .bpk file where a PyTorch checkpoint was expected").into(),
            );
        }
    })
}

/// Compiles [`LoadOptions::exclude`].
pub(crate) fn exclude_set(patterns: &[String]) -> Result<regex::RegexSet> {
    regex::RegexSet::new(patterns)
        .map_err(|e| PanopticonError::Config(format!("invalid exclude pattern: {e}")))
}

/// Turns a Burn parameter path into the PyTorch key: drops enum-variant segments and maps
/// LayerNorm `gamma`/`beta` back to `weight`/`bias`.
fn torch_key(path: &str) -> String {
    let segs: Vec<&str> = path
        .split('.')
        .filter(|s| {
            !(s.chars().next().is_some_and(char::is_uppercase) && s.chars().any(char::is_lowercase))
        })
        .collect();
    let mut key = segs.join(".");
    let is_norm = segs.len() >= 2 && {
        let owner = segs[segs.len() - 2];
        owner.starts_with("norm") || owner == "layer_norm"
    };
    if is_norm {
        if let Some(k) = key.strip_suffix(".gamma") {
            key = format!("{k}.weight");
        } else if let Some(k) = key.strip_suffix(".beta") {
            key = format!("{k}.bias");
        }
    }
    key
}

/// The backbone prefixes tried, in order, for each part.
fn candidate_prefixes(part: CheckpointPart) -> &'static [&'static str] {
    match part {
        CheckpointPart::Auto => &[
            "",
            "backbone.",
            "module.",
            "model.teacher.backbone.",
            "teacher.backbone.",
            "model.student.backbone.",
            "student.backbone.",
        ],
        CheckpointPart::Teacher => &["model.teacher.backbone.", "teacher.backbone.", "teacher."],
        CheckpointPart::Student => &["model.student.backbone.", "student.backbone.", "student."],
    }
}

impl Panopticon {
    /// Builds a model from `config` and loads a weights file into it (strict). For inference,
    /// [`to_frozen`](Panopticon::to_frozen) it.
    pub fn from_file(
        config: &PanopticonConfig,
        path: impl AsRef<Path>,
        device: &burn::prelude::Device,
    ) -> Result<(Self, LoadReport)> {
        let mut model = config.init(device)?;
        let report = model.load_weights(path, &LoadOptions::default())?;
        Ok((model, report))
    }

    /// Loads a weights file into this model. Shapes must match; with `strict`, every model
    /// parameter must be provided and every tensor under the backbone prefix used.
    pub fn load_weights(
        &mut self,
        path: impl AsRef<Path>,
        opts: &LoadOptions,
    ) -> Result<LoadReport> {
        let path = path.as_ref();
        let format = sniff(path)?;
        let exclude = exclude_set(&opts.exclude)?;
        let mut excluded = Vec::new();
        let mut kept_init = Vec::new();
        let corrupt = |e: &dyn fmt::Display| WeightsError::Format {
            path: path.into(),
            reason: e.to_string(),
        };
        let (result, prefix, ignored, format_name) = match format {
            Format::Burnpack => {
                // Half-precision files load into the f32 model.
                let mut store = BurnpackStore::from_file(path)
                    .allow_partial(true)
                    .validate(false)
                    .with_from_adapter(FloatCastAdapter::to(DType::F32));
                let result = self.load_from(&mut store).map_err(|e| corrupt(&e))?;
                (result, String::new(), 0, "burnpack")
            }
            Format::Pth | Format::Safetensors => {
                let (format_name, tensors) = read_checkpoint_tensors(path)?;
                let prefix = candidate_prefixes(opts.part)
                    .iter()
                    .find(|p| tensors.contains_key(&format!("{p}cls_token")))
                    .ok_or_else(|| WeightsError::Format {
                        path: path.into(),
                        reason: format!(
                            "no backbone found (no `cls_token` under {:?}); {} tensors, e.g. {}",
                            candidate_prefixes(opts.part),
                            tensors.len(),
                            tensors
                                .keys()
                                .take(3)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })?
                    .to_string();
                let mut selected = Vec::new();
                let mut ignored = 0;
                for (name, mut t) in tensors {
                    match name.strip_prefix(prefix.as_str()) {
                        Some(rest) if exclude.is_match(rest) => {
                            excluded.push(format!("{prefix}{rest}"))
                        }
                        Some(rest) => {
                            t.name = rest.to_string();
                            selected.push(t);
                        }
                        None => ignored += 1,
                    }
                }
                let adapter =
                    ChainAdapter::new(PyTorchToBurnAdapter, FloatCastAdapter::to(DType::F32));
                let result = self.apply(selected, None, Some(Box::new(adapter)), true);
                (result, prefix, ignored, format_name)
            }
        };
        if let Some(err) = result.errors.first() {
            return Err(match err {
                ApplyError::ShapeMismatch {
                    path: p,
                    expected,
                    found,
                } => WeightsError::ShapeMismatch {
                    path: path.into(),
                    key: format!("{prefix}{}", torch_key(p)),
                    expected: expected.clone().into(),
                    found: found.clone().into(),
                },
                ApplyError::DTypeMismatch {
                    path: p,
                    expected,
                    found,
                } => WeightsError::Tensor {
                    path: path.into(),
                    key: format!("{prefix}{}", torch_key(p)),
                    reason: format!(
                        "element type {found:?} cannot be loaded into a {expected:?} parameter"
                    ),
                },
                ApplyError::AdapterError { path: p, message }
                | ApplyError::LoadError { path: p, message } => WeightsError::Tensor {
                    path: path.into(),
                    key: format!("{prefix}{}", torch_key(p)),
                    reason: message.clone(),
                },
            }
            .into());
        }
        let report = LoadReport {
            path: path.into(),
            format: format_name,
            applied: result.applied.iter().map(|p| torch_key(p)).collect(),
            missing: result
                .missing
                .iter()
                .map(|(p, _)| torch_key(p))
                .filter(|k| {
                    let skip = exclude.is_match(k);
                    if skip {
                        kept_init.push(k.clone());
                    }
                    !skip
                })
                .map(|k| format!("{prefix}{k}"))
                .collect(),
            unused: result
                .unused
                .iter()
                .map(|p| format!("{prefix}{p}"))
                .collect(),
            prefix,
            ignored,
            excluded,
            kept_init,
        };
        if opts.strict && !report.missing.is_empty() {
            return Err(PanopticonError::Weights(WeightsError::Missing {
                path: path.into(),
                keys: report.missing,
            }));
        }
        if opts.strict && !report.unused.is_empty() {
            return Err(PanopticonError::Weights(WeightsError::Unused {
                path: path.into(),
                keys: report.unused,
            }));
        }
        if !opts.allow_nonfinite {
            self.check_finite_params(path, &report.prefix)?;
        }
        Ok(report)
    }

    /// Errors on the first parameter holding NaN or ±inf, named as in the checkpoint.
    fn check_finite_params(&self, path: &Path, prefix: &str) -> Result<()> {
        for t in self.collect(None, None, false) {
            if t.dtype != DType::F32 {
                continue;
            }
            let bytes = t.to_bytes().map_err(|e| WeightsError::Tensor {
                path: path.into(),
                key: format!("{prefix}{}", torch_key(&t.name)),
                reason: e.to_string(),
            })?;
            let count = bytes
                .chunks_exact(4)
                .filter(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
                .count();
            if count > 0 {
                return Err(WeightsError::NonFinite {
                    path: path.into(),
                    key: format!("{prefix}{}", torch_key(&t.name)),
                    count,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Saves the model as a Burn burnpack file (`.bpk`), atomically and durably
    /// ([`panopticon_atomic::write_with`]: unique temp name, fsync, rename, nothing left on
    /// failure).
    pub fn save_burnpack(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        panopticon_atomic::write_with(path, |tmp| {
            let mut store = BurnpackStore::from_file(tmp)
                .overwrite(true)
                .auto_extension(false);
            self.save_into(&mut store).map_err(std::io::Error::other)
        })
        .map_err(|e| {
            WeightsError::Write {
                path: path.into(),
                reason: e.to_string(),
            }
            .into()
        })
    }

    /// Number of parameters.
    pub fn num_parameters(&self) -> usize {
        self.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::torch_key;

    #[test]
    fn burn_paths_map_to_torch_keys() {
        assert_eq!(torch_key("blocks.0.norm1.gamma"), "blocks.0.norm1.weight");
        assert_eq!(torch_key("norm.beta"), "norm.bias");
        assert_eq!(torch_key("blocks.3.ls1.gamma"), "blocks.3.ls1.gamma");
        assert_eq!(
            torch_key("patch_embed.Panopticon.chnfus.query"),
            "patch_embed.chnfus.query"
        );
        assert_eq!(
            torch_key("blocks.1.mlp.Mlp.fc1.weight"),
            "blocks.1.mlp.fc1.weight"
        );
    }
}
