//! Typed errors for everything a caller can get wrong: splits, labels, configs and output paths.

use std::path::PathBuf;

/// Errors raised by `panopticon-eval`.
///
/// Every variant names the offending value so the message alone says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A split holds no samples.
    #[error("split `{split}` is empty: every split needs at least one sample")]
    EmptySplit {
        /// Which split (`train`, `val`, `test`, ...).
        split: String,
    },
    /// Features and labels disagree on the number of samples.
    #[error(
        "split `{split}` has {features} feature rows but {labels} labels: \
         features and labels must come from the same samples in the same order"
    )]
    LengthMismatch {
        /// Which split.
        split: String,
        /// Rows in the feature matrix.
        features: usize,
        /// Number of labelled samples.
        labels: usize,
    },
    /// A feature holds NaN or ±inf.
    #[error(
        "split `{split}` has a NaN or infinite feature in sample {sample}: \
         check the backbone output (fp16 overflow?) or drop the sample"
    )]
    NonFiniteFeature {
        /// Which split.
        split: String,
        /// First offending sample (row).
        sample: usize,
    },
    /// A class index is outside `0..num_classes`.
    #[error(
        "label {label} of sample {sample} is outside 0..{num_classes}: the class count \
         disagrees with the labels; pass the dataset's real number of classes"
    )]
    ClassOutOfRange {
        /// The offending label.
        label: i64,
        /// Sample index.
        sample: usize,
        /// Declared number of classes.
        num_classes: usize,
    },
    /// A multi-hot target is not 0, 1 or NaN (unknown).
    #[error(
        "multilabel target of sample {sample}, label {label} is {value}: \
         targets must be 0, 1 or NaN (unknown)"
    )]
    InvalidTarget {
        /// The offending value.
        value: f32,
        /// Sample index.
        sample: usize,
        /// Label index.
        label: usize,
    },
    /// A flat multi-hot buffer is not `samples × num_labels` long.
    #[error(
        "multilabel targets hold {len} values, which is not a multiple of num_labels = {num_labels}"
    )]
    RaggedTargets {
        /// Buffer length.
        len: usize,
        /// Declared number of labels.
        num_labels: usize,
    },
    /// Two pieces of data that must agree on a size do not.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        /// What disagrees, in words.
        what: String,
        /// Expected size.
        expected: usize,
        /// Given size.
        got: usize,
    },
    /// Splits or metrics of different kinds (multiclass vs multilabel) were combined.
    #[error("{what}: {detail}")]
    KindMismatch {
        /// What was combined.
        what: String,
        /// What to do instead.
        detail: String,
    },
    /// A configuration value is out of range.
    #[error("invalid config `{field}` = {value}: {reason}")]
    Config {
        /// Field name.
        field: String,
        /// The offending value, formatted.
        value: String,
        /// Why it is invalid and what is allowed.
        reason: String,
    },
    /// Several k values were given but no validation split to choose among them.
    #[error(
        "kNN with k in {ks:?} selects k on a validation split, but none was given: pass a \
         validation split, a single k, or `KSelection::BestOnTest` (the official, optimistic protocol)"
    )]
    MissingValidation {
        /// The k values to choose from.
        ks: Vec<usize>,
    },
    /// An evaluation dataset is missing, malformed or unreadable.
    #[error("{path}: {reason}")]
    Dataset {
        /// The offending file or directory.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Writing a results file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with [`EvalError`].
pub type Result<T> = std::result::Result<T, EvalError>;
