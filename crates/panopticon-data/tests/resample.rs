//! Mixed-resolution band stacks against GDAL: `scripts/gen_resample_fixtures.py` warps real
//! Landsat bands at 30, 60 and 90 m (the 90 m one on a shifted lattice, with a smaller extent)
//! onto the common grid with `rasterio.warp.reproject` (`average` for bands finer than the
//! grid, `bilinear` otherwise); the stack must agree within `TOLERANCE`.

use std::path::PathBuf;

use panopticon_data::GeoTiff;
use panopticon_data::resample::{BandSource, BandStack, Method, ResampleError};

/// Largest difference allowed against GDAL, relative to the value: both weigh the same taps in
/// f64 and round to f32, so they differ by at most an f32 ulp or so (measured: ≤ 9.2e-8,
/// 9.8e-4 DN on values near 10⁴; 0 for most bands).
const TOLERANCE: f64 = 1e-6;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/resample")
}

fn source(name: &str) -> BandSource {
    BandSource::from_geotiff(name, GeoTiff::open(dir().join(name)).unwrap()).unwrap()
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

#[test]
fn stacks_equal_gdal_warp_for_every_target_resolution() {
    let exp = expected();
    let names: Vec<String> = exp["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for (case, want) in exp["cases"].as_object().unwrap() {
        let sources = names.iter().map(|n| source(n)).collect();
        let mut stack = BandStack::new(sources, want["resolution"].as_f64()).unwrap();
        let g = stack.grid;
        let t: Vec<f64> = want["transform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(g.transform.to_vec(), t, "{case}: grid transform");
        assert_eq!(
            (g.width as u64, g.height as u64),
            (
                want["width"].as_u64().unwrap(),
                want["height"].as_u64().unwrap()
            ),
            "{case}: grid size"
        );
        let methods: Vec<&str> = stack
            .methods()
            .iter()
            .map(|(_, m)| match m {
                Method::Average => "average",
                Method::Bilinear | Method::Aligned => "bilinear",
            })
            .collect();
        let want_methods: Vec<&str> = want["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(methods, want_methods, "{case}: methods");

        // Read in uneven windows of rows, as the streamed embedding does.
        let (c, h, w) = (names.len(), g.height, g.width);
        let mut got = vec![0f32; c * h * w];
        let mut row0 = 0;
        while row0 < h {
            let rows = 7.min(h - row0);
            let win = stack.read_rows(row0, rows).unwrap();
            for b in 0..c {
                got[(b * h + row0) * w..(b * h + row0 + rows) * w]
                    .copy_from_slice(&win[b * rows * w..(b + 1) * rows * w]);
            }
            row0 += rows;
        }
        let bytes = std::fs::read(dir().join(format!("{case}.bin"))).unwrap();
        let gdal: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(gdal.len(), got.len());
        for b in 0..c {
            let (mut max_abs, mut max_rel) = (0f64, 0f64);
            for i in b * h * w..(b + 1) * h * w {
                let (x, y) = (got[i], gdal[i]);
                assert_eq!(
                    x.is_nan(),
                    y.is_nan(),
                    "{case} band {b} pixel {i}: {x} vs GDAL {y}"
                );
                if x.is_nan() {
                    continue;
                }
                let d = (f64::from(x) - f64::from(y)).abs();
                max_abs = max_abs.max(d);
                max_rel = max_rel.max(d / f64::from(y).abs().max(1.0));
            }
            eprintln!(
                "{case} {} ({}): max |Δ| vs GDAL {max_abs:.3e}, relative {max_rel:.3e}",
                names[b], methods[b]
            );
            assert!(max_rel <= TOLERANCE, "{case} band {b}: relative {max_rel}");
        }
    }
}

#[test]
fn bands_in_different_crss_are_refused_with_both_listed() {
    let sources = vec![source("b04_30m.tif"), source("b07_30m_utm17.tif")];
    let err = BandStack::new(sources, None).err().unwrap();
    assert!(matches!(err, ResampleError::MixedCrs { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("b04_30m.tif (EPSG:32616)") && msg.contains("b07_30m_utm17.tif (EPSG:32617)"),
        "{msg}"
    );
}

#[test]
fn bad_resolution_and_multiband_files_are_refused() {
    let err = BandStack::new(vec![source("b04_30m.tif")], Some(-5.0))
        .err()
        .unwrap();
    assert!(err.to_string().contains("resolution -5"), "{err}");
    let multi =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/landsat8_gulf_coast.tif");
    let err = BandSource::from_geotiff("scene", GeoTiff::open(multi).unwrap())
        .err()
        .unwrap();
    assert!(err.to_string().contains("11 bands"), "{err}");
}

/// A band's internal mask (GDAL's per-dataset mask) makes its pixels no-data in the stack, as
/// `GDAL_NODATA` does (`scripts/gen_masked_band_fixture.py`: values 100 + 7·i, two masked
/// blocks of 18 and 4 pixels).
#[test]
fn masked_pixels_of_a_band_are_no_data() {
    let mut stack = BandStack::new(vec![source("masked_band.tif")], None).unwrap();
    let (h, w) = (stack.grid.height, stack.grid.width);
    assert_eq!((h, w), (12, 16));
    let got = stack.read_rows(0, h).unwrap();
    for r in 0..h {
        for c in 0..w {
            let masked = (2..5).contains(&r) && (3..9).contains(&c) || (r >= 10 && c < 2);
            let v = got[r * w + c];
            if masked {
                assert!(v.is_nan(), "({r}, {c}) is masked but read {v}");
            } else {
                assert_eq!(v, (100 + 7 * (r * w + c)) as f32, "({r}, {c})");
            }
        }
    }
}
