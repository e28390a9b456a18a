//! HDF5 reader against h5py's read-back of h5py-written files (`scripts/gen_hdf5_fixtures.py`):
//! every value must be bit-identical (tolerance 0, NaN and ±inf included), for every dtype and
//! layout, whole datasets and single rows; plus attributes and error behaviour.

mod common;

use std::path::{Path, PathBuf};

use panopticon_data::readers::{AttrValue, H5DType, Hdf5File, ReadError};

#[derive(serde::Deserialize)]
struct Expected {
    files: Vec<serde_json::Value>,
    datasets: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    path: String,
    dtype: String,
    shape: Vec<usize>,
    offset: usize,
    nbytes: usize,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/hdf5")
}

fn expected() -> (Expected, Vec<u8>) {
    let json = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let blob = std::fs::read(dir().join("expected.bin")).unwrap();
    (serde_json::from_str(&json).unwrap(), blob)
}

#[test]
fn every_dataset_equals_h5py_bit_for_bit() {
    let (exp, blob) = expected();
    assert_eq!(exp.datasets.len(), 8 * 4 + 6 + 4 + 4);
    for case in &exp.datasets {
        let f = Hdf5File::open(dir().join(&case.file)).unwrap();
        let a = f.read(&case.path).unwrap();
        let label = format!("{}:{}", case.file, case.path);
        assert_eq!(a.shape, case.shape, "{label}");
        assert_eq!(a.dtype().numpy_name(), case.dtype, "{label}");
        let want = &blob[case.offset..case.offset + case.nbytes];
        assert!(
            a.data.to_le_bytes() == want,
            "{label}: values differ from h5py"
        );
        let info = f.info(&case.path).unwrap();
        assert_eq!(
            (info.shape, info.dtype),
            (case.shape.clone(), a.dtype()),
            "{label}"
        );
    }
}

#[test]
fn every_row_equals_the_h5py_row() {
    let (exp, blob) = expected();
    let mut rows_checked = 0;
    for case in exp.datasets.iter().filter(|c| !c.shape.is_empty()) {
        let f = Hdf5File::open(dir().join(&case.file)).unwrap();
        let n = case.shape[0];
        let row_bytes = case.nbytes / n;
        for i in 0..n {
            let r = f.read_row(&case.path, i).unwrap();
            assert_eq!(r.shape, case.shape[1..], "{}[{i}]", case.path);
            let start = case.offset + i * row_bytes;
            assert!(
                r.data.to_le_bytes() == blob[start..start + row_bytes],
                "{}:{}[{i}] differs from h5py",
                case.file,
                case.path
            );
            rows_checked += 1;
        }
    }
    assert!(rows_checked > 150, "{rows_checked}");
}

#[test]
fn chunk_shapes_are_reported() {
    let f = Hdf5File::open(dir().join("variants.h5")).unwrap();
    assert_eq!(f.info("gzip/int16").unwrap().chunks, Some(vec![2, 4, 4]));
    assert_eq!(
        f.info("chunked/uint8").unwrap().chunks,
        Some(vec![1, 6, 10])
    );
    assert_eq!(f.info("contiguous/float32").unwrap().chunks, None);
    let s = f.info("scalar/float64").unwrap();
    assert_eq!((s.shape.len(), s.dtype), (0, H5DType::F64));
    assert_eq!(
        f.read("scalar/float64").unwrap().to_f32(),
        vec![std::f64::consts::E as f32]
    );
}

fn text(v: &str) -> AttrValue {
    AttrValue::Text(vec![v.to_string()])
}

#[test]
fn attributes_match_what_h5py_wrote() {
    let (exp, _) = expected();
    let f = Hdf5File::open(dir().join("variants.h5")).unwrap();
    let attrs = &exp.files[0]["root_attrs"];
    assert_eq!(
        f.attr("/", "title").unwrap(),
        text(attrs["title"].as_str().unwrap())
    );
    assert_eq!(f.attr("/", "fixed").unwrap(), text("fixed-8!"));
    assert_eq!(f.attr("/", "count").unwrap(), AttrValue::Int(vec![-42]));
    assert_eq!(f.attr("/", "scale").unwrap().as_f64(), Some(0.125));
    // f32 widened exactly: compare with the f32 values, not the decimal literals.
    assert_eq!(
        f.attr("/", "means").unwrap(),
        AttrValue::Float(vec![1.5, -2.25, f64::from(1e-3f32)])
    );
    assert_eq!(
        f.attr("/", "flags").unwrap(),
        AttrValue::UInt(vec![0, 1, 255])
    );
    let mut names = f.attr_names("/").unwrap();
    names.sort();
    assert_eq!(
        names,
        ["count", "fixed", "flags", "means", "scale", "title"]
    );
    assert_eq!(
        f.attr("gzip/float32", "unit").unwrap().as_str(),
        Some("reflectance")
    );
    assert_eq!(
        f.attr("/gzip/float32", "nodata").unwrap(),
        AttrValue::Float(vec![-9999.0])
    );
    let latest = Hdf5File::open(dir().join("latest.h5")).unwrap();
    assert_eq!(latest.attr("/", "version").unwrap(), text("latest"));
}

#[test]
fn geobench_style_sample_lists_bands_and_pickle() {
    let (exp, blob) = expected();
    let gb = &exp.files[2];
    let f = Hdf5File::open(dir().join("geobench_sample.hdf5")).unwrap();
    // Same order as h5py's `list(f.keys())` (by name, not by write order).
    let want: Vec<String> = serde_json::from_value(gb["datasets"].clone()).unwrap();
    assert_eq!(f.dataset_names("/").unwrap(), want);
    assert_eq!(want[0], "01 - Coastal aerosol");
    assert!(f.group_names("/").unwrap().is_empty());
    // The pickled dict is a long variable-length string; it must come back unchanged.
    let pickle = f.attr("/", "pickle").unwrap();
    assert_eq!(pickle.as_str(), gb["root_attrs"]["pickle"].as_str());
    let case = exp
        .datasets
        .iter()
        .find(|c| c.file == "geobench_sample.hdf5" && c.path == "02 - Blue")
        .unwrap();
    let band = f.read("02 - Blue").unwrap();
    assert_eq!(
        (band.shape.as_slice(), band.dtype()),
        ([16, 16].as_slice(), H5DType::I16)
    );
    assert!(band.data.to_le_bytes() == blob[case.offset..case.offset + case.nbytes]);
}

#[test]
fn groups_are_listed() {
    let f = Hdf5File::open(dir().join("variants.h5")).unwrap();
    let mut groups = f.group_names("/").unwrap();
    groups.sort();
    assert_eq!(
        groups,
        [
            "big_endian",
            "chunked",
            "contiguous",
            "fletcher32",
            "gzip",
            "scalar",
            "shuffle_gzip",
            "strings",
            "two_d",
            "vector"
        ]
    );
    assert_eq!(f.dataset_names("vector").unwrap(), ["int32"]);
}

#[test]
fn missing_objects_and_rows_are_typed_errors_naming_them() {
    let f = Hdf5File::open(dir().join("variants.h5")).unwrap();
    let err = f.read("nope/int16").unwrap_err();
    assert!(matches!(err, ReadError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nope/int16"), "{err}");
    let err = f.read_row("gzip/int16", 5).unwrap_err();
    assert!(matches!(err, ReadError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains("row 5") && err.to_string().contains("(5 rows)"),
        "{err}"
    );
    let err = f.read_row("scalar/float64", 0).unwrap_err();
    assert!(err.to_string().contains("scalar"), "{err}");
    let err = f.attr("/", "absent").unwrap_err();
    assert!(matches!(err, ReadError::NotFound { .. }) && err.to_string().contains("absent"));
    let err = f.attr("no/such/object", "x").unwrap_err();
    assert!(matches!(err, ReadError::NotFound { .. }), "{err:?}");
    let err = f.read("strings/vlen").unwrap_err();
    assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
}

#[test]
fn bad_files_are_typed_errors() {
    let err = Hdf5File::open("/nonexistent/x.h5").unwrap_err();
    assert!(matches!(err, ReadError::Io { .. }) && err.to_string().contains("/nonexistent/x.h5"));
    // A directory opens (Linux) but cannot be read.
    let err = Hdf5File::open(dir()).unwrap_err();
    assert!(matches!(err, ReadError::Io { .. }), "{err:?}");
    let err = Hdf5File::open(dir().join("expected.json")).unwrap_err();
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err:?}");
}

#[test]
fn read_limit_gives_too_large() {
    let f = Hdf5File::open_with_limit(dir().join("variants.h5"), 64).unwrap();
    // 5×6×9 int16 = 540 bytes > 64
    let err = f.read("gzip/int16").unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::TooLarge {
                limit_bytes: 64,
                ..
            }
        ),
        "{err:?}"
    );
    // one row, 6×9×2 = 108 bytes, still over; a 2×3×4 int16 row of 24 bytes fits
    assert!(f.read_row("gzip/int16", 0).is_err());
    assert_eq!(f.read_row("big_endian/int16", 1).unwrap().shape, [3, 4]);
}

#[test]
fn truncated_and_corrupted_files_never_panic() {
    let bytes = std::fs::read(dir().join("variants.h5")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("cut.h5");
    let mut outcomes = 0;
    let panics = common::panics_during(|| {
        let cuts = [
            0,
            8,
            100,
            600,
            2000,
            5000,
            bytes.len() / 2,
            bytes.len() - 100,
        ];
        for &cut in &cuts {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            outcomes += usize::from(
                Hdf5File::open(&p)
                    .and_then(|f| f.read("gzip/float32"))
                    .is_err(),
            );
        }
        // Flip bytes across the file; reads may succeed (data bytes) but must not panic.
        for k in 0..64 {
            let mut b = bytes.clone();
            let at = (k * 2179) % b.len();
            b[at] ^= 0x5a;
            std::fs::write(&p, &b).unwrap();
            if let Ok(f) = Hdf5File::open(&p) {
                let _ = f.read("shuffle_gzip/int32");
                let _ = f.read_row("chunked/float64", 1);
                let _ = f.attr("/", "title");
            }
        }
    });
    assert_eq!(panics, 0);
    assert_eq!(outcomes, 8, "every truncated file must be an error");
}

#[test]
fn file_handle_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Hdf5File>();
    let f = std::sync::Arc::new(Hdf5File::open(dir().join("variants.h5")).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let f = f.clone();
            std::thread::spawn(move || f.read_row("gzip/uint16", i).unwrap().data.len())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 6 * 9);
    }
}
