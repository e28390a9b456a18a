//! The Parquet reader on tables written by pyarrow (`scripts/gen_parquet_fixtures.py`):
//! every column type, three codecs, several row groups, nulls, and the error paths.

mod common;

use std::path::{Path, PathBuf};

use panopticon_data::readers::{ParquetError, ParquetTable};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/parquet")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("valid json")
}

fn want<T: serde::de::DeserializeOwned>(column: &str) -> T {
    serde_json::from_value(expected()["values"][column].clone()).expect(column)
}

const TABLES: [&str; 4] = [
    "table_snappy.parquet",
    "table_zstd.parquet",
    "table_plain_v2.parquet",
    "table_plain_v1.parquet",
];

#[test]
fn every_column_type_reads_as_written() {
    let exp = expected();
    for file in TABLES {
        let t = ParquetTable::open(dir().join(file)).expect(file);
        assert_eq!(t.num_rows(), exp["num_rows"].as_u64().unwrap() as usize);
        let names: Vec<String> = serde_json::from_value(exp["columns"].clone()).unwrap();
        assert_eq!(t.column_names(), names, "{file}");

        assert_eq!(
            t.column::<String>("name").unwrap(),
            want::<Vec<String>>("name")
        );
        assert_eq!(t.column::<i64>("count").unwrap(), want::<Vec<i64>>("count"));
        assert_eq!(t.column::<i32>("small").unwrap(), want::<Vec<i32>>("small"));
        assert_eq!(t.column::<i64>("small").unwrap(), want::<Vec<i64>>("small"));
        assert_eq!(t.column::<i64>("tiny").unwrap(), want::<Vec<i64>>("tiny"));
        assert_eq!(
            t.column::<i64>("unsigned").unwrap(),
            want::<Vec<i64>>("unsigned")
        );
        // Floats are stored and compared exactly (no arithmetic on the way).
        assert_eq!(t.column::<f64>("ratio").unwrap(), want::<Vec<f64>>("ratio"));
        assert_eq!(t.column::<f32>("score").unwrap(), want::<Vec<f32>>("score"));
        assert_eq!(t.column::<f64>("score").unwrap(), want::<Vec<f64>>("score"));
        assert_eq!(t.column::<bool>("flag").unwrap(), want::<Vec<bool>>("flag"));
        assert_eq!(
            t.column::<Option<String>>("maybe").unwrap(),
            want::<Vec<Option<String>>>("maybe")
        );
        assert_eq!(
            t.column::<Vec<String>>("sensor").unwrap(),
            want::<Vec<Vec<String>>>("sensor")
        );
        assert_eq!(
            t.column::<Vec<i64>>("height").unwrap(),
            want::<Vec<Vec<i64>>>("height")
        );
        assert_eq!(
            t.column::<Vec<i32>>("width16").unwrap(),
            want::<Vec<Vec<i32>>>("width16")
        );
        assert_eq!(
            t.column::<Vec<f64>>("gsd").unwrap(),
            want::<Vec<Vec<f64>>>("gsd")
        );
        assert_eq!(
            t.column::<Vec<Option<String>>>("holes").unwrap(),
            want::<Vec<Vec<Option<String>>>>("holes")
        );
        assert_eq!(
            t.column::<Option<Vec<i64>>>("nullable_list").unwrap(),
            want::<Vec<Option<Vec<i64>>>>("nullable_list")
        );
        assert_eq!(
            t.column::<Vec<Vec<i32>>>("nested").unwrap(),
            want::<Vec<Vec<Vec<i32>>>>("nested")
        );
    }
}

#[test]
fn type_and_null_errors_name_column_row_and_element() {
    let t = ParquetTable::open(dir().join("table_snappy.parquet")).unwrap();
    let err = t.column::<i64>("name").unwrap_err();
    assert!(
        matches!(
            &err,
            ParquetError::WrongType { column, row: 0, element: None, expected: "integer", got: "string", .. }
                if column == "name"
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("table_snappy.parquet"), "{err}");
    // A 64-bit column is not read as i32, even though its first value fits.
    assert!(matches!(
        t.column::<i32>("count"),
        Err(ParquetError::WrongType { got: "int64", .. })
    ));
    // Lists are not scalars and scalars are not lists.
    assert!(matches!(
        t.column::<String>("sensor"),
        Err(ParquetError::WrongType { got: "list", .. })
    ));
    assert!(matches!(
        t.column::<Vec<String>>("name"),
        Err(ParquetError::WrongType {
            expected: "list",
            got: "string",
            ..
        })
    ));
    // Wrong element type: the element type is named.
    let err = t.column::<Vec<i64>>("sensor").unwrap_err();
    assert!(
        matches!(
            err,
            ParquetError::WrongType {
                row: 0,
                element: Some(0),
                expected: "integer",
                got: "string",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("row 0 element 0"), "{err}");
    // Nulls: scalar, element, whole list.
    assert!(matches!(
        t.column::<String>("maybe"),
        Err(ParquetError::Null {
            row: 1,
            element: None,
            ..
        })
    ));
    let err = t.column::<Vec<String>>("holes").unwrap_err();
    assert!(
        matches!(
            err,
            ParquetError::Null {
                row: 0,
                element: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        t.column::<Vec<i64>>("nullable_list"),
        Err(ParquetError::Null {
            row: 1,
            element: None,
            ..
        })
    ));
    // Missing column lists the real ones.
    let err = t.column::<i64>("onid").unwrap_err();
    assert!(matches!(err, ParquetError::MissingColumn { .. }));
    assert!(err.to_string().contains("`onid`") && err.to_string().contains("sensor"));
}

#[test]
fn bad_files_are_typed_errors() {
    let err = ParquetTable::open(dir().join("does_not_exist.parquet")).unwrap_err();
    assert!(matches!(err, ParquetError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("does_not_exist.parquet"));
    for file in ["truncated.parquet", "not_parquet.parquet"] {
        let err = ParquetTable::open(dir().join(file)).unwrap_err();
        assert!(
            matches!(err, ParquetError::Corrupt { .. }),
            "{file}: {err:?}"
        );
        assert!(err.to_string().contains(file), "{err}");
    }
    // Intact footer, garbage pages: opening works, reading the column fails cleanly.
    let t = ParquetTable::open(dir().join("bad_pages.parquet")).unwrap();
    let err = t.column::<String>("name").unwrap_err();
    assert!(matches!(err, ParquetError::Corrupt { .. }), "{err:?}");
}

#[test]
fn mutated_files_give_errors_or_values_never_panics() {
    // Deterministic byte flips over the whole file (footer included): every outcome must be
    // `Ok` or a typed error; a decoder panic is caught inside the reader.
    let data = std::fs::read(dir().join("table_snappy.parquet")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.parquet");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut opened, mut failed) = (0, 0);
    for _ in 0..300 {
        let mut bytes = data.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] ^= 1 << (next() % 8);
        }
        std::fs::write(&path, &bytes).unwrap();
        let outcome = std::panic::catch_unwind(|| match ParquetTable::open(&path) {
            Ok(t) => {
                let _ = t.column::<Vec<String>>("sensor");
                let _ = t.column::<Option<Vec<i64>>>("nullable_list");
                let _ = t.column::<f64>("ratio");
                true
            }
            Err(_) => false,
        });
        match outcome {
            Ok(true) => opened += 1,
            Ok(false) => failed += 1,
            Err(_) => panic!("a panic escaped the reader"),
        }
    }
    assert_eq!(opened + failed, 300);
}

/// Opens `fuzz/<file>` and reads every column as several types (as the fuzz target does):
/// the errors, and how many panics happened (caught or not).
fn read_every_column(file: &str) -> (Vec<ParquetError>, usize) {
    let path = dir().join("fuzz").join(file);
    let mut errors = Vec::new();
    let panics = common::panics_during(|| {
        let t = match ParquetTable::open(&path) {
            Ok(t) => t,
            Err(e) => return errors.push(e),
        };
        for name in t.column_names() {
            errors.extend(t.column::<String>(&name).err());
            errors.extend(t.column::<i64>(&name).err());
            errors.extend(t.column::<f64>(&name).err());
            errors.extend(t.column::<bool>(&name).err());
            errors.extend(t.column::<Option<f64>>(&name).err());
            errors.extend(t.column::<Vec<String>>(&name).err());
            errors.extend(t.column::<Vec<Option<f64>>>(&name).err());
            errors.extend(t.column::<Vec<Vec<String>>>(&name).err());
        }
    });
    (errors, panics)
}

/// Whether one of `errors` is a `Corrupt` error naming `file` and saying `message`.
fn corrupt_naming(errors: &[ParquetError], file: &str, message: &str) -> bool {
    errors.iter().any(|e| {
        matches!(e, ParquetError::Corrupt { .. })
            && e.to_string().contains(file)
            && e.to_string().contains(message)
    })
}

/// Inputs the `fuzz/` parquet target found: each must open or fail with a typed error, and
/// reading every column as several types must raise no panic at all, not even one the
/// reader's guard catches.
#[test]
fn fuzz_regressions_are_errors_without_panics() {
    let cases = [
        (
            "dict_page_missing.parquet",
            "dictionary-encoded but the column chunk has no dictionary page",
        ),
        // Well-formed headers, the dictionary page relabelled INDEX_PAGE
        // (`scripts/gen_parquet_dict_as_index.py`).
        (
            "dict_page_as_index.parquet",
            "dictionary-encoded but the column chunk has no dictionary page",
        ),
        ("negative_chunk_range.parquet", "does not fit in the"),
        ("dict_strings_overrun.parquet", "run past its"),
        ("def_level_above_max.parquet", "above the column's maximum"),
        ("data_page_byte_array_overrun.parquet", "runs past their"),
    ];
    for (file, message) in cases {
        let (errors, panics) = read_every_column(file);
        assert_eq!(panics, 0, "{file}: decoder panicked");
        assert!(
            corrupt_naming(&errors, file, message),
            "{file}: {errors:#?}"
        );
    }
}

/// Page headers whose unknown Thrift fields claim collections of 10⁸ elements: `parquet`
/// 60.1 skipped them one element at a time (booleans took no bytes; other types read 0 bytes
/// at end of file, one syscall each): 225 s for one file on this machine. 60.2 skips a
/// boolean list as its bytes and fails a skip past the end, so each column is a quick
/// Corrupt error; 20 s is far above the time now and far below the old one.
#[test]
fn page_headers_that_skip_past_the_end_of_the_file_fail_fast() {
    for file in [
        "slow_page_header.parquet",
        "slow_thrift_skip.parquet",
        "slow_thrift_skip_bytes.parquet",
        // The same in the footer (`open`): 2.9 s with 60.1 in the fuzz build.
        "slow_footer_bool_list.parquet",
    ] {
        let start = std::time::Instant::now();
        let (errors, panics) = read_every_column(file);
        let took = start.elapsed();
        assert_eq!(panics, 0, "{file}: decoder panicked");
        assert!(took.as_secs() < 20, "{file}: {took:?}");
        assert!(corrupt_naming(&errors, file, ""), "{file}: {errors:#?}");
    }
}

#[test]
fn read_limit_applies_to_the_footer_sizes_before_decoding() {
    let t = ParquetTable::open(dir().join("table_snappy.parquet")).unwrap();
    let rows = t.num_rows();
    let limit = rows * 8 - 1;
    let t = ParquetTable::open_with_limit(dir().join("table_snappy.parquet"), limit).unwrap();
    let err = t.column::<i64>("count").unwrap_err();
    assert!(
        matches!(&err, ParquetError::TooLarge { column, limit_bytes, .. }
            if column == "count" && *limit_bytes == limit),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&format!("{rows} rows of 8 bytes")), "{msg}");
    // A generous limit reads it.
    let t = ParquetTable::open_with_limit(dir().join("table_snappy.parquet"), 1 << 20).unwrap();
    assert_eq!(t.column::<i64>("count").unwrap().len(), rows);
}
