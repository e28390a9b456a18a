//! Typed errors of the training building blocks.

use thiserror::Error;

/// Errors raised by the losses, schedules, parameter groups and optimizer.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A tensor had a shape the operation cannot use.
    #[error("{what}: expected shape {expected}, got {got:?}; check how the batch was assembled")]
    Shape {
        /// Which input was wrong.
        what: &'static str,
        /// The expected shape, in words.
        expected: String,
        /// The shape received.
        got: Vec<usize>,
    },
    /// A configuration value is out of range.
    #[error("invalid training config `{key}` = {value}: {hint}")]
    Config {
        /// The config key (spec §3.13 naming).
        key: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What a valid value looks like.
        hint: &'static str,
    },
    /// A `regex=value,regex=value` option string could not be parsed.
    #[error(
        "cannot parse `{key}` entry `{entry}`: {reason}; expected `regex=number[,regex=number…]`"
    )]
    RuleString {
        /// The config key (`optim.lr_multiplier` or `optim.freeze_weights`).
        key: &'static str,
        /// The entry that failed.
        entry: String,
        /// Why it failed.
        reason: String,
    },
    /// Two parameter lists that must be aligned (student/teacher, params/grads) are not.
    #[error(
        "parameter lists differ at index {index}: {left:?} vs {right:?}; the two modules must have the same structure"
    )]
    Mismatch {
        /// Position in the list.
        index: usize,
        /// Left-hand shape (or `[len]` for a length mismatch).
        left: Vec<usize>,
        /// Right-hand shape.
        right: Vec<usize>,
    },
    /// The backbone or a head rejected its config or input.
    #[error("model error: {0}")]
    Model(String),
    /// The loss became NaN or infinite (upstream aborts the same way).
    #[error("non-finite loss {value} at iteration {iteration}; lower the LR or check the data")]
    NonFinite {
        /// Global iteration.
        iteration: usize,
        /// The loss value.
        value: f64,
    },
    /// File-system error while reading or writing run files.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A run file (config, checkpoint state) could not be parsed or written.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The data loader failed.
    #[error("data loader: {0}")]
    Data(String),
    /// A `--device` list is malformed (empty entry, mixed backends).
    #[error(
        "--device `{list}`: {reason}; use a comma list of one backend, e.g. `cuda:0,cuda:1` or `cpu,cpu`"
    )]
    DeviceList {
        /// The list as given.
        list: String,
        /// What is wrong.
        reason: String,
    },
    /// One `--device` entry names a backend that is not compiled in or not usable here.
    #[error("--device: {0}")]
    Device(panopticon_model::device::DeviceError),
    /// A run is resumed on another number of replica devices than it was checkpointed with.
    #[error(
        "the checkpoint was written by a run on {checkpoint} device(s) but --device lists {requested}; resume with the same --device count (it fixes which samples each step consumes) or start a new run"
    )]
    DeviceCount {
        /// Replica devices of the checkpointed run.
        checkpoint: usize,
        /// Replica devices of this run.
        requested: usize,
    },
    /// A data-parallel replica thread panicked (e.g. a backend failure on its device).
    #[error("replica {index} on {device} failed: {reason}")]
    Replica {
        /// Replica index (position in `--device`).
        index: usize,
        /// The device, formatted.
        device: String,
        /// The panic message.
        reason: String,
    },
}

impl From<panopticon_model::device::DeviceError> for TrainError {
    fn from(e: panopticon_model::device::DeviceError) -> Self {
        // Not a `#[source]`: the message already holds it (no repeat in `{:#}` chains).
        Self::Device(e)
    }
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, TrainError>;
