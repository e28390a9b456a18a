//! GeoTIFF reader against GDAL: every fixture written by `scripts/gen_geotiff_fixtures.py`
//! must decode to exactly GDAL's read-back (samples bit for bit, geotransform, EPSG, nodata).

use std::collections::BTreeSet;
mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use panopticon_data::readers::{ReadError, SampleType, decode_geotiff, read_geotiff};

#[derive(serde::Deserialize)]
struct Expected {
    gdal_version: String,
    unsupported: Vec<String>,
    files: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    dtype: String,
    shape: [usize; 3],
    geotransform_bits: Option<[u64; 6]>,
    epsg: Option<u32>,
    nodata_bits: Option<u64>,
    data: String,
    gdal_layout: std::collections::BTreeMap<String, String>,
    bigtiff: bool,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/geotiff")
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn dtype_name(d: SampleType) -> &'static str {
    match d {
        SampleType::U8 => "u8",
        SampleType::I8 => "i8",
        SampleType::U16 => "u16",
        SampleType::I16 => "i16",
        SampleType::U32 => "u32",
        SampleType::I32 => "i32",
        SampleType::F32 => "f32",
        SampleType::F64 => "f64",
    }
}

#[test]
fn every_fixture_equals_gdal_readback() {
    let exp = expected();
    assert!(exp.gdal_version.starts_with('3'));
    assert_eq!(exp.files.len(), 105);
    for case in &exp.files {
        let r = read_geotiff(dir().join(&case.file)).unwrap_or_else(|e| panic!("{e}"));
        let f = &case.file;
        assert_eq!(dtype_name(r.dtype()), case.dtype, "{f}");
        assert_eq!([r.bands, r.height, r.width], case.shape, "{f}");
        let want = std::fs::read(dir().join("data").join(&case.data)).unwrap();
        assert!(
            r.data.to_le_bytes() == want,
            "{f}: samples differ from GDAL"
        );
        let gt = r.geotransform.map(|g| g.map(f64::to_bits));
        assert_eq!(gt, case.geotransform_bits, "{f}: geotransform");
        assert_eq!(r.epsg, case.epsg, "{f}: epsg");
        assert_eq!(r.nodata.map(f64::to_bits), case.nodata_bits, "{f}: nodata");
        // The f32 view is the `as` cast of the exact samples.
        let f64s = r.data.to_f64();
        assert!(
            r.to_f32()
                .iter()
                .zip(&f64s)
                .all(|(a, b)| a.to_bits() == (*b as f32).to_bits())
        );
    }
}

#[test]
fn fixtures_cover_every_required_variant() {
    let exp = expected();
    let mut seen = BTreeSet::new();
    for c in &exp.files {
        let l = &c.gdal_layout;
        let comp = l
            .get("COMPRESSION")
            .map_or("NONE", String::as_str)
            .to_string();
        let tiled = c.file.contains("tile");
        seen.insert(format!(
            "{} {} {} {}",
            c.dtype, tiled, comp, l["INTERLEAVE"]
        ));
    }
    for dt in ["u8", "u16", "i16", "u32", "i32", "f32", "f64"] {
        for tiled in [false, true] {
            for comp in ["NONE", "DEFLATE", "LZW"] {
                for il in ["PIXEL", "BAND"] {
                    let key = format!("{dt} {tiled} {comp} {il}");
                    assert!(seen.contains(&key), "missing variant {key}");
                }
            }
        }
    }
    assert!(exp.files.iter().filter(|c| c.bigtiff).count() >= 2);
    let layout =
        |c: &Case, key: &str, want: &str| c.gdal_layout.get(key).map(String::as_str) == Some(want);
    for predictor in ["2", "3"] {
        let n = exp
            .files
            .iter()
            .filter(|c| layout(c, "PREDICTOR", predictor))
            .count();
        assert!(n >= 2, "predictor {predictor}: {n} files");
    }
    assert!(
        exp.files
            .iter()
            .any(|c| layout(c, "COMPRESSION", "PACKBITS"))
    );
    let big_endian = exp.files.iter().filter(|c| c.file.starts_with("bigendian"));
    assert_eq!(big_endian.count(), 2);
    assert!(
        exp.files
            .iter()
            .any(|c| c.nodata_bits.is_some() && c.epsg == Some(32633))
    );
    assert!(exp.files.iter().any(|c| c.epsg == Some(4326)));
    assert!(exp.files.iter().any(|c| c.geotransform_bits.is_none()));
}

#[test]
fn specific_values_read_right() {
    let r = read_geotiff(dir().join("nodata_f32_epsg32633.tif")).unwrap();
    assert_eq!((r.nodata, r.epsg), (Some(-9999.0), Some(32633)));
    assert_eq!(
        r.geotransform,
        Some([500000.0, 10.0, 0.0, 4649776.0, 0.0, -10.0])
    );
    let v = r.to_f32();
    // Band 2, row 3, col 4 was set to nodata by the generator.
    assert_eq!(v[2 * 13 * 17 + 3 * 17 + 4], -9999.0);
    let r = read_geotiff(dir().join("nodata_nan_f32.tif")).unwrap();
    assert!(r.nodata.unwrap().is_nan());
    let r = read_geotiff(dir().join("rotated_transform_u16.tif")).unwrap();
    assert_eq!(r.geotransform, Some([1000.0, 9.5, 2.5, 2000.0, 1.5, -9.0]));
    let r = read_geotiff(dir().join("pixel_is_point_u16.tif")).unwrap();
    assert_eq!(
        r.geotransform,
        Some([500000.0, 10.0, 0.0, 4649776.0, 0.0, -10.0])
    );
    // Pixel- and band-interleaved copies of the same array decode identically.
    let a = read_geotiff(dir().join("i16_tile_lzw_pixel.tif")).unwrap();
    let b = read_geotiff(dir().join("i16_strip_deflate_band.tif")).unwrap();
    assert_eq!(a.data, b.data);
}

#[test]
fn unsupported_layouts_are_typed_errors() {
    for name in expected().unsupported {
        let path = dir().join("unsupported").join(&name);
        match read_geotiff(&path) {
            Err(e @ ReadError::Unsupported { .. }) => {
                assert!(e.to_string().contains(&name), "{e}");
            }
            other => panic!("{name}: expected Unsupported, got {other:?}"),
        }
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err = read_geotiff("/nonexistent/dir/scene.tif").unwrap_err();
    assert!(
        matches!(&err, ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(err.to_string().contains("/nonexistent/dir/scene.tif"));
}

#[test]
fn not_a_tiff_is_corrupt() {
    let path = dir().join("expected.json");
    let err = read_geotiff(&path).unwrap_err();
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("expected.json"));
}

const FUZZ_FILES: [&str; 9] = [
    "predictor3_f64_lzw_tile_band.tif",
    "bigendian_u16_tile_lzw_band.tif",
    "packbits_u8_strip_pixel.tif",
    "u16_tile_deflate_band.tif",
    "f64_strip_lzw_pixel.tif",
    "u8_strip_none_pixel.tif",
    "bigtiff_u16_tile_deflate_band.tif",
    "nodata_f32_epsg32633.tif",
    "predictor2_i16_deflate_tile.tif",
];

/// Decodes bytes; whatever happens must be `Ok` with consistent sizes or `Err`, not a panic.
fn decode(bytes: Vec<u8>) -> Result<(), ReadError> {
    let r = decode_geotiff(Cursor::new(bytes), Path::new("fuzz.tif"), 1 << 24)?;
    assert_eq!(r.data.len(), r.bands * r.height * r.width);
    Ok(())
}

#[test]
fn truncation_at_every_offset_never_panics() {
    let panics = common::panics_during(|| {
        for name in FUZZ_FILES {
            let full = std::fs::read(dir().join(name)).unwrap();
            let mut errs = 0;
            for len in 0..full.len() {
                if decode(full[..len].to_vec()).is_err() {
                    errs += 1;
                }
            }
            // The header and the first IFD are needed, so most prefixes must fail.
            assert!(
                errs > full.len() / 2,
                "{name}: only {errs} of {} prefixes failed",
                full.len()
            );
            assert!(decode(full[..7].to_vec()).is_err());
        }
    });
    assert_eq!(
        panics, 0,
        "a decoder panicked (caught by the reader's guard)"
    );
}

#[test]
fn byte_flips_never_panic() {
    let panics = common::panics_during(|| {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            // xorshift64: deterministic, no dev-dependency.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for name in FUZZ_FILES {
            let full = std::fs::read(dir().join(name)).unwrap();
            let (mut ok, mut err) = (0, 0);
            for _ in 0..1500 {
                let mut bytes = full.clone();
                for _ in 0..1 + next() % 4 {
                    let i = (next() % bytes.len() as u64) as usize;
                    bytes[i] ^= 1 << (next() % 8);
                }
                match decode(bytes) {
                    Ok(()) => ok += 1,
                    Err(_) => err += 1,
                }
            }
            assert_eq!(ok + err, 1500);
        }
        // Flipping every byte of the header region one at a time.
        let full = std::fs::read(dir().join(FUZZ_FILES[0])).unwrap();
        for i in 0..full.len().min(600) {
            for v in [0x00, 0xff, full[i] ^ 0x80] {
                let mut bytes = full.clone();
                bytes[i] = v;
                let _ = decode(bytes);
            }
        }
    });
    assert_eq!(
        panics, 0,
        "a decoder panicked (caught by the reader's guard)"
    );
}

#[test]
fn decoding_limit_is_a_typed_error() {
    let bytes = std::fs::read(dir().join("f64_tile_deflate_band.tif")).unwrap();
    // 3 x 13 x 17 f64 samples need 5304 bytes.
    let err = decode_geotiff(Cursor::new(bytes.clone()), Path::new("big.tif"), 5000).unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::TooLarge {
                limit_bytes: 5000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(decode_geotiff(Cursor::new(bytes), Path::new("big.tif"), 5304).is_ok());
}
