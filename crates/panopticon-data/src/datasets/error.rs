//! Errors of the dataset readers.

use std::path::PathBuf;

use crate::augment::AugmentError;
use crate::readers::{ParquetError, ReadError};
use crate::sensors::SensorError;

/// Errors raised while opening a dataset or loading one of its samples.
///
/// Every variant names the file (or split/metadata entry) concerned and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// An image file is missing, unreadable or corrupt.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A split or metadata file cannot be read.
    #[error("cannot read `{}`: {source}; check the dataset root", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A split or metadata file has no entries.
    #[error("`{}` lists no samples; regenerate the split file", path.display())]
    EmptySplit {
        /// The split file.
        path: PathBuf,
    },
    /// A line of a metadata file cannot be parsed.
    #[error("`{}` line {line}: {message}", path.display())]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A metadata table cannot be read (missing, corrupt, missing column, wrong column type).
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    /// A row of a metadata table is inconsistent.
    #[error("`{}` row {row}: {message}", path.display())]
    MetadataRow {
        /// The metadata table.
        path: PathBuf,
        /// 0-based row.
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// Every attempt at loading a sample's views hit a bad file.
    #[error(
        "metadata row {row}: no set of views could be loaded in {tries} tries{}; last error: \
         {last}",
        log.as_ref().map(|p| format!(" (failures appended to `{}`)", p.display())).unwrap_or_default()
    )]
    LoadFailed {
        /// 0-based metadata row of the sample.
        row: usize,
        /// Attempts made.
        tries: usize,
        /// The faulty-images log, if one is kept.
        log: Option<PathBuf>,
        /// The error of the last attempt.
        last: Box<DatasetError>,
    },
    /// A file has a different number of bands than the sensor has.
    #[error(
        "`{}` has {got} bands but {sensor} needs {expected}; the file does not belong to this \
         dataset or is damaged",
        path.display()
    )]
    BandCount {
        /// The file.
        path: PathBuf,
        /// The sensor (or band file) expected.
        sensor: String,
        /// Bands expected.
        expected: usize,
        /// Bands found.
        got: usize,
    },
    /// A file stores samples of an unexpected type.
    #[error("`{}` stores {got} samples but {expected} are expected", path.display())]
    SampleType {
        /// The file.
        path: PathBuf,
        /// Expected type.
        expected: &'static str,
        /// Type found.
        got: String,
    },
    /// Two rasters of one sample disagree in size.
    #[error(
        "`{}` is {got_h}×{got_w} px but its image `{}` is {want_h}×{want_w}; the pair is misaligned",
        path.display(),
        reference.display()
    )]
    SizeMismatch {
        /// The file.
        path: PathBuf,
        /// The file it must match.
        reference: PathBuf,
        /// Height found.
        got_h: usize,
        /// Width found.
        got_w: usize,
        /// Height expected.
        want_h: usize,
        /// Width expected.
        want_w: usize,
    },
    /// A label raster holds a code that is not in the class table.
    #[error(
        "`{}` holds CORINE code {code}, which is not in the 43-class table (upstream raises a \
         KeyError too); fix the label raster",
        path.display()
    )]
    UnknownLabelCode {
        /// The label file.
        path: PathBuf,
        /// The unknown code.
        code: i64,
    },
    /// A metadata row has fewer usable acquisitions than views requested.
    #[error(
        "tile `{id}` (row {row}) has {have} acquisitions of the kept sensors but {need} views \
         are requested; drop the row or request fewer views"
    )]
    TooFewViews {
        /// Tile id.
        id: String,
        /// Row index.
        row: usize,
        /// Usable acquisitions.
        have: usize,
        /// Views requested.
        need: usize,
    },
    /// An index past the end of the dataset.
    #[error("index {index} is out of range for a dataset of {len} samples")]
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// Dataset length.
        len: usize,
    },
    /// A band-statistics file is malformed or lacks what the dataset needs.
    #[error("band statistics `{}`: {message}", path.display())]
    Stats {
        /// The statistics file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Every channel of a view was no-data (NaN after normalisation) and was dropped.
    #[error(
        "row {row} of `{}` has no valid {sensor} channel (all hold no-data); drop the row from \
         the metadata",
        path.display()
    )]
    EmptyView {
        /// The data file.
        path: PathBuf,
        /// The row in the data file.
        row: usize,
        /// The sensor whose view is empty.
        sensor: &'static str,
    },
    /// Invalid dataset options.
    #[error("invalid dataset settings: {0}")]
    Config(String),
    /// The band registry lacks a band list.
    #[error(transparent)]
    Sensor(#[from] SensorError),
    /// The loaded sample cannot be augmented.
    #[error("cannot augment sample of `{}`: {source}", path.display())]
    Augment {
        /// The (first) file of the sample.
        path: PathBuf,
        /// The augmentation error.
        source: AugmentError,
    },
}
