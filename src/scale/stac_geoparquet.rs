//! stac-geoparquet manifests (github.com/stac-utils/stac-geoparquet, spec 1.0): one row per
//! item, `assets` a struct column, the item's properties as top-level columns, geometry as WKB.
//! Each row is turned back into the item's GeoJSON Feature (geometry and bbox left out: a scene
//! is placed by its assets, not its footprint) so that it is parsed exactly like an
//! ItemCollection.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Number, Value};

/// Columns of an item's top level; every other column is one of its properties.
const TOP_LEVEL: [&str; 6] = [
    "type",
    "stac_version",
    "stac_extensions",
    "id",
    "links",
    "assets",
];
/// Left out of the rebuilt items (WKB and a struct bbox; not needed to embed).
const DROPPED: [&str; 2] = ["geometry", "bbox"];

/// The rows of the stac-geoparquet file at `path`, each as one GeoJSON Feature, in file
/// order, as the text of a FeatureCollection per record batch.
pub fn feature_collections(path: &Path) -> Result<Vec<String>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format!("not a Parquet file: {e}"))?
        .build()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let features = (0..batch.num_rows())
            .map(|row| feature(&batch, row))
            .collect::<Result<Vec<Value>, String>>()?;
        let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
        out.push(fc.to_string());
    }
    Ok(out)
}

/// Row `row` of `batch` as a STAC item Feature.
fn feature(batch: &RecordBatch, row: usize) -> Result<Value, String> {
    let schema = batch.schema();
    if schema.column_with_name("id").is_none() {
        return Err("no `id` column (not a stac-geoparquet file)".into());
    }
    let mut item = Map::new();
    let mut properties = Map::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let name = field.name().as_str();
        if DROPPED.contains(&name) {
            continue;
        }
        let v = value(column.as_ref(), row).map_err(|e| format!("column `{name}`: {e}"))?;
        if v.is_null() {
            continue;
        }
        match TOP_LEVEL.contains(&name) || name == "collection" {
            true => item.insert(name.to_string(), v),
            false => properties.insert(name.to_string(), v),
        };
    }
    item.insert("type".into(), Value::from("Feature"));
    item.insert("properties".into(), Value::Object(properties));
    Ok(Value::Object(item))
}

/// One cell as JSON, the way stac-geoparquet wrote it from JSON: nulls for absent values
/// (struct fields that are null are left out, as absent keys were), timestamps as RFC 3339 UTC.
fn value(array: &dyn Array, row: usize) -> Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let float = |x: f64| Number::from_f64(x).map_or(Value::Null, Value::Number);
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => array.as_boolean().value(row).into(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float32 => float(array.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => array.as_string::<i32>().value(row).into(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).into(),
        DataType::Utf8View => array.as_string_view().value(row).into(),
        DataType::Timestamp(unit, _) => timestamp(array, *unit, row)?,
        DataType::List(_) => list(array.as_list::<i32>().value(row).as_ref())?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(row).as_ref())?,
        DataType::FixedSizeList(..) => list(array.as_fixed_size_list().value(row).as_ref())?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut obj = Map::new();
            for (f, child) in fields.iter().zip(s.columns()) {
                let v = value(child.as_ref(), row).map_err(|e| format!("{}: {e}", f.name()))?;
                if !v.is_null() {
                    obj.insert(f.name().clone(), v);
                }
            }
            Value::Object(obj)
        }
        other => return Err(format!("type {other} is not read in STAC manifests")),
    })
}

fn list(values: &dyn Array) -> Result<Value, String> {
    (0..values.len())
        .map(|i| value(values, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// RFC 3339 in UTC (`2015-01-01T16:15:00Z`; fractional seconds only when there are some).
fn timestamp(array: &dyn Array, unit: TimeUnit, row: usize) -> Result<Value, String> {
    let t = match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value_as_datetime(row),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value_as_datetime(row),
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .value_as_datetime(row),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .value_as_datetime(row),
    };
    let t = t.ok_or("timestamp out of range")?;
    Ok(t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_items_with_properties_and_assets() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/data/stac/manifest/items.parquet");
        let texts = feature_collections(&path).unwrap();
        let features: Vec<Value> = texts
            .iter()
            .flat_map(|t| {
                let fc: Value = serde_json::from_str(t).unwrap();
                fc["features"].as_array().unwrap().clone()
            })
            .collect();
        assert_eq!(features.len(), 8);
        let f = &features[7];
        assert_eq!(f["id"], "LC08_sample_07");
        assert_eq!(f["properties"]["datetime"], "2015-01-08T16:15:00Z");
        assert_eq!(f["properties"]["proj:epsg"], 32616);
        assert_eq!(
            f["assets"]["red"]["href"],
            "../../../../../samples/stac/red.tif"
        );
        assert_eq!(f["assets"]["red"]["eo:bands"][0]["center_wavelength"], 0.65);
        assert!(f.get("geometry").is_none());
        // Item 0 lacks its first asset: the struct column holds a null there, left out.
        assert_eq!(features[0]["assets"].as_object().unwrap().len(), 5);
    }
}
