//! TIFF codecs, overviews and masks against GDAL: every fixture written by
//! `scripts/gen_tiff_codec_fixtures.py` must decode to GDAL's pixels (bit for bit for lossless
//! codecs, within the stated tolerance for JPEG/WebP), pick the same overview with the same
//! georeferencing, and mask the same pixels; unsupported codecs are refused by number and name.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use panopticon_data::readers::{GeoTiff, ReadError, decode_geotiff, read_geotiff};

#[derive(serde::Deserialize)]
struct Expected {
    gdal_version: String,
    jpeg_tolerance: f64,
    jpeg_ycbcr_tolerance: f64,
    webp_tolerance: f64,
    unsupported: BTreeMap<String, String>,
    files: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    file: String,
    codec: String,
    predictor: u16,
    tiled: bool,
    interleave: String,
    dtype: String,
    shape: [usize; 3],
    geotransform_bits: [u64; 6],
    epsg: Option<u32>,
    nodata_bits: Option<u64>,
    data: String,
    mask: Option<String>,
    tolerance: f64,
    mean_tolerance: f64,
    overviews: Vec<Overview>,
}

#[derive(serde::Deserialize)]
struct Overview {
    shape: [usize; 3],
    geotransform_bits: [u64; 6],
    data: String,
    mask: Option<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/tiff_codecs")
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn reference(name: &str) -> Vec<u8> {
    std::fs::read(dir().join("ref").join(name)).unwrap()
}

/// Max and mean |a - b| over u8 samples.
fn abs_diff(a: &[u8], b: &[u8]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let d = a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y)));
    let (max, sum) = d.fold((0.0, 0.0), |(m, s), v| (f64::max(m, v), s + v));
    (max, sum / a.len() as f64)
}

/// GDAL's mask reference (0 / 255 per pixel) as valid flags.
fn mask_ref(name: &str) -> Vec<bool> {
    reference(name).into_iter().map(|v| v != 0).collect()
}

/// Checks one image (full resolution or overview) against GDAL; returns max and mean |diff|.
fn check_pixels(file: &mut GeoTiff, case: &Case, shape: [usize; 3], data: &str) -> (f64, f64) {
    let f = &case.file;
    assert_eq!([file.bands, file.height, file.width], shape, "{f}: shape");
    let r = file
        .read(0, 0, shape[1], shape[2])
        .unwrap_or_else(|e| panic!("{e}"));
    // `SampleType`'s names (U8, F32, …) are the fixtures' in lower case.
    assert_eq!(
        format!("{:?}", r.dtype()).to_lowercase(),
        case.dtype,
        "{f}: dtype"
    );
    let got = r.data.to_le_bytes();
    let want = reference(data);
    if case.tolerance == 0.0 {
        assert!(got == want, "{f}: samples differ from GDAL");
        return (0.0, 0.0);
    }
    let (max, mean) = abs_diff(&got, &want);
    assert!(
        max <= case.tolerance,
        "{f}: max |diff| {max} > {}",
        case.tolerance
    );
    assert!(mean <= case.mean_tolerance, "{f}: mean |diff| {mean}");
    (max, mean)
}

#[test]
fn every_codec_decodes_to_gdals_pixels() {
    let exp = expected();
    assert!(exp.gdal_version.starts_with('3'), "{}", exp.gdal_version);
    let mut worst: BTreeMap<String, f64> = BTreeMap::new();
    for case in &exp.files {
        let f = &case.file;
        let mut file = GeoTiff::open(dir().join(f)).unwrap_or_else(|e| panic!("{e}"));
        let (d, mean) = check_pixels(&mut file, case, case.shape, &case.data);
        if case.tolerance > 0.0 {
            eprintln!("{f}: max |diff| {d}, mean {mean:.3}");
        }
        let gt = file.geotransform.map(|g| g.map(f64::to_bits));
        assert_eq!(gt, Some(case.geotransform_bits), "{f}: geotransform");
        assert_eq!(file.epsg, case.epsg, "{f}: epsg");
        assert_eq!(
            file.nodata.map(f64::to_bits),
            case.nodata_bits,
            "{f}: nodata"
        );
        assert_eq!(file.overviews, case.overviews.len(), "{f}: overview count");
        let w = worst.entry(case.codec.clone()).or_default();
        *w = w.max(d);
    }
    // The measured differences, for the README's statement (`--nocapture` shows them).
    eprintln!("max |diff| vs GDAL per codec: {worst:?}");
    assert_eq!(worst["zstd"], 0.0);
    assert_eq!(worst["lerc"], 0.0);
    assert!(worst["jpeg"] <= exp.jpeg_ycbcr_tolerance && worst["webp"] <= exp.webp_tolerance);
    // Without chroma subsampling JPEG is within the tight bound.
    for case in exp.files.iter().filter(|c| c.codec == "jpeg") {
        let ycbcr = case.file.contains("ycbcr");
        assert_eq!(case.tolerance > exp.jpeg_tolerance, ycbcr, "{}", case.file);
    }
}

#[test]
fn whole_file_reader_agrees_with_the_streaming_reader() {
    for case in &expected().files {
        let r = read_geotiff(dir().join(&case.file)).unwrap_or_else(|e| panic!("{e}"));
        let mut file = GeoTiff::open(dir().join(&case.file)).unwrap();
        let w = file.read(0, 0, file.height, file.width).unwrap();
        assert!(
            r.data.to_le_bytes() == w.data.to_le_bytes(),
            "{}",
            case.file
        );
    }
}

#[test]
fn fixtures_cover_every_codec_predictor_dtype_and_layout() {
    let exp = expected();
    let mut seen = BTreeSet::new();
    for c in &exp.files {
        seen.insert(format!("{} p{} {}", c.codec, c.predictor, c.dtype));
        seen.insert(format!("{} {} {}", c.codec, c.tiled, c.interleave));
    }
    for codec in ["zstd", "deflate", "lzw"] {
        for dt in ["u8", "u16", "i16", "u32", "i32", "f32", "f64"] {
            let p = if dt.starts_with('f') { 3 } else { 2 };
            assert!(seen.contains(&format!("{codec} p{p} {dt}")), "{codec} {dt}");
        }
    }
    for codec in ["zstd", "deflate", "lzw", "packbits"] {
        for tiled in [true, false] {
            for il in ["PIXEL", "BAND"] {
                let key = format!("{codec} {tiled} {il}");
                assert!(seen.contains(&key), "missing {key}");
            }
        }
    }
    for codec in ["jpeg", "webp", "lerc"] {
        let n = exp.files.iter().filter(|c| c.codec == codec).count();
        assert!(n >= 4, "{codec}: {n}");
    }
    // LERC plain and in both wrappers, and with NaN pixels (its own validity mask).
    for name in ["lerc_f32", "lerc_deflate", "lerc_zstd", "lerc_nan"] {
        assert!(exp.files.iter().any(|c| c.file.starts_with(name)), "{name}");
    }
    // Lossless WebP is held to bit-exactness, lossy codecs to a tolerance.
    assert!(
        exp.files
            .iter()
            .any(|c| c.codec == "webp" && c.tolerance == 0.0)
    );
    assert!(exp.files.iter().any(|c| c.file.contains("ycbcr")));
    assert!(exp.files.iter().filter(|c| c.mask.is_some()).count() >= 3);
    assert!(exp.files.iter().filter(|c| c.overviews.len() >= 2).count() >= 2);
    assert!(exp.files.iter().any(|c| c.nodata_bits.is_some()));
}

#[test]
fn overviews_equal_gdals_overview_reads() {
    let mut checked = 0;
    for case in &expected().files {
        for (i, ov) in case.overviews.iter().enumerate() {
            let f = &case.file;
            let mut file = GeoTiff::open_overview(dir().join(f), i + 1).unwrap();
            let (max, mean) = check_pixels(&mut file, case, ov.shape, &ov.data);
            if case.tolerance > 0.0 {
                eprintln!("{f} overview {}: max |diff| {max}, mean {mean:.3}", i + 1);
            }
            let gt = file.geotransform.map(|g| g.map(f64::to_bits));
            assert_eq!(gt, Some(ov.geotransform_bits), "{f}: overview {}", i + 1);
            let mask = file.read_mask(0, 0, ov.shape[1], ov.shape[2]).unwrap();
            assert_eq!(mask, ov.mask.as_deref().map(mask_ref), "{f}: overview mask");
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked}");
}

#[test]
fn asking_for_a_missing_overview_names_what_the_file_has() {
    let path = dir().join("overviews_zstd_p2_u16_tile.tif");
    let err = GeoTiff::open_overview(&path, 3).err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
    assert!(
        msg.contains("overview 3") && msg.contains("2 overview(s)"),
        "{msg}"
    );
    let err = GeoTiff::open_overview(dir().join("zstd_p1_u16_tile_pixel.tif"), 1)
        .err()
        .unwrap();
    assert!(err.to_string().contains("0 overview(s)"), "{err}");
}

/// tifffile's pyramid (scripts/gen_subifd_fixture.py): the full image is read; its SubIFD
/// levels are not, and asking for one says so.
#[test]
fn subifd_overviews_are_named_not_read() {
    let path = dir().join("subifd/pyramid_u16.tif");
    let mut tif = GeoTiff::open(&path).unwrap();
    assert_eq!(
        (tif.bands, tif.height, tif.width, tif.overviews),
        (1, 64, 64, 0)
    );
    let want: Vec<f32> = (0..64 * 64).map(|i| ((i % 4093) + 1) as f32).collect();
    assert_eq!(tif.read(0, 0, 64, 64).unwrap().to_f32(), want);
    let err = GeoTiff::open_overview(&path, 1).err().unwrap();
    let msg = err.to_string();
    assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
    assert!(
        msg.contains("0 overview(s)")
            && msg.contains("2 SubIFD image(s)")
            && msg.contains("not read"),
        "{msg}"
    );
}

#[test]
fn masks_equal_gdals_and_mark_pixels_no_data() {
    let mut checked = 0;
    for case in &expected().files {
        let mut file = GeoTiff::open(dir().join(&case.file)).unwrap();
        let [c, h, w] = case.shape;
        let mask = file.read_mask(0, 0, h, w).unwrap();
        assert_eq!(file.has_mask, case.mask.is_some(), "{}", case.file);
        let Some(name) = &case.mask else {
            assert!(mask.is_none());
            continue;
        };
        let want = mask_ref(name);
        assert_eq!(mask.as_ref(), Some(&want), "{}", case.file);
        assert!(want.iter().any(|v| !v) && want.iter().any(|v| *v));
        // Masked pixels come back as NaN in every band; the others as the stored values.
        let f = file.read_f32(0, 0, h, w).unwrap();
        let stored = file.read(0, 0, h, w).unwrap().to_f32();
        for b in 0..c {
            for (i, valid) in want.iter().enumerate() {
                let (got, raw) = (f[b * h * w + i], stored[b * h * w + i]);
                if *valid {
                    assert_eq!(got.to_bits(), raw.to_bits());
                } else {
                    assert!(got.is_nan());
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn windows_equal_cuts_of_the_whole_image_and_mask() {
    for case in &expected().files {
        let mut file = GeoTiff::open(dir().join(&case.file)).unwrap();
        let [c, h, w] = case.shape;
        let full = file.read(0, 0, h, w).unwrap().data.to_f64();
        let full_mask = file.read_mask(0, 0, h, w).unwrap();
        for (r0, c0, rows, cols) in [(0, 0, 1, 1), (h / 3, w / 4, h / 2, w / 2), (17, 33, 31, 31)] {
            let win = file.read(r0, c0, rows, cols).unwrap().data.to_f64();
            let mask = file.read_mask(r0, c0, rows, cols).unwrap();
            for b in 0..c {
                for r in 0..rows {
                    for k in 0..cols {
                        let i = (r0 + r) * w + c0 + k;
                        let (got, want) = (win[(b * rows + r) * cols + k], full[b * h * w + i]);
                        assert!(
                            got.to_bits() == want.to_bits(),
                            "{} window {r0},{c0}",
                            case.file
                        );
                        if let (Some(m), Some(fm)) = (&mask, &full_mask) {
                            assert_eq!(m[r * cols + k], fm[i]);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn unsupported_codecs_are_refused_by_number_and_name() {
    let exp = expected();
    assert!(exp.unsupported.len() >= 2);
    for (name, what) in &exp.unsupported {
        let path = dir().join("unsupported").join(name);
        for err in [
            read_geotiff(&path).unwrap_err(),
            GeoTiff::open(&path).err().unwrap(),
        ] {
            assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.contains(what.as_str()) && msg.contains(name.as_str()),
                "{msg}"
            );
        }
    }
}

/// Every byte of these files truncated or flipped must give `Ok` or `Err`, never a panic.
#[test]
fn damaged_codec_files_never_panic() {
    let names = [
        "jpeg_ycbcr_u8_tile.tif",
        "webp_lossy_rgb_u8_tile.tif",
        "webp_lossless_rgba_u8_strip.tif",
        "zstd_p2_u16_strip_band.tif",
        "cog_zstd_f32_mask.tif",
    ];
    let panics = common::panics_during(|| {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for name in names {
            let full = std::fs::read(dir().join(name)).unwrap();
            let decode = |bytes: Vec<u8>| -> Result<(), ReadError> {
                let mut f = GeoTiff::from_reader(Cursor::new(bytes), Path::new("x.tif"), 1 << 24)?;
                let (h, w) = (f.height, f.width);
                let r = f.read_f32(0, 0, h, w)?;
                assert_eq!(r.len(), f.bands * h * w);
                Ok(())
            };
            for len in (0..full.len()).step_by(97) {
                assert!(decode(full[..len].to_vec()).is_err() || len > full.len() / 2);
            }
            for _ in 0..300 {
                let mut bytes = full.clone();
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state % bytes.len() as u64) as usize;
                bytes[i] ^= 1 << (state % 8);
                let _ = decode(bytes);
            }
        }
        let _ = decode_geotiff(Cursor::new(vec![0u8; 4]), Path::new("x.tif"), 1 << 20);
    });
    assert_eq!(
        panics, 0,
        "a decoder panicked (caught by the reader's guard)"
    );
}
