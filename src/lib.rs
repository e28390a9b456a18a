//! # panopticon
//!
//! Panopticon, the any-sensor Earth-observation foundation model, in pure Rust on Burn.
//! This facade re-exports the workspace crates; the `panopticon` binary is the CLI.

pub use panopticon_data as data;
pub use panopticon_eval as eval;
pub use panopticon_model as model;
pub use panopticon_train as train;

pub use panopticon_model::{
    ChannelIds, CheckpointPart, ConvPatchEmbedConfig, FfnLayer, ForwardFeatures, FrozenPanopticon,
    IntermediateLayer, LayerSelection, LoadOptions, LoadReport, Panopticon, PanopticonConfig,
    PanopticonError, PanopticonInput, PatchEmbedConfig,
};
#[cfg(feature = "pretrained")]
pub use panopticon_model::{HubOptions, PanopticonWeights, Registry, WeightsEntry, hub};

pub use panopticon_model::device;
pub mod embed;
pub mod import;
pub mod scale;
pub mod tensor_io;

/// Creates `path` holding `bytes` unless it exists (the first of racing writers wins), atomically
/// (`panopticon-atomic`).
pub use panopticon_atomic::create_new as atomic_create_new;
/// Writes `bytes` to `path` atomically: a uniquely named temp file in the same directory,
/// fsynced, renamed over `path`, the directory fsynced; a failed write leaves nothing behind
/// (the workspace's one writer, `panopticon-atomic`).
pub use panopticon_atomic::write_bytes as atomic_write;

/// Compiles (and runs) the Rust examples of the README.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
