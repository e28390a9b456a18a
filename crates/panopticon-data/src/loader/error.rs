//! Errors of the loader.

use crate::augment::CollateError;
use crate::datasets::DatasetError;

/// A sample that could not be loaded or augmented (skipped by the loader).
#[derive(Debug)]
pub struct SampleFailure {
    /// Dataset index of the sample.
    pub index: usize,
    /// Global sample number (augmentation stream).
    pub sample_id: u64,
    /// What went wrong; the message names the file(s).
    pub error: DatasetError,
}

impl std::fmt::Display for SampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sample {} (index {}): {}",
            self.sample_id, self.index, self.error
        )
    }
}

/// Errors of [`crate::loader::PretrainLoader`] and [`crate::loader::OrderedPool`].
#[derive(Debug, thiserror::Error)]
pub enum LoaderError {
    /// Invalid loader or sampler settings.
    #[error("invalid loader settings: {0}")]
    Config(String),
    /// More samples failed than `max_failures` allows; lists every failure seen.
    #[error(
        "{} samples failed to load (max_failures = {max}); fix or remove the files, or raise \
         max_failures:\n{}",
        failures.len(),
        failures.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
    )]
    TooManyFailures {
        /// The allowed number of failures.
        max: usize,
        /// All failures so far (the last one exceeded the limit).
        failures: Vec<SampleFailure>,
    },
    /// A worker panicked while processing a sample (a bug, not bad data).
    #[error(
        "a loader worker panicked on sample {sample_id} (dataset index {index}): {message}; this \
         is a bug in the dataset or augmentation code, please report it"
    )]
    WorkerPanic {
        /// Dataset index being processed.
        index: usize,
        /// Global sample number being processed.
        sample_id: u64,
        /// The panic payload, when it is a string.
        message: String,
    },
    /// Every worker stopped before delivering all tasks.
    #[error("all loader workers exited unexpectedly after {delivered} samples")]
    WorkersGone {
        /// Samples delivered before the workers disappeared.
        delivered: u64,
    },
    /// The batch could not be collated.
    #[error("cannot collate the batch: {0}")]
    Collate(#[from] CollateError),
}
