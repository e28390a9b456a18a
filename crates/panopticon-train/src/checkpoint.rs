//! Full training checkpoints (spec §2.4 content, native layout):
//!
//! ```text
//! <run>/checkpoints/ckpt_0000010/
//!   student_backbone.bpk  student_dino_head.bpk  [student_ibot_head.bpk]
//!   teacher_backbone.bpk  teacher_dino_head.bpk  [teacher_ibot_head.bpk]
//!   optim.bin             AdamW moments + centres, f32 little-endian
//!   state.json            iteration, seed, index of optim.bin
//! <run>/checkpoints/last_checkpoint   name of the newest directory
//! ```
//!
//! Checkpoints are written under a temp name, fsynced and renamed in, with a complete previous
//! checkpoint at every moment (see [`crate::rotation`]). `teacher_backbone.bpk` loads with
//! `Panopticon::from_file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::{AdamState, SslMetaArch};

/// Name of the pointer file to the newest checkpoint.
pub const LAST_CHECKPOINT: &str = "last_checkpoint";

/// One tensor stored in `optim.bin`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlobEntry {
    /// `student.<module>.<burn path>.{exp_avg,exp_avg_sq}` or `dino_center`, ….
    pub name: String,
    /// Offset in f32 elements.
    pub offset: usize,
    /// Length in f32 elements.
    pub len: usize,
    /// AdamW step count (moments only).
    pub step: u64,
}

/// `state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// The next iteration to run.
    pub iteration: usize,
    /// Run seed.
    pub seed: u64,
    /// Entries of `optim.bin`.
    pub blobs: Vec<BlobEntry>,
    /// Where the data loader stands (absent in checkpoints of older runs).
    #[serde(default)]
    pub data: Option<DataPosition>,
    /// Data-parallel replica devices of the run (absent in older checkpoints: one).
    #[serde(default)]
    pub devices: Option<usize>,
}

/// The loader position at a checkpoint, so a resumed run skips exactly the consumed samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPosition {
    /// Sampler tasks consumed: delivered samples plus skipped (failed) ones.
    pub sampler_tasks: u64,
    /// Batches consumed (numbers the next batch; seeds its iBOT masks).
    pub batches: u64,
}

/// Writes the full state of `arch` as `ckpt_{iteration:07}` under `dir` and keeps the newest
/// `keep_last` checkpoints. Returns the checkpoint directory.
pub fn save_checkpoint(
    arch: &SslMetaArch,
    dir: &Path,
    iteration: usize,
    seed: u64,
    keep_last: usize,
    data: Option<DataPosition>,
) -> Result<PathBuf> {
    let name = format!("ckpt_{iteration:07}");
    rotate(dir, &name, keep_last, |tmp| {
        write_checkpoint(arch, tmp, iteration, seed, data)
    })
}

/// Installs the checkpoint `write` fills as `dir/name`, points `last_checkpoint` at it and
/// keeps the newest `keep_last` (see [`crate::rotation`] for the order of the steps).
pub(crate) fn rotate(
    dir: &Path,
    name: &str,
    keep_last: usize,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    crate::rotation::recover(dir)?;
    let final_dir = crate::rotation::install(dir, name, write)?;
    write_atomic(&dir.join(LAST_CHECKPOINT), name)?;
    crate::rotation::crash_point("pointed");
    crate::rotation::drop_old(dir, name)?;
    prune(dir, keep_last.max(1))?;
    Ok(final_dir)
}

/// Writes every file of a checkpoint into `tmp`.
fn write_checkpoint(
    arch: &SslMetaArch,
    tmp: &Path,
    iteration: usize,
    seed: u64,
    data: Option<DataPosition>,
) -> Result<()> {
    for (side, m) in [("student", &arch.student), ("teacher", &arch.teacher)] {
        save_module(&m.backbone, &tmp.join(format!("{side}_backbone.bpk")))?;
        save_module(&m.dino_head, &tmp.join(format!("{side}_dino_head.bpk")))?;
        if let Some(h) = &m.ibot_head {
            save_module(h, &tmp.join(format!("{side}_ibot_head.bpk")))?;
        }
    }
    let mut blob = Vec::<f32>::new();
    let mut blobs = Vec::new();
    let mut push = |name: String, t: Tensor<1>, step: u64| {
        let v: Vec<f32> = t
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("data converted to f32 reads as f32");
        blobs.push(BlobEntry {
            name,
            offset: blob.len(),
            len: v.len(),
            step,
        });
        blob.extend(v);
    };
    for (name, id) in param_paths(&arch.student) {
        if let Some(st) = arch.optim.state(id) {
            push(format!("{name}.exp_avg"), st.exp_avg.clone(), st.step);
            push(format!("{name}.exp_avg_sq"), st.exp_avg_sq.clone(), st.step);
        }
    }
    let centres = [
        ("dino_center", &arch.dino_loss.center),
        ("ibot_center", &arch.ibot_loss.center),
    ];
    for (name, c) in centres {
        push(name.into(), flat(c.value()), 0);
        if let Some(p) = c.pending() {
            push(format!("{name}.pending"), flat(p), 0);
        }
    }
    let bytes: Vec<u8> = blob.iter().flat_map(|x| x.to_le_bytes()).collect();
    let bin = tmp.join("optim.bin");
    std::fs::write(&bin, bytes).map_err(io(&bin))?;
    let state = CheckpointState {
        iteration,
        seed,
        blobs,
        data,
        devices: Some(arch.devices().len()),
    };
    let json = tmp.join("state.json");
    let text = serde_json::to_string_pretty(&state).map_err(|e| fmt_err(&json, e))?;
    std::fs::write(&json, text).map_err(io(&json))
}

/// The newest complete checkpoint under `dir`, if any, after finishing a rotation a crash
/// interrupted ([`crate::rotation::recover`]).
pub fn last_checkpoint(dir: &Path) -> Result<Option<PathBuf>> {
    let p = dir.join(LAST_CHECKPOINT);
    if !p.exists() {
        return Ok(None);
    }
    crate::rotation::recover(dir)?;
    let name = std::fs::read_to_string(&p).map_err(io(&p))?;
    let name = name.trim();
    // The pointer holds a plain directory name; anything else is not ours to follow.
    if !crate::rotation::is_complete(name) || name.contains(['/', '\\']) {
        return Err(fmt_err(&p, format!("`{name}` is not a checkpoint name")));
    }
    let ckpt = dir.join(name);
    Ok(ckpt.is_dir().then_some(ckpt))
}

/// Loads a checkpoint into `arch` (built with the same config) and returns its state:
/// [`load_model_state`] plus the AdamW moments.
pub fn load_checkpoint(arch: &mut SslMetaArch, ckpt: &Path) -> Result<CheckpointState> {
    let (state, blob) = load_model_state(arch, ckpt)?;
    let bin = ckpt.join("optim.bin");
    let dev = arch.device().clone();
    let by_name: HashMap<&str, &BlobEntry> =
        state.blobs.iter().map(|e| (e.name.as_str(), e)).collect();
    for (name, id) in param_paths(&arch.student) {
        let (Some(a), Some(s)) = (
            by_name.get(format!("{name}.exp_avg").as_str()),
            by_name.get(format!("{name}.exp_avg_sq").as_str()),
        ) else {
            continue;
        };
        arch.optim.set_state(
            id,
            AdamState {
                exp_avg: blob_tensor(&blob, a, &bin, &dev)?,
                exp_avg_sq: blob_tensor(&blob, s, &bin, &dev)?,
                step: a.step,
            },
        );
    }
    Ok(state)
}

/// The model side of a checkpoint: student and teacher modules and both loss centres (with
/// their pending statistics); optimizer moments and iteration are left alone (stage-2
/// initialisation from a stage-1 run). Returns the state and the `optim.bin` values.
pub fn load_model_state(
    arch: &mut SslMetaArch,
    ckpt: &Path,
) -> Result<(CheckpointState, Vec<f32>)> {
    let json = ckpt.join("state.json");
    let text = std::fs::read_to_string(&json).map_err(io(&json))?;
    let state: CheckpointState = serde_json::from_str(&text).map_err(|e| fmt_err(&json, e))?;
    let bin = ckpt.join("optim.bin");
    let bytes = std::fs::read(&bin).map_err(io(&bin))?;
    if bytes.len() % 4 != 0 {
        return Err(fmt_err(&bin, "length is not a multiple of 4"));
    }
    let blob: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let dev = arch.device().clone();
    for (side, m) in [
        ("student", &mut arch.student),
        ("teacher", &mut arch.teacher),
    ] {
        load_module(&mut m.backbone, &ckpt.join(format!("{side}_backbone.bpk")))?;
        load_module(
            &mut m.dino_head,
            &ckpt.join(format!("{side}_dino_head.bpk")),
        )?;
        if let Some(h) = &mut m.ibot_head {
            load_module(h, &ckpt.join(format!("{side}_ibot_head.bpk")))?;
        }
    }
    let by_name: HashMap<&str, &BlobEntry> =
        state.blobs.iter().map(|e| (e.name.as_str(), e)).collect();
    let centres = [
        ("dino_center", &mut arch.dino_loss.center),
        ("ibot_center", &mut arch.ibot_loss.center),
    ];
    for (name, c) in centres {
        let e = by_name
            .get(name)
            .ok_or_else(|| fmt_err(&json, format!("missing `{name}`")))?;
        let k = e.len;
        if k != c.value().dims()[1] {
            return Err(fmt_err(
                &json,
                format!(
                    "`{name}` has {k} prototypes, the run {}; match model.head_n_prototypes",
                    c.value().dims()[1]
                ),
            ));
        }
        *c = crate::Center::from_tensor(blob_tensor(&blob, e, &bin, &dev)?.reshape([1, k]))?;
        let pending = match by_name.get(format!("{name}.pending").as_str()) {
            Some(p) => Some(blob_tensor(&blob, p, &bin, &dev)?.reshape([1, k])),
            None => None,
        };
        c.set_pending(pending);
    }
    Ok((state, blob))
}

fn blob_tensor(blob: &[f32], e: &BlobEntry, bin: &Path, dev: &Device) -> Result<Tensor<1>> {
    let v = blob
        .get(e.offset..e.offset + e.len)
        .ok_or_else(|| fmt_err(bin, format!("entry `{}` out of range", e.name)))?;
    Ok(Tensor::<1>::from_data(TensorData::new(v.to_vec(), [e.len]), dev).detach())
}

fn save_module<M: ModuleSnapshot>(m: &M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).overwrite(true);
    m.save_into(&mut store).map_err(|e| fmt_err(path, e))
}

fn load_module<M: ModuleSnapshot>(m: &mut M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path);
    m.load_from(&mut store).map_err(|e| fmt_err(path, e))?;
    Ok(())
}

/// `(student.<module>.<burn path>, ParamId)` of every float parameter, in visit order.
pub fn param_paths<M: Module>(module: &M) -> Vec<(String, ParamId)> {
    let mut v = Paths {
        path: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut v);
    v.out
}

struct Paths {
    path: Vec<String>,
    out: Vec<(String, ParamId)>,
}

impl ModuleVisitor for Paths {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out
            .push((format!("student.{}", self.path.join(".")), param.id));
    }
}

fn flat(t: Tensor<2>) -> Tensor<1> {
    let n: usize = t.dims().iter().product();
    t.reshape([n])
}

fn prune(dir: &Path, keep: usize) -> Result<()> {
    let mut ckpts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(crate::rotation::is_complete)
        })
        .collect();
    ckpts.sort();
    let n = ckpts.len();
    for old in ckpts.into_iter().take(n.saturating_sub(keep)) {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

/// Writes `text` to `path` atomically and durably ([`panopticon_atomic::write_bytes`]).
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    panopticon_atomic::write_bytes(path, text.as_bytes()).map_err(io(path))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.into(),
        source,
    }
}

fn fmt_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Format {
        path: path.into(),
        reason: e.to_string(),
    }
}
