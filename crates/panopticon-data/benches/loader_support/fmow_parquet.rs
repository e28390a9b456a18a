//! Writes an FMoW footprint table (`path`, `sensor`: LIST<STRING>; `img_height`,
//! `img_width`: LIST<INT64>, as pyarrow writes them) with the `parquet` crate's low-level
//! writer, so the benchmark needs no Python.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// One view of a location: relative path, sensor name, height, width.
pub type ViewRow = (String, &'static str, i64, i64);

const SCHEMA: &str = "message schema {
  optional group path (LIST) { repeated group list { optional binary element (STRING); } }
  optional group sensor (LIST) { repeated group list { optional binary element (STRING); } }
  optional group img_height (LIST) { repeated group list { optional int64 element; } }
  optional group img_width (LIST) { repeated group list { optional int64 element; } }
}";

/// Writes one row per location (each a non-empty list of views).
pub fn write_fmow_table(path: &Path, locations: &[Vec<ViewRow>]) {
    let schema = Arc::new(parse_message_type(SCHEMA).expect("schema"));
    let file = File::create(path).expect("create parquet");
    let props = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, schema, props).expect("writer");
    // Every element present (definition level 3); repetition 0 starts a row.
    let def: Vec<i16> = locations.iter().flatten().map(|_| 3).collect();
    let rep: Vec<i16> = locations
        .iter()
        .flat_map(|l| (0..l.len()).map(|k| i16::from(k > 0)))
        .collect();
    let strings = |f: fn(&ViewRow) -> ByteArray| -> Vec<ByteArray> {
        locations.iter().flatten().map(f).collect()
    };
    let ints = |f: fn(&ViewRow) -> i64| -> Vec<i64> { locations.iter().flatten().map(f).collect() };
    let mut rg = writer.next_row_group().expect("row group");
    let mut col = 0;
    while let Some(mut w) = rg.next_column().expect("column") {
        match col {
            0 | 1 => {
                let v = if col == 0 {
                    strings(|r| ByteArray::from(r.0.as_str()))
                } else {
                    strings(|r| ByteArray::from(r.1))
                };
                w.typed::<ByteArrayType>()
                    .write_batch(&v, Some(&def), Some(&rep))
                    .expect("write strings");
            }
            _ => {
                let v = if col == 2 {
                    ints(|r| r.2)
                } else {
                    ints(|r| r.3)
                };
                w.typed::<Int64Type>()
                    .write_batch(&v, Some(&def), Some(&rep))
                    .expect("write ints");
            }
        }
        w.close().expect("close column");
        col += 1;
    }
    rg.close().expect("close row group");
    writer.close().expect("close parquet");
}
