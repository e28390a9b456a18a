//! `embed collect`: the per-item Parquet files of an output directory as one file, or as a
//! dataset partitioned by CRS (one file per CRS, see `partition`).
//!
//! Row groups are copied as they are (column chunks byte for byte, no decoding), so collecting
//! is I/O-bound and the result holds exactly the rows of the items. A GeoParquet `geo`
//! metadata entry is carried over with its `bbox` widened to cover every item of the file;
//! items whose CRSs differ cannot share a GeoParquet geometry column, so one output file
//! refuses them and a partitioned dataset puts them in different files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::{ARROW_SCHEMA_META_KEY, encode_arrow_schema, parquet_to_arrow_schema};
use parquet::column::writer::ColumnCloseResult;
use parquet::file::metadata::{KeyValue, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use serde_json::Value;

use super::partition;

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
    /// Item files in different CRSs, collected into one file.
    #[error(
        "{path}: its `{column}` column is in CRS {crs}, {first}'s in {first_crs}; one \
         GeoParquet file holds one CRS per geometry column: write a dataset with one file per \
         CRS with `-o DIR --partition crs`"
    )]
    Crs {
        /// The odd one.
        path: PathBuf,
        /// Its CRS (a partition label: `EPSG_32633`).
        crs: String,
        /// The first item file.
        first: PathBuf,
        /// Its CRS.
        first_crs: String,
        /// Geometry column.
        column: String,
    },
    /// The output of a partitioned collect is a directory that must not be replaced.
    #[error("-o {path}: {reason}")]
    Target {
        /// The output directory.
        path: PathBuf,
        /// Why.
        reason: String,
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

/// One file of a partitioned dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Its folder, relative to the dataset (`crs=EPSG_32633`).
    pub folder: String,
    /// Its file, relative to the dataset (`crs=EPSG_32633/part-0.parquet`).
    pub file: String,
    /// What it holds.
    pub collected: Collected,
}

/// Concatenates `inputs` (same schema) into `out`, atomically. Key-value metadata comes from
/// the first file, with a GeoParquet `geo` entry merged over all of them.
pub fn concat_parquet(inputs: &[PathBuf], out: &Path) -> Result<Collected, CollectError> {
    let tables = Tables::read(inputs, out)?;
    let all: Vec<usize> = (0..inputs.len()).collect();
    let kv = tables.metadata(&all)?;
    let mut rows = 0;
    let write = |f: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        rows = tables.write(&all, &kv, f)?;
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

/// Writes `inputs` (same schema) as the directory `out`, one GeoParquet file per CRS of the
/// primary geometry column: `out/crs={label}/part-0.parquet` (Hive-style partitions;
/// `{label}` as `EPSG_32633`), each with its own `geo` metadata and bbox. The directory is
/// written whole (a temp directory renamed into place); an existing `out` is replaced only
/// if it is such a dataset itself. Partitions come in order of their first item.
pub fn collect_partitioned(inputs: &[PathBuf], out: &Path) -> Result<Vec<Partition>, CollectError> {
    check_dataset_target(out)?;
    let tables = Tables::read(inputs, out)?;
    let crss: Vec<Option<Value>> = (tables.geo.iter())
        .map(|g| partition::primary_crs(g.as_ref()))
        .collect();
    let groups = partition::group_by_crs(&crss);
    let kvs: Vec<Vec<KeyValue>> = (groups.iter())
        .map(|(_, members)| tables.metadata(members))
        .collect::<Result<_, _>>()?;
    let write = |tmp: &Path| -> std::io::Result<Vec<Partition>> {
        let mut parts = Vec::with_capacity(groups.len());
        for ((label, members), kv) in groups.iter().zip(&kvs) {
            let folder = partition::folder(label);
            std::fs::create_dir(tmp.join(&folder))?;
            let file = format!("{folder}/{}", partition::PART_FILE);
            let mut w = std::io::BufWriter::new(std::fs::File::create(tmp.join(&file))?);
            let rows = tables.write(members, kv, &mut w)?;
            w.flush()?;
            parts.push(Partition {
                folder,
                file,
                collected: Collected {
                    files: members.len(),
                    rows,
                },
            });
        }
        Ok(parts)
    };
    panopticon_atomic::write_dir(out, write).map_err(|source| CollectError::Write {
        path: out.into(),
        source,
    })
}

/// Whether [`collect_partitioned`] may write `out`: it does not exist, or is an empty
/// directory or such a dataset (which it replaces); checked again when it writes.
pub fn check_dataset_target(out: &Path) -> Result<(), CollectError> {
    partition::check_replaceable(out).map_err(|reason| CollectError::Target {
        path: out.into(),
        reason,
    })
}

/// The item files, their footers and their parsed `geo` metadata.
struct Tables<'a> {
    paths: &'a [PathBuf],
    footers: Vec<ParquetMetaData>,
    geo: Vec<Option<Value>>,
}

impl<'a> Tables<'a> {
    /// Reads the footers of `paths` and checks that they share one schema.
    fn read(paths: &'a [PathBuf], out: &Path) -> Result<Self, CollectError> {
        let first = paths.first().ok_or_else(|| {
            CollectError::Empty(out.parent().map(Path::to_path_buf).unwrap_or_default())
        })?;
        let footers: Vec<ParquetMetaData> =
            paths.iter().map(|p| footer(p)).collect::<Result<_, _>>()?;
        for (path, meta) in paths.iter().zip(&footers).skip(1) {
            if meta.file_metadata().schema() != footers[0].file_metadata().schema() {
                return Err(CollectError::Schema {
                    path: path.clone(),
                    first: first.clone(),
                });
            }
        }
        let geo = (paths.iter().zip(&footers))
            .map(|(path, meta)| geo_of(path, meta))
            .collect::<Result<_, _>>()?;
        Ok(Tables {
            paths,
            footers,
            geo,
        })
    }

    /// The key-value metadata of the concatenation of `members`: the first member's, with
    /// its `geo` entry merged over all members (in the stored Arrow schema too).
    fn metadata(&self, members: &[usize]) -> Result<Vec<KeyValue>, CollectError> {
        let first = members[0];
        let footer = &self.footers[first];
        let mut kv: Vec<KeyValue> = (footer.file_metadata().key_value_metadata())
            .cloned()
            .unwrap_or_default();
        if let Some(geo) = kv.iter_mut().find(|k| k.key == "geo") {
            let merged = self.merged_geo(members)?;
            geo.value = Some(merged.clone());
            // Arrow readers (pyarrow, so GeoPandas) take schema metadata from the stored
            // Arrow schema, which carries its own copy of `geo`: it must say the same.
            let arrow = arrow_schema_with_geo(footer, merged).map_err(|e| CollectError::Read {
                path: self.paths[first].clone(),
                reason: format!("bad stored Arrow schema: {e}"),
            })?;
            if let Some(encoded) = arrow {
                match kv.iter_mut().find(|k| k.key == ARROW_SCHEMA_META_KEY) {
                    Some(k) => k.value = Some(encoded),
                    None => kv.push(KeyValue::new(ARROW_SCHEMA_META_KEY.into(), encoded)),
                }
            }
        }
        Ok(kv)
    }

    /// The first member's `geo` with each geometry column's `bbox` the union over all
    /// members; fails when a column's `crs` differs between members.
    fn merged_geo(&self, members: &[usize]) -> Result<String, CollectError> {
        let first = members[0];
        let geo_at = |i: usize| {
            self.geo[i].as_ref().ok_or_else(|| CollectError::Read {
                path: self.paths[i].clone(),
                reason: format!(
                    "has no GeoParquet `geo` metadata, unlike {}",
                    self.paths[first].display()
                ),
            })
        };
        let mut merged = geo_at(first)?.clone();
        for &i in &members[1..] {
            let geo = geo_at(i)?;
            let Some(columns) = merged.get_mut("columns").and_then(Value::as_object_mut) else {
                break;
            };
            for (name, col) in columns.iter_mut() {
                let other = &geo["columns"][name];
                if col.get("crs") != other.get("crs") {
                    return Err(CollectError::Crs {
                        path: self.paths[i].clone(),
                        crs: partition::crs_label(other.get("crs")),
                        first: self.paths[first].clone(),
                        first_crs: partition::crs_label(col.get("crs")),
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

    /// Writes the row groups of `members`, in order, with the key-values `kv`; returns the
    /// number of rows.
    fn write<W: Write + Send>(
        &self,
        members: &[usize],
        kv: &[KeyValue],
        sink: W,
    ) -> std::io::Result<i64> {
        let schema = self.footers[members[0]]
            .file_metadata()
            .schema_descr()
            .root_schema_ptr();
        let props = Arc::new(WriterProperties::builder().build());
        let mut writer = SerializedFileWriter::new(sink, schema, props).map_err(io)?;
        let mut rows = 0;
        for &i in members {
            let file = std::fs::File::open(&self.paths[i])?;
            for rg in self.footers[i].row_groups() {
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
        for entry in kv {
            writer.append_key_value_metadata(entry.clone());
        }
        writer.close().map_err(io)?;
        Ok(rows)
    }
}

/// A file's parsed `geo` metadata, if it has any.
fn geo_of(path: &Path, meta: &ParquetMetaData) -> Result<Option<Value>, CollectError> {
    let text = (meta.file_metadata().key_value_metadata())
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.as_deref());
    text.map(|t| {
        serde_json::from_str(t).map_err(|e| CollectError::Read {
            path: path.into(),
            reason: format!("bad GeoParquet `geo` metadata: {e}"),
        })
    })
    .transpose()
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

fn bbox(col: &Value) -> Option<[f64; 4]> {
    let b = col.get("bbox")?.as_array()?;
    if b.len() != 4 {
        return None;
    }
    let v: Vec<f64> = b.iter().filter_map(Value::as_f64).collect();
    v.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::Tile;
    use crate::embed::output::{Dtype, TableInput, encode_geoparquet};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::fs::File;

    /// An item file of two 10 m tiles of 32 px at `(x0, y0)` (top left) in `epsg`.
    fn item(dir: &Path, name: &str, x0: f64, y0: f64, epsg: Option<u32>) -> PathBuf {
        let tiles = [0, 32].map(|col| Tile {
            row: 0,
            col,
            height: 32,
            width: 32,
        });
        let cls: Vec<f32> = (0..2 * 4).map(|i| i as f32 + x0 as f32).collect();
        let input = TableInput {
            path: Path::new(name),
            tiles: &tiles,
            cls: &cls,
            geotransform: Some([x0, 10.0, 0.0, y0, 0.0, -10.0]),
            epsg,
        };
        let bytes = encode_geoparquet(&[input], 4, Dtype::F32, &[]).unwrap();
        let path = dir.join(format!("{name}.parquet"));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The file's `geo` key-value and the `geo` of its stored Arrow schema (what pyarrow reads).
    fn geo_both(path: &Path) -> (Value, Value) {
        let meta = footer(path).unwrap();
        let kv = geo_of(path, &meta).unwrap().unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        let arrow = builder.schema().metadata()["geo"].clone();
        (kv, serde_json::from_str(&arrow).unwrap())
    }

    fn rows(path: &Path) -> i64 {
        footer(path).unwrap().file_metadata().num_rows()
    }

    #[test]
    fn the_bbox_is_widened_over_all_items_in_both_copies_of_geo() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            item(dir.path(), "a", 600_000.0, 5_000_000.0, Some(32633)),
            item(dir.path(), "b", 640_000.0, 5_100_000.0, Some(32633)),
            item(dir.path(), "c", 590_000.0, 4_900_000.0, Some(32633)),
        ];
        let out = dir.path().join("index.parquet");
        let c = concat_parquet(&files, &out).unwrap();
        assert_eq!(c, Collected { files: 3, rows: 6 });
        assert_eq!(rows(&out), 6);
        let (kv, arrow) = geo_both(&out);
        assert_eq!(
            kv, arrow,
            "the Arrow schema's `geo` must say what the file's says"
        );
        let col = &kv["columns"]["geometry"];
        // x from 590 000 to 640 000 + 64 px × 10 m; y from 4 900 000 − 320 m to 5 100 000.
        let want = [590_000.0, 4_899_680.0, 640_640.0, 5_100_000.0];
        assert_eq!(bbox(col).unwrap(), want);
        assert_eq!(col["crs"]["id"]["code"], 32633);
        // Everything else is the first item's.
        let (first, _) = geo_both(&files[0]);
        let mut without_bbox = kv.clone();
        let mut first_without = first.clone();
        without_bbox["columns"]["geometry"]["bbox"] = Value::Null;
        first_without["columns"]["geometry"]["bbox"] = Value::Null;
        assert_eq!(without_bbox, first_without);
    }

    #[test]
    fn mixed_crss_are_refused_in_one_file_with_the_partition_hint() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            item(dir.path(), "a", 600_000.0, 5_000_000.0, Some(32632)),
            item(dir.path(), "b", 400_000.0, 5_000_000.0, Some(32633)),
        ];
        let out = dir.path().join("index.parquet");
        let err = concat_parquet(&files, &out).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, CollectError::Crs { .. }), "{text}");
        for needle in ["EPSG_32633", "EPSG_32632", "--partition crs", "b.parquet"] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(!out.exists());
    }

    #[test]
    fn a_partitioned_dataset_has_one_geoparquet_file_per_crs() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            item(dir.path(), "a", 600_000.0, 5_000_000.0, Some(32632)),
            item(dir.path(), "b", 400_000.0, 5_000_000.0, Some(32633)),
            item(dir.path(), "c", 610_000.0, 5_010_000.0, Some(32632)),
            item(dir.path(), "d", 0.0, 0.0, None),
        ];
        let out = dir.path().join("index");
        let parts = collect_partitioned(&files, &out).unwrap();
        let got: Vec<(&str, usize, i64)> = (parts.iter())
            .map(|p| (p.file.as_str(), p.collected.files, p.collected.rows))
            .collect();
        assert_eq!(
            got,
            [
                ("crs=EPSG_32632/part-0.parquet", 2, 4),
                ("crs=EPSG_32633/part-0.parquet", 1, 2),
                ("crs=unknown/part-0.parquet", 1, 2),
            ]
        );
        let (kv, arrow) = geo_both(&out.join(&parts[0].file));
        assert_eq!(kv, arrow);
        let col = &kv["columns"]["geometry"];
        assert_eq!(col["crs"]["id"]["code"], 32632);
        assert_eq!(
            bbox(col).unwrap(),
            [600_000.0, 4_999_680.0, 610_640.0, 5_010_000.0]
        );
        let (kv, _) = geo_both(&out.join(&parts[1].file));
        assert_eq!(kv["columns"]["geometry"]["crs"]["id"]["code"], 32633);
        let (kv, _) = geo_both(&out.join(&parts[2].file));
        assert_eq!(kv["columns"]["geometry"]["crs"], Value::Null);
        // Only the dataset, no temp files, next to the items.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["a.parquet", "b.parquet", "c.parquet", "d.parquet", "index"]
        );

        // A rerun replaces the dataset whole (an item gone, its partition gone).
        let parts = collect_partitioned(&files[..2], &out).unwrap();
        assert_eq!(parts.len(), 2);
        let mut folders: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        assert_eq!(folders, ["crs=EPSG_32632", "crs=EPSG_32633"]);
        // Anything else at -o is not replaced.
        std::fs::write(out.join("README"), b"mine").unwrap();
        let err = collect_partitioned(&files, &out).unwrap_err();
        assert!(matches!(err, CollectError::Target { .. }), "{err}");
        assert_eq!(std::fs::read(out.join("README")).unwrap(), b"mine");
    }
}
