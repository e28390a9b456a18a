//! JPEG reader against GDAL's (libjpeg's) decoding of the same files, and bad files.

mod common;

use std::path::PathBuf;

use panopticon_data::{ReadError, read_jpeg};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/jpeg")
}

#[test]
fn matches_libjpeg_within_rounding() {
    for (name, bands) in [("rgb", 3), ("gray", 1)] {
        let r = read_jpeg(dir().join(format!("{name}.jpg"))).unwrap();
        assert_eq!((r.bands, r.height, r.width), (bands, 24, 40), "{name}");
        let want = std::fs::read(dir().join(format!("{name}.expected.bin"))).unwrap();
        let got = r.to_f32();
        assert_eq!(got.len(), want.len());
        // IDCTs agree to a level or two; 4:2:0 chroma upsampling differs between zune-jpeg and
        // libjpeg's "fancy" upsampling at sharp colour edges (measured: max 9, mean 0.43).
        let max_allowed = if bands == 1 { 3.0 } else { 12.0 };
        let diffs: Vec<f32> = got
            .iter()
            .zip(&want)
            .map(|(a, &b)| (a - b as f32).abs())
            .collect();
        let max = diffs.iter().cloned().fold(0.0, f32::max);
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        assert!(
            max <= max_allowed && mean <= 0.5,
            "{name}: max {max}, mean {mean}"
        );
    }
}

#[test]
fn bad_files_are_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(
        read_jpeg(tmp.path().join("missing.jpg")),
        Err(ReadError::Io { .. })
    ));
    let bytes = std::fs::read(dir().join("rgb.jpg")).unwrap();
    for cut in [0, 2, 20, bytes.len() / 3, bytes.len() - 2] {
        let p = tmp.path().join("cut.jpg");
        std::fs::write(&p, &bytes[..cut]).unwrap();
        // A cut file is an error or (for cuts in the entropy data) a decoded image; never a panic.
        if let Err(e) = read_jpeg(&p) {
            assert!(matches!(e, ReadError::Corrupt { .. }), "{cut}: {e}");
            assert!(e.to_string().contains("cut.jpg"), "{e}");
        }
    }
    let p = tmp.path().join("text.jpg");
    std::fs::write(&p, b"not a jpeg at all").unwrap();
    assert!(matches!(read_jpeg(&p), Err(ReadError::Corrupt { .. })));
}

/// Inputs `fuzz/`'s `jpeg` target found, each a typed error naming the file, without a panic
/// (not even one the reader's guard catches).
#[test]
fn fuzz_regressions_are_errors_without_panics() {
    // A 24×40 4:2:0 baseline frame whose only scan holds the luma component: zune-jpeg 0.5.15
    // panics in its AVX2 IDCT (`idct/avx2.rs:247`).
    let cases = [(
        "noninterleaved_subsampled_scan.jpg",
        "scan holds 1 of its 3 subsampled components",
    )];
    for (file, message) in cases {
        let path = dir().join("fuzz").join(file);
        let mut result = None;
        let panics = common::panics_during(|| result = Some(read_jpeg(&path)));
        assert_eq!(panics, 0, "{file}: decoder panicked");
        let err = result.unwrap().unwrap_err();
        assert!(
            matches!(err, ReadError::Corrupt { .. })
                && err.to_string().contains(message)
                && err.to_string().contains(file),
            "{file}: {err}"
        );
    }
}
