//! Per-tile embeddings as a Parquet table, the format tabular tools (pandas, GeoPandas, DuckDB,
//! Spark) read directly: one row per tile with its file, pixel window, map bounds and vector.

use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::Tile;

/// Column layout; `cls` is a standard 3-level LIST so every reader sees `list<float>`.
const SCHEMA: &str = "message panopticon_embeddings {
    required binary path (STRING);
    required int64 row;
    required int64 col;
    required int64 height;
    required int64 width;
    optional double minx;
    optional double miny;
    optional double maxx;
    optional double maxy;
    optional int32 epsg;
    required group cls (LIST) {
        repeated group list {
            required float element;
        }
    }
}";

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

/// Encodes the table (Snappy pages). `meta` goes into the file's key-value metadata.
///
/// Columns: `path`, `row`, `col`, `height`, `width` (the tile's pixel window), `minx`, `miny`,
/// `maxx`, `maxy` (its bounds in CRS units; null without georeferencing), `epsg`, and
/// `cls` (`list<float>` of length D).
pub fn encode_table(
    inputs: &[TableInput<'_>],
    dim: usize,
    meta: &[(&str, String)],
) -> parquet::errors::Result<Vec<u8>> {
    let mut strings = Vec::new();
    let mut ints: [Vec<i64>; 4] = Default::default();
    let (mut bounds, mut has_bounds): ([Vec<f64>; 4], Vec<i16>) = Default::default();
    let (mut epsg, mut has_epsg) = (Vec::new(), Vec::new());
    for input in inputs {
        for t in input.tiles {
            strings.push(ByteArray::from(
                input.path.to_string_lossy().as_bytes().to_vec(),
            ));
            for (col, v) in ints.iter_mut().zip([t.row, t.col, t.height, t.width]) {
                col.push(v as i64);
            }
            has_bounds.push(input.geotransform.is_some() as i16);
            if let Some(gt) = input.geotransform {
                for (col, v) in bounds.iter_mut().zip(tile_bounds(&gt, t)) {
                    col.push(v);
                }
            }
            has_epsg.push(input.epsg.is_some() as i16);
            epsg.extend(input.epsg.map(|e| e as i32));
        }
    }
    let cls: Vec<f32> = inputs.iter().flat_map(|i| i.cls.iter().copied()).collect();
    let rows = strings.len();
    // One list of D elements per row: repetition level 0 opens a row, 1 continues it.
    let cls_rep: Vec<i16> = (0..rows * dim).map(|i| (i % dim != 0) as i16).collect();
    let cls_def = vec![1i16; rows * dim];

    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(
            meta.iter()
                .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
                .collect(),
        ))
        .build();
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let mut buf = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut buf, schema, Arc::new(props))?;
    let mut group = writer.next_row_group()?;
    let mut index = 0;
    while let Some(mut column) = group.next_column()? {
        match index {
            0 => column
                .typed::<ByteArrayType>()
                .write_batch(&strings, None, None)?,
            1..=4 => column
                .typed::<Int64Type>()
                .write_batch(&ints[index - 1], None, None)?,
            5..=8 => column.typed::<DoubleType>().write_batch(
                &bounds[index - 5],
                Some(&has_bounds),
                None,
            )?,
            9 => column
                .typed::<Int32Type>()
                .write_batch(&epsg, Some(&has_epsg), None)?,
            _ => column
                .typed::<FloatType>()
                .write_batch(&cls, Some(&cls_def), Some(&cls_rep))?,
        };
        column.close()?;
        index += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(buf)
}

/// `[minx, miny, maxx, maxy]` of a tile's pixel window through the affine geotransform.
fn tile_bounds(gt: &[f64; 6], t: &Tile) -> [f64; 4] {
    let corners = [
        (t.col, t.row),
        (t.col + t.width, t.row),
        (t.col, t.row + t.height),
        (t.col + t.width, t.row + t.height),
    ]
    .map(|(c, r)| {
        let (c, r) = (c as f64, r as f64);
        (gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5])
    });
    let fold = |f: fn(f64, f64) -> f64, init: f64, pick: fn(&(f64, f64)) -> f64| {
        corners.iter().map(pick).fold(init, f)
    };
    [
        fold(f64::min, f64::INFINITY, |p| p.0),
        fold(f64::min, f64::INFINITY, |p| p.1),
        fold(f64::max, f64::NEG_INFINITY, |p| p.0),
        fold(f64::max, f64::NEG_INFINITY, |p| p.1),
    ]
}
