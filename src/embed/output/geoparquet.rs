//! Per-tile embeddings as GeoParquet 1.1: one row per tile with its file, pixel window, map
//! bounds, footprint polygon (WKB, in the input's CRS), a `bbox` covering struct and the
//! embedding as a fixed-size list — what GeoPandas, DuckDB `spatial`, GDAL and Spark read as
//! is. [`GeoParquetWriter`] streams record batches (also those read back from other
//! per-item files, for `embed collect`) and writes the `geo` metadata when it finishes.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float64Builder, Int32Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Float16Array, Float32Array, Int64Array, RecordBatch,
    StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ARROW_SCHEMA_META_KEY, ArrowWriter, encode_arrow_schema};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::json;

use super::{Dtype, projjson};
use crate::embed::Tile;

/// Errors of the GeoParquet writer.
#[derive(Debug, thiserror::Error)]
pub enum GeoParquetError {
    /// Rows in different CRSs cannot share one geometry column.
    #[error(
        "inputs are in different CRSs ({0} and {1}); a GeoParquet file has one CRS: write one \
         output per CRS (e.g. per UTM zone)"
    )]
    MixedCrs(String, String),
    /// A batch does not have the embedding table's schema.
    #[error("record batch does not match the embedding table schema: {0}")]
    Schema(String),
    /// Arrow / Parquet encoding.
    #[error("encoding GeoParquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow array construction.
    #[error("building Arrow arrays: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// The tiles of one input scene and their `[N, D]` embeddings.
pub struct TableInput<'a> {
    /// The input file as given.
    pub path: &'a Path,
    /// Pixel windows, in the order of `cls` rows.
    pub tiles: &'a [Tile],
    /// `[N, D]`, row-major.
    pub cls: &'a [f32],
    /// GDAL geotransform of the scene, if georeferenced.
    pub geotransform: Option<[f64; 6]>,
    /// EPSG code of the scene's CRS, if known.
    pub epsg: Option<u32>,
}

const BBOX: [&str; 4] = ["xmin", "ymin", "xmax", "ymax"];

fn bbox_fields() -> Fields {
    BBOX.iter()
        .map(|n| Field::new(*n, DataType::Float64, false))
        .collect()
}

/// The table's columns: `path`, `row`, `col`, `height`, `width` (pixel window), `minx`, `miny`,
/// `maxx`, `maxy` (bounds in CRS units), `epsg`, `cls` (`fixed_size_list<float32|float16>[D]`),
/// `bbox` (struct of xmin/ymin/xmax/ymax, the GeoParquet covering) and `geometry` (WKB
/// polygon). Map columns are null for inputs without georeferencing.
pub fn embedding_schema(dim: usize, dtype: Dtype) -> SchemaRef {
    let element = match dtype {
        Dtype::F32 => DataType::Float32,
        Dtype::F16 => DataType::Float16,
    };
    let mut fields = vec![Field::new("path", DataType::Utf8, false)];
    for n in ["row", "col", "height", "width"] {
        fields.push(Field::new(n, DataType::Int64, false));
    }
    for n in ["minx", "miny", "maxx", "maxy"] {
        fields.push(Field::new(n, DataType::Float64, true));
    }
    fields.push(Field::new("epsg", DataType::Int32, true));
    fields.push(Field::new(
        "cls",
        DataType::FixedSizeList(Arc::new(Field::new("item", element, false)), dim as i32),
        false,
    ));
    fields.push(Field::new("bbox", DataType::Struct(bbox_fields()), true));
    fields.push(Field::new("geometry", DataType::Binary, true));
    Arc::new(Schema::new(fields))
}

/// The closed ring of a tile's pixel window mapped through the geotransform, counter-clockwise
/// in map coordinates (GeoParquet's recommended exterior orientation).
pub fn tile_footprint(gt: &[f64; 6], t: &Tile) -> [(f64, f64); 5] {
    let map = |c: usize, r: usize| {
        let (c, r) = (c as f64, r as f64);
        (gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5])
    };
    let (c1, r1) = (t.col + t.width, t.row + t.height);
    let mut ring = [
        map(t.col, t.row),
        map(c1, t.row),
        map(c1, r1),
        map(t.col, r1),
        map(t.col, t.row),
    ];
    // Shoelace: a negative area is clockwise (north-up rasters, whose y scale is negative).
    let area: f64 = ring
        .windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum();
    if area < 0.0 {
        ring.reverse();
    }
    ring
}

/// ISO WKB of a one-ring polygon, little-endian.
fn polygon_wkb(ring: &[(f64, f64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + 16 * ring.len());
    out.push(1);
    out.extend(3u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend((ring.len() as u32).to_le_bytes());
    for (x, y) in ring {
        out.extend(x.to_le_bytes());
        out.extend(y.to_le_bytes());
    }
    out
}

fn ring_bounds(ring: &[(f64, f64)]) -> [f64; 4] {
    ring.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, &(x, y)| [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
    )
}

/// One input's rows as a record batch of [`embedding_schema`].
pub fn input_batch(
    input: &TableInput<'_>,
    dim: usize,
    dtype: Dtype,
) -> Result<RecordBatch, GeoParquetError> {
    let n = input.tiles.len();
    if input.cls.len() != n * dim {
        return Err(GeoParquetError::Schema(format!(
            "{}: {} values for {n} tiles of D = {dim}",
            input.path.display(),
            input.cls.len()
        )));
    }
    let path = input.path.to_string_lossy();
    let int = |f: fn(&Tile) -> usize| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(
            input.tiles.iter().map(|t| f(t) as i64),
        ))
    };
    let mut bounds: [Float64Builder; 4] = Default::default();
    let mut geometry = BinaryBuilder::new();
    let mut epsg = Int32Builder::new();
    for t in input.tiles {
        match &input.geotransform {
            Some(gt) => {
                let ring = tile_footprint(gt, t);
                for (b, v) in bounds.iter_mut().zip(ring_bounds(&ring)) {
                    b.append_value(v);
                }
                geometry.append_value(polygon_wkb(&ring));
            }
            None => {
                bounds.iter_mut().for_each(Float64Builder::append_null);
                geometry.append_null();
            }
        }
        epsg.append_option(input.epsg.map(|e| e as i32));
    }
    let bounds: Vec<ArrayRef> = bounds
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    let geometry = geometry.finish();
    let bbox = StructArray::try_new(bbox_fields(), bounds.clone(), geometry.nulls().cloned())?;
    let values: ArrayRef = match dtype {
        Dtype::F32 => Arc::new(Float32Array::from(input.cls.to_vec())),
        Dtype::F16 => Arc::new(Float16Array::from(Dtype::to_f16(input.cls))),
    };
    let schema = embedding_schema(dim, dtype);
    let DataType::FixedSizeList(item, _) = schema.field(10).data_type() else {
        unreachable!("column 10 is the embedding list")
    };
    let cls = FixedSizeListArray::try_new(item.clone(), dim as i32, values, None)?;
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            path.as_ref(),
            n,
        ))),
        int(|t| t.row),
        int(|t| t.col),
        int(|t| t.height),
        int(|t| t.width),
    ];
    columns.extend(bounds);
    columns.push(Arc::new(epsg.finish()));
    columns.push(Arc::new(cls));
    columns.push(Arc::new(bbox));
    columns.push(Arc::new(geometry));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Streams embedding record batches into a GeoParquet 1.1 file and writes its `geo` metadata
/// (CRS as PROJJSON, file bbox, bbox covering) on [`finish`](Self::finish).
pub struct GeoParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    bbox: Option<[f64; 4]>,
    /// The EPSG code shared by every georeferenced row so far (`Some(None)`: unknown CRS).
    crs: Option<Option<u32>>,
    /// Provenance key-values, also put into the Arrow schema's metadata.
    meta: Vec<(String, String)>,
}

impl<W: Write + Send> GeoParquetWriter<W> {
    /// A writer of `D = dim` embeddings stored as `dtype`; `meta` goes into the file's
    /// key-value metadata (provenance).
    pub fn new(
        sink: W,
        dim: usize,
        dtype: Dtype,
        meta: &[(&str, String)],
    ) -> Result<Self, GeoParquetError> {
        let schema = embedding_schema(dim, dtype);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(4096))
            .set_key_value_metadata(Some(
                meta.iter()
                    .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                    .collect(),
            ))
            .build();
        // The Arrow schema goes into the footer on `finish`, with the `geo` metadata in it:
        // pyarrow (hence GeoPandas) takes the schema metadata from there, not from the file's
        // key-values, whenever it is present.
        let options = ArrowWriterOptions::new()
            .with_properties(props)
            .with_skip_arrow_metadata(true);
        let writer = ArrowWriter::try_new_with_options(sink, schema.clone(), options)?;
        Ok(Self {
            writer,
            schema,
            bbox: None,
            crs: None,
            meta: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        })
    }

    /// Appends one input's tiles.
    pub fn write_input(&mut self, input: &TableInput<'_>) -> Result<(), GeoParquetError> {
        let dim = match self.schema.field(10).data_type() {
            DataType::FixedSizeList(_, d) => *d as usize,
            _ => unreachable!("column 10 is the embedding list"),
        };
        let dtype = self.dtype();
        self.write_batch(&input_batch(input, dim, dtype)?)
    }

    fn dtype(&self) -> Dtype {
        match self.schema.field(10).data_type() {
            DataType::FixedSizeList(f, _) if f.data_type() == &DataType::Float16 => Dtype::F16,
            _ => Dtype::F32,
        }
    }

    /// Appends a batch of [`embedding_schema`] (e.g. read back from another embedding file);
    /// its `bbox` and `epsg` columns feed the file's `geo` metadata.
    pub fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), GeoParquetError> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(GeoParquetError::Schema(format!(
                "expected {:?}, got {:?}",
                self.schema.fields(),
                batch.schema().fields()
            )));
        }
        let bbox = batch.column(11).as_struct();
        let epsg = batch.column(9).as_primitive::<Int32Type>();
        let coords: Vec<_> = (0..4)
            .map(|i| bbox.column(i).as_primitive::<Float64Type>())
            .collect();
        for row in 0..batch.num_rows() {
            if bbox.is_null(row) {
                continue;
            }
            let code = epsg.is_valid(row).then(|| epsg.value(row) as u32);
            match self.crs {
                None => self.crs = Some(code),
                Some(known) if known != code => {
                    let name = |c: Option<u32>| c.map_or("unknown".into(), |c| format!("EPSG:{c}"));
                    return Err(GeoParquetError::MixedCrs(name(known), name(code)));
                }
                Some(_) => {}
            }
            let v = [0, 1, 2, 3].map(|i| coords[i].value(row));
            self.bbox = Some(match self.bbox {
                None => v,
                Some(b) => [
                    b[0].min(v[0]),
                    b[1].min(v[1]),
                    b[2].max(v[2]),
                    b[3].max(v[3]),
                ],
            });
        }
        self.writer.write(batch)?;
        Ok(())
    }

    /// The `geo` file metadata of what was written.
    pub fn geo_metadata(&self) -> serde_json::Value {
        let crs = match self.crs {
            Some(Some(code)) => projjson(code).unwrap_or(serde_json::Value::Null),
            _ => serde_json::Value::Null,
        };
        let covering: serde_json::Map<_, _> = BBOX
            .iter()
            .map(|k| (k.to_string(), json!(["bbox", k])))
            .collect();
        let mut column = json!({
            "encoding": "WKB",
            "geometry_types": ["Polygon"],
            "crs": crs,
            "covering": {"bbox": covering},
        });
        if let Some(b) = self.bbox {
            column["bbox"] = json!(b);
        }
        json!({
            "version": "1.1.0",
            "primary_column": "geometry",
            "columns": {"geometry": column},
        })
    }

    /// Writes the `geo` metadata, the Arrow schema and the footer; returns the sink.
    pub fn finish(mut self) -> Result<W, GeoParquetError> {
        let geo = self.geo_metadata().to_string();
        let mut metadata: std::collections::HashMap<String, String> =
            self.meta.iter().cloned().collect();
        metadata.insert("geo".into(), geo.clone());
        let schema = self.schema.as_ref().clone().with_metadata(metadata);
        self.writer
            .append_key_value_metadata(KeyValue::new("geo".into(), geo));
        self.writer.append_key_value_metadata(KeyValue::new(
            ARROW_SCHEMA_META_KEY.into(),
            encode_arrow_schema(&schema),
        ));
        Ok(self.writer.into_inner()?)
    }
}

/// Encodes the tiles of `inputs` as one GeoParquet file in memory.
pub fn encode_geoparquet(
    inputs: &[TableInput<'_>],
    dim: usize,
    dtype: Dtype,
    meta: &[(&str, String)],
) -> Result<Vec<u8>, GeoParquetError> {
    let mut writer = GeoParquetWriter::new(Vec::new(), dim, dtype, meta)?;
    for input in inputs {
        writer.write_input(input)?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footprints_are_counter_clockwise_closed_rings() {
        let gt = [600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0];
        let t = Tile {
            row: 0,
            col: 224,
            height: 224,
            width: 224,
        };
        let ring = tile_footprint(&gt, &t);
        assert_eq!(ring[0], ring[4]);
        let area: f64 = ring
            .windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum();
        assert!(area > 0.0);
        assert_eq!(
            ring_bounds(&ring),
            [602240.0, 4997760.0, 604480.0, 5000000.0]
        );
        let wkb = polygon_wkb(&ring);
        assert_eq!(wkb.len(), 9 + 4 + 5 * 16);
        assert_eq!(&wkb[..9], &[1, 3, 0, 0, 0, 1, 0, 0, 0]);
    }
}
