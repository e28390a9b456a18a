//! Windowed GeoTIFF reads equal the same window cut from a full read, on every GDAL fixture
//! the full reader accepts (striped, tiled, both interleaves, BigTIFF, predictors, ...).

use std::path::PathBuf;

use panopticon_data::{GeoTiff, Raster, read_geotiff};

fn cut(full: &Raster, r0: usize, c0: usize, rows: usize, cols: usize) -> Vec<f64> {
    let v = full.data.to_f64();
    let mut out = Vec::with_capacity(full.bands * rows * cols);
    for b in 0..full.bands {
        for r in r0..r0 + rows {
            let start = (b * full.height + r) * full.width + c0;
            out.extend_from_slice(&v[start..start + cols]);
        }
    }
    out
}

#[test]
fn windows_equal_cuts_of_the_full_image() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/geotiff");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "tif") {
            continue;
        }
        let Ok(full) = read_geotiff(&path) else {
            continue; // unsupported layouts are covered by the reader's own tests
        };
        let mut file = GeoTiff::open(&path).unwrap();
        assert_eq!(
            (file.bands, file.height, file.width),
            (full.bands, full.height, full.width)
        );
        let (h, w) = (full.height, full.width);
        for (r0, c0, rows, cols) in [
            (0, 0, h, w),
            (0, 0, 1, 1),
            (h - 1, w - 1, 1, 1),
            (h / 3, w / 4, h / 2, w / 2),
            (h / 2, 0, h - h / 2, w),
            (0, w / 2, h, w - w / 2),
        ] {
            if rows == 0 || cols == 0 {
                continue;
            }
            let win = file.read(r0, c0, rows, cols).unwrap();
            assert_eq!((win.bands, win.height, win.width), (full.bands, rows, cols));
            assert_eq!(win.dtype(), full.dtype());
            let got = win.data.to_f64();
            let want = cut(&full, r0, c0, rows, cols);
            let same = got
                .iter()
                .zip(&want)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
            assert!(same, "{} window {r0},{c0} {rows}x{cols}", path.display());
            if let Some(t) = full.geotransform {
                let g = win.geotransform.unwrap();
                let x = t[0] + c0 as f64 * t[1] + r0 as f64 * t[2];
                let y = t[3] + c0 as f64 * t[4] + r0 as f64 * t[5];
                assert!((g[0] - x).abs() < 1e-9 && (g[3] - y).abs() < 1e-9);
            }
        }
        assert!(file.read(0, 0, h + 1, w).is_err());
        assert!(file.read(0, w, 1, 1).is_err());
        checked += 1;
    }
    assert!(checked >= 90, "only {checked} fixtures checked");
}
