//! The errors of the Parquet reader and its checks.

use std::path::{Path, PathBuf};

/// Errors raised while reading a Parquet table. Every variant names the file (and the column
/// and row where one is concerned).
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// The file cannot be opened or read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid Parquet file (bad magic, truncated footer, corrupt pages).
    #[error("`{}` is not a valid Parquet file: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the decoder found.
        message: String,
    },
    /// The table has no top-level column of this name.
    #[error(
        "`{}` has no column `{column}` (columns: {}); the file is not the expected table",
        path.display(),
        available.join(", ")
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The top-level columns present.
        available: Vec<String>,
    },
    /// A cell (or list element) holds another type than requested.
    #[error(
        "`{}` column `{column}` row {row}{}: expected {expected}, found {got}",
        path.display(),
        element.map(|k| format!(" element {k}")).unwrap_or_default()
    )]
    WrongType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// 0-based row.
        row: usize,
        /// 0-based list position, for list elements.
        element: Option<usize>,
        /// The type requested.
        expected: &'static str,
        /// The Parquet value kind found.
        got: &'static str,
    },
    /// Reading the column would take more than the byte limit, by the footer's (untrusted)
    /// row count and sizes; nothing was decoded.
    #[error(
        "`{}` column `{column}`: {what}, over the {limit_bytes}-byte read limit; raise the \
         limit if the file is trusted",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// What the footer claims.
        what: String,
        /// The limit.
        limit_bytes: usize,
    },
    /// A cell (or list element) is null where the requested type has no null.
    #[error(
        "`{}` column `{column}` row {row}{} is null; read it as an `Option` or clean the table",
        path.display(),
        element.map(|k| format!(" element {k}")).unwrap_or_default()
    )]
    Null {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// 0-based row.
        row: usize,
        /// 0-based list position, for list elements.
        element: Option<usize>,
    },
}

/// The file is not valid Parquet: what the decoder or a check found.
pub(crate) fn corrupt(path: &Path, e: impl std::fmt::Display) -> ParquetError {
    ParquetError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
