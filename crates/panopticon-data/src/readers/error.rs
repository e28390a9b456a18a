//! Errors of the file readers.

use std::path::PathBuf;

/// Errors raised while reading an image file.
///
/// Every variant names the file and says what is wrong with it; no reader panics on bad input.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be opened or read (missing, permissions, I/O failure).
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is truncated or corrupt, or not of the expected format.
    #[error("`{}` is not a valid {format} file: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// `"GeoTIFF"`, `"PNG"`, `"JPEG"` or `"HDF5"`.
        format: &'static str,
        /// What the decoder found.
        message: String,
    },
    /// The file is valid but uses a layout this reader does not support.
    #[error("`{}` uses an unsupported {format} layout: {what}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// `"GeoTIFF"`, `"PNG"`, `"JPEG"` or `"HDF5"`.
        format: &'static str,
        /// The unsupported feature and what is supported instead.
        what: String,
    },
    /// Decoding would need more memory than the configured limit.
    #[error(
        "`{}` needs more than the {limit_bytes}-byte decoding limit ({message}); raise the limit \
         if the file is trusted",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit_bytes: usize,
        /// The decoder's message.
        message: String,
    },
    /// The header claims an image larger than the caller's budget (nothing was allocated).
    #[error("`{}` is too large: {what}", path.display())]
    OverBudget {
        /// The file.
        path: PathBuf,
        /// Its size and the limit it exceeds.
        what: String,
    },
    /// An object the caller asked for (HDF5 dataset, group, attribute or row) is not in the
    /// file.
    #[error("`{}` has no {what}", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
        /// What is missing, e.g. "dataset `/sentinel2`" or "row 12 in dataset `/sentinel2`
        /// (10 rows)".
        what: String,
    },
}
