//! Parquet tables read column by column into typed vectors (metadata tables such as the FMoW
//! footprints or the MMEarth sample list).
//!
//! ```no_run
//! use panopticon_data::readers::ParquetTable;
//!
//! let table = ParquetTable::open("fmow_iwm_onid_train.parquet")?;
//! let sensors: Vec<Vec<String>> = table.column("sensor")?; // LIST<STRING>
//! let heights: Vec<Vec<i64>> = table.column("img_height")?; // LIST<INT*>
//! let gsd: Vec<Vec<Option<f64>>> = table.column("gsd")?; // nullable elements
//! assert_eq!(sensors.len(), table.num_rows());
//! # Ok::<(), panopticon_data::readers::ParquetError>(())
//! ```
//!
//! Decoding uses the `parquet` crate's row API (no Arrow), projected to the one requested
//! top-level column; Snappy and Zstd pages are supported. A panic inside the decoder is caught
//! and reported as [`ParquetError::Corrupt`].

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::Type;

use super::parquet_checks::{check_chunk_ranges, check_dictionary_pages};
use super::parquet_error::{ParquetError, corrupt};
use super::parquet_levels::check_levels;
use super::parquet_value::{Mismatch, ParquetValue};

/// Default cap on the bytes one column read may take (1 GiB): the values in memory and the
/// column's decompressed pages, both as the footer states them.
pub const DEFAULT_MAX_PARQUET_BYTES: usize = 1 << 30;

/// An open Parquet file whose top-level columns are read on demand.
pub struct ParquetTable {
    path: PathBuf,
    reader: SerializedFileReader<File>,
    max_bytes: usize,
}

impl std::fmt::Debug for ParquetTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetTable")
            .field("path", &self.path)
            .field("num_rows", &self.num_rows())
            .finish()
    }
}

impl ParquetTable {
    /// Opens `path` and reads its footer (schema, row groups).
    ///
    /// [`ParquetError::Io`] if it cannot be opened, [`ParquetError::Corrupt`] if the footer is
    /// not Parquet.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ParquetError> {
        Self::open_with_limit(path, DEFAULT_MAX_PARQUET_BYTES)
    }

    /// [`ParquetTable::open`] with a read limit: a column whose values or decompressed pages
    /// would take more than `max_bytes` by the footer is [`ParquetError::TooLarge`].
    pub fn open_with_limit(path: impl AsRef<Path>, max_bytes: usize) -> Result<Self, ParquetError> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| ParquetError::Io {
            path: path.clone(),
            source,
        })?;
        let file_len = file
            .metadata()
            .map_err(|source| ParquetError::Io {
                path: path.clone(),
                source,
            })?
            .len();
        let reader = guarded(&path, || {
            let reader = SerializedFileReader::new(file).map_err(|e| corrupt(&path, e))?;
            check_chunk_ranges(&reader, &path, file_len)?;
            Ok(reader)
        })?;
        Ok(Self {
            path,
            reader,
            max_bytes,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of rows (sum over row groups, from the footer).
    pub fn num_rows(&self) -> usize {
        usize::try_from(self.reader.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Names of the top-level columns, in schema order.
    pub fn column_names(&self) -> Vec<String> {
        self.root()
            .get_fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    }

    /// Reads the top-level column `name`, one value per row, as `T` (see [`ParquetValue`] for
    /// the accepted types and conversions).
    ///
    /// Errors: [`ParquetError::MissingColumn`], [`ParquetError::WrongType`] /
    /// [`ParquetError::Null`] at the first cell that does not convert (naming row and list
    /// element), [`ParquetError::Corrupt`] if a page cannot be decoded or the row count
    /// disagrees with the footer.
    pub fn column<T: ParquetValue>(&self, name: &str) -> Result<Vec<T>, ParquetError> {
        let root = self.root();
        let field = root
            .get_fields()
            .iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| ParquetError::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                available: self.column_names(),
            })?;
        let projection = Type::group_type_builder(root.name())
            .with_fields(vec![field.clone()])
            .build()
            .map_err(|e| corrupt(&self.path, e))?;
        self.check_size::<T>(name)?;
        let values = guarded(&self.path, || {
            check_dictionary_pages(&self.reader, &self.path, name)?;
            check_levels(&self.reader, &self.path, name)?;
            let rows = self
                .reader
                .get_row_iter(Some(projection))
                .map_err(|e| corrupt(&self.path, e))?;
            // The footer's count is checked, not trusted: no more reserved than a page's worth.
            let mut out = Vec::with_capacity(self.num_rows().min(1 << 16));
            for (r, row) in rows.enumerate() {
                if r >= self.num_rows() {
                    return Err(corrupt(
                        &self.path,
                        format!(
                            "column `{name}` has more rows than the footer's {}",
                            self.num_rows()
                        ),
                    ));
                }
                let row = row.map_err(|e| corrupt(&self.path, e))?;
                let (_, cell) = row
                    .get_column_iter()
                    .next()
                    .ok_or_else(|| corrupt(&self.path, format!("row {r} has no `{name}` cell")))?;
                out.push(T::from_field(cell).map_err(|m| self.cell_error::<T>(name, r, m))?);
            }
            Ok(out)
        })?;
        if values.len() != self.num_rows() {
            return Err(corrupt(
                &self.path,
                format!(
                    "column `{name}` has {} rows but the footer says {}",
                    values.len(),
                    self.num_rows()
                ),
            ));
        }
        Ok(values)
    }

    /// Refuses column `name` when its values (`rows × size_of::<T>()`, nested lists not
    /// counted) or its decompressed column chunks, as the footer states them, are over the
    /// limit. Checked arithmetic: the footer is untrusted.
    fn check_size<T>(&self, name: &str) -> Result<(), ParquetError> {
        let too_large = |what: String| ParquetError::TooLarge {
            path: self.path.clone(),
            column: name.to_string(),
            what,
            limit_bytes: self.max_bytes,
        };
        let limit = self.max_bytes as u64;
        let rows = self.num_rows() as u64;
        let values = rows.checked_mul(std::mem::size_of::<T>() as u64);
        if values.is_none_or(|v| v > limit) {
            return Err(too_large(format!(
                "{rows} rows of {} bytes",
                std::mem::size_of::<T>()
            )));
        }
        let meta = self.reader.metadata();
        let schema = meta.file_metadata().schema_descr();
        let mut pages: Option<u64> = Some(0);
        for group in meta.row_groups() {
            for (leaf, chunk) in group.columns().iter().enumerate() {
                let root = schema.get_column_root(leaf);
                if root.name() == name {
                    let size = u64::try_from(chunk.uncompressed_size()).ok();
                    pages = pages.zip(size).and_then(|(a, b)| a.checked_add(b));
                }
            }
        }
        if pages.is_none_or(|p| p > limit) {
            return Err(too_large(match pages {
                Some(p) => format!("{p} bytes of decompressed pages"),
                None => "decompressed page sizes that overflow or are negative".into(),
            }));
        }
        Ok(())
    }

    fn root(&self) -> &Type {
        self.reader.metadata().file_metadata().schema()
    }

    fn cell_error<T: ParquetValue>(&self, column: &str, row: usize, m: Mismatch) -> ParquetError {
        let (path, column) = (self.path.clone(), column.to_string());
        match m {
            Mismatch::Null { element } => ParquetError::Null {
                path,
                column,
                row,
                element,
            },
            Mismatch::Type { got, element } => ParquetError::WrongType {
                path,
                column,
                row,
                element,
                // At a list element, name the element type, not "list".
                expected: if element.is_some() {
                    T::ELEMENT
                } else {
                    T::EXPECTED
                },
                got,
            },
        }
    }
}

/// Runs `f`, turning a decoder panic into [`ParquetError::Corrupt`].
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T, ParquetError>) -> Result<T, ParquetError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(corrupt(path, format!("the decoder panicked ({what})")))
    })
}
