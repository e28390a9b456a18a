//! # panopticon
//!
//! Panopticon, the any-sensor Earth-observation foundation model, in pure Rust on Burn.
//! This facade re-exports the workspace crates; the `panopticon` binary is the CLI.

pub use panopticon_data as data;
pub use panopticon_eval as eval;
pub use panopticon_model as model;
pub use panopticon_train as train;

pub use panopticon_model::{
    CheckpointPart, ConvPatchEmbedConfig, FfnLayer, ForwardFeatures, IntermediateLayer,
    LayerSelection, LoadOptions, LoadReport, Panopticon, PanopticonConfig, PanopticonError,
    PanopticonInput, PatchEmbedConfig,
};
#[cfg(feature = "pretrained")]
pub use panopticon_model::{HubOptions, PanopticonWeights, Registry, WeightsEntry, hub};

pub use panopticon_model::device;
pub mod embed;
pub mod import;
pub mod scale;
pub mod tensor_io;

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// readers never see a half-written file and a failed write leaves no output behind.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Compiles (and runs) the Rust examples of the README.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
