//! PNG reader against GDAL's read-back of GDAL-written PNGs (`scripts/gen_png_fixtures.py`),
//! plus error behaviour on missing, unsupported, truncated and corrupted files.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use panopticon_data::readers::{RasterData, ReadError, SampleType, decode_png, read_png};

#[derive(serde::Deserialize)]
struct Expected {
    files: Vec<Case>,
    unsupported: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    shape: [usize; 3],
    dtype: String,
    data: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/png")
}

fn expected() -> Expected {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

#[test]
fn every_fixture_equals_gdal_readback() {
    let exp = expected();
    assert_eq!(exp.files.len(), 4);
    for case in &exp.files {
        let r = read_png(dir().join(&case.file)).unwrap();
        assert_eq!([r.bands, r.height, r.width], case.shape, "{}", case.file);
        let dtype = match r.dtype() {
            SampleType::U8 => "uint8",
            SampleType::U16 => "uint16",
            other => panic!("{other:?}"),
        };
        assert_eq!(dtype, case.dtype);
        let want = std::fs::read(dir().join(&case.data)).unwrap();
        assert!(
            r.data.to_le_bytes() == want,
            "{}: samples differ",
            case.file
        );
        assert_eq!((r.geotransform, r.epsg, r.nodata), (None, None, None));
    }
}

#[test]
fn one_and_three_channel_8_bit() {
    let gray = read_png(dir().join("gray_u8.png")).unwrap();
    assert_eq!((gray.bands, gray.dtype()), (1, SampleType::U8));
    let rgb = read_png(dir().join("rgb_u8.png")).unwrap();
    assert_eq!((rgb.bands, rgb.height, rgb.width), (3, 13, 17));
    let f = rgb.to_f32();
    let RasterData::U8(raw) = &rgb.data else {
        panic!()
    };
    assert_eq!(f.len(), 3 * 13 * 17);
    assert!(f.iter().zip(raw).all(|(a, b)| *a == f32::from(*b)));
}

#[test]
fn encoder_roundtrip_larger_image() {
    let (w, h) = (301u32, 199u32);
    let pixels: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(&pixels).unwrap();
    }
    let r = decode_png(Cursor::new(bytes), Path::new("mem.png"), 1 << 24).unwrap();
    let RasterData::U8(chw) = r.data else {
        panic!()
    };
    let (w, h) = (w as usize, h as usize);
    for (y, x, c) in [(0, 0, 0), (5, 7, 1), (198, 300, 2), (100, 150, 1)] {
        assert_eq!(chw[c * h * w + y * w + x], pixels[(y * w + x) * 3 + c]);
    }
}

#[test]
fn palette_is_unsupported_naming_the_file() {
    for name in expected().unsupported {
        let err = read_png(dir().join(&name)).unwrap_err();
        assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
        assert!(err.to_string().contains(&name) && err.to_string().contains("palette"));
    }
}

#[test]
fn missing_and_non_png_files_are_typed_errors() {
    let err = read_png("/nonexistent/x.png").unwrap_err();
    assert!(matches!(err, ReadError::Io { .. }) && err.to_string().contains("/nonexistent/x.png"));
    let err = read_png(dir().join("expected.json")).unwrap_err();
    assert!(matches!(err, ReadError::Corrupt { .. }), "{err:?}");
}

#[test]
fn truncation_and_byte_flips_never_panic() {
    let panics = common::panics_during(|| {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let decode = |b: Vec<u8>| decode_png(Cursor::new(b), Path::new("fuzz.png"), 1 << 24);
        for name in ["gray_u8.png", "rgb_u8.png", "rgba_u8.png", "gray_u16.png"] {
            let full = std::fs::read(dir().join(name)).unwrap();
            // Every strict prefix lacks IEND or image data, so must fail.
            for len in 0..full.len() - 12 {
                let r = decode(full[..len].to_vec());
                assert!(r.is_err(), "{name} truncated to {len} decoded");
            }
            for _ in 0..1000 {
                let mut b = full.clone();
                let i = (next() % b.len() as u64) as usize;
                b[i] ^= 1 << (next() % 8);
                if let Ok(r) = decode(b) {
                    assert_eq!(r.data.len(), r.bands * r.height * r.width);
                }
            }
        }
    });
    assert_eq!(
        panics, 0,
        "a decoder panicked (caught by the reader's guard)"
    );
}
