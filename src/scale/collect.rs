//! `embed collect`: the per-item Parquet files of an output directory as one file.
//!
//! Row groups are copied as they are (column chunks byte for byte, no decoding), so collecting
//! is I/O-bound and the result holds exactly the rows of the items. A GeoParquet `geo`
//! metadata entry is carried over with its `bbox` widened to cover every item; items whose
//! CRSs differ cannot share a GeoParquet geometry column and are refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::{ARROW_SCHEMA_META_KEY, encode_arrow_schema, parquet_to_arrow_schema};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{KeyValue, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use serde_json::Value;

/// Why the item files cannot be collected.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// Nothing to collect.
    #[error("no item .parquet files to collect in {0}")]
    Empty(PathBuf),
    /// An item file cannot be opened or is not Parquet.
    #[error("{path}: {reason}")]
    Read {
        /// The item file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Item files with different columns.
    #[error("{path} has other columns than {first}; collect items of one run (same options)")]
    Schema {
        /// The odd one.
        path: PathBuf,
        /// The first item file.
        first: PathBuf,
    },
    /// Item files in different CRSs.
    #[error(
        "{path}: its `{column}` column is in another CRS than {first}'s; one GeoParquet file \
         holds one CRS per geometry column, so collect each CRS's items separately"
    )]
    Crs {
        /// The odd one.
        path: PathBuf,
        /// The first item file.
        first: PathBuf,
        /// Geometry column.
        column: String,
    },
    /// Writing the output failed (nothing is left at the output path).
    #[error("writing {path}: {source}")]
    Write {
        /// The output.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Counts of a collect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Collected {
    /// Item files.
    pub files: usize,
    /// Rows (tiles).
    pub rows: i64,
}

/// Concatenates `inputs` (same schema) into `out`, atomically. Key-value metadata comes from
/// the first file, with a GeoParquet `geo` entry merged over all of them.
pub fn concat_parquet(inputs: &[PathBuf], out: &Path) -> Result<Collected, CollectError> {
    let first = inputs.first().ok_or_else(|| {
        CollectError::Empty(out.parent().map(Path::to_path_buf).unwrap_or_default())
    })?;
    let footers: Vec<ParquetMetaData> =
        inputs.iter().map(|p| footer(p)).collect::<Result<_, _>>()?;
    let schema = footers[0].file_metadata().schema_descr().root_schema_ptr();
    for (path, meta) in inputs.iter().zip(&footers).skip(1) {
        if meta.file_metadata().schema() != footers[0].file_metadata().schema() {
            return Err(CollectError::Schema {
                path: path.clone(),
                first: first.clone(),
            });
        }
    }
    let mut kv: Vec<KeyValue> = footers[0]
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    if let Some(geo) = kv.iter_mut().find(|k| k.key == "geo") {
        let merged = merged_geo(inputs, &footers)?;
        geo.value = Some(merged.clone());
        // Arrow readers (pyarrow, so GeoPandas) take schema metadata from the stored Arrow
        // schema, which carries its own copy of `geo`: it must say the same.
        let arrow = arrow_schema_with_geo(&footers[0], merged).map_err(|e| CollectError::Read {
            path: first.clone(),
            reason: format!("bad stored Arrow schema: {e}"),
        })?;
        if let Some(encoded) = arrow {
            match kv.iter_mut().find(|k| k.key == ARROW_SCHEMA_META_KEY) {
                Some(k) => k.value = Some(encoded),
                None => kv.push(KeyValue::new(ARROW_SCHEMA_META_KEY.into(), encoded)),
            }
        }
    }

    let mut rows = 0;
    let write = |f: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        let props = Arc::new(WriterProperties::builder().build());
        let mut writer = SerializedFileWriter::new(f, schema.clone(), props).map_err(io)?;
        for (path, meta) in inputs.iter().zip(&footers) {
            let file = std::fs::File::open(path)?;
            for rg in meta.row_groups() {
                let mut group = writer.next_row_group().map_err(io)?;
                for column in rg.columns() {
                    let chunk = ColumnCloseResult {
                        bytes_written: column.compressed_size() as u64,
                        rows_written: rg.num_rows() as u64,
                        metadata: column.clone(),
                        bloom_filter: None,
                        column_index: None,
                        offset_index: None,
                    };
                    group.append_column(&file, chunk).map_err(io)?;
                }
                group.close().map_err(io)?;
                rows += rg.num_rows();
            }
        }
        for entry in &kv {
            writer.append_key_value_metadata(entry.clone());
        }
        writer.close().map_err(io)?;
        Ok(())
    };
    panopticon_data::writers::write_atomically(out, write).map_err(|source| {
        CollectError::Write {
            path: out.into(),
            source,
        }
    })?;
    Ok(Collected {
        files: inputs.len(),
        rows,
    })
}

/// The file's stored Arrow schema (if any) with its `geo` metadata replaced, encoded again.
fn arrow_schema_with_geo(
    meta: &ParquetMetaData,
    geo: String,
) -> Result<Option<String>, parquet::errors::ParquetError> {
    let fm = meta.file_metadata();
    let has_arrow = fm
        .key_value_metadata()
        .is_some_and(|kv| kv.iter().any(|k| k.key == ARROW_SCHEMA_META_KEY));
    if !has_arrow {
        return Ok(None);
    }
    let schema = parquet_to_arrow_schema(fm.schema_descr(), fm.key_value_metadata())?;
    let mut metadata = schema.metadata().clone();
    metadata.insert("geo".to_string(), geo);
    Ok(Some(encode_arrow_schema(&schema.with_metadata(metadata))))
}

fn io(e: parquet::errors::ParquetError) -> std::io::Error {
    std::io::Error::other(e)
}

fn footer(path: &Path) -> Result<ParquetMetaData, CollectError> {
    let read = |reason: String| CollectError::Read {
        path: path.into(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| read(e.to_string()))?;
    ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .map_err(|e| read(format!("not a readable Parquet file: {e}")))
}

/// The first file's `geo` JSON with each geometry column's `bbox` the union over all files;
/// fails when a column's `crs` differs between files.
fn merged_geo(inputs: &[PathBuf], footers: &[ParquetMetaData]) -> Result<String, CollectError> {
    let geo_of = |i: usize| -> Result<Value, CollectError> {
        let text = footers[i]
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
            .and_then(|k| k.value.clone())
            .unwrap_or_default();
        serde_json::from_str(&text).map_err(|e| CollectError::Read {
            path: inputs[i].clone(),
            reason: format!("bad GeoParquet `geo` metadata: {e}"),
        })
    };
    let mut merged = geo_of(0)?;
    for i in 1..footers.len() {
        let geo = geo_of(i)?;
        let Some(columns) = merged.get_mut("columns").and_then(Value::as_object_mut) else {
            break;
        };
        for (name, col) in columns.iter_mut() {
            let other = &geo["columns"][name];
            if col.get("crs") != other.get("crs") {
                return Err(CollectError::Crs {
                    path: inputs[i].clone(),
                    first: inputs[0].clone(),
                    column: name.clone(),
                });
            }
            let union = match (bbox(col), bbox(other)) {
                (Some(a), Some(b)) => Some([
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]),
                _ => None,
            };
            if let Some(obj) = col.as_object_mut() {
                match union {
                    Some(b) => obj.insert("bbox".into(), serde_json::json!(b)),
                    // A file without a bbox leaves the union unknown: the key is optional.
                    None => obj.remove("bbox"),
                };
            }
        }
    }
    Ok(merged.to_string())
}

fn bbox(col: &Value) -> Option<[f64; 4]> {
    let b = col.get("bbox")?.as_array()?;
    if b.len() != 4 {
        return None;
    }
    let v: Vec<f64> = b.iter().filter_map(Value::as_f64).collect();
    v.try_into().ok()
}
