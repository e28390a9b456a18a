//! The loss curve of a run as a PNG (`loss.png` next to `metrics.jsonl`).

use std::path::Path;

use panopticon_data::write_png_rgb;

use crate::error::{Result, TrainError};

const W: usize = 640;
const H: usize = 360;
const MARGIN: usize = 24;

/// The curves drawn, with their colours: total, DINO global, DINO local, iBOT, KoLeo.
const SERIES: [(&str, [u8; 3]); 5] = [
    ("total_loss", [0, 0, 0]),
    ("dino_global_crops_loss", [31, 119, 180]),
    ("dino_local_crops_loss", [255, 127, 14]),
    ("ibot_loss", [44, 160, 44]),
    ("koleo_loss", [214, 39, 40]),
];

/// Reads `metrics.jsonl` and draws every loss against the iteration on one linear axis
/// (black total, blue DINO global, orange DINO local, green iBOT, red KoLeo), atomically
/// written to `out`. Lines that do not parse are skipped; fewer than 2 steps draw nothing.
pub fn plot_losses(metrics: &Path, out: &Path) -> Result<bool> {
    let text = std::fs::read_to_string(metrics).map_err(|source| TrainError::Io {
        path: metrics.into(),
        source,
    })?;
    let rows: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if rows.len() < 2 {
        return Ok(false);
    }
    let series: Vec<(Vec<f64>, [u8; 3])> = SERIES
        .iter()
        .map(|(k, c)| {
            let v = rows
                .iter()
                .map(|r| r.get(*k).and_then(|x| x.as_f64()).unwrap_or(f64::NAN))
                .collect();
            (v, *c)
        })
        .collect();
    let finite = series
        .iter()
        .flat_map(|(v, _)| v.iter())
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return Ok(false);
    }
    let (lo, hi) = if hi > lo {
        (lo.min(0.0), hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let mut img = vec![255u8; W * H * 3];
    let mut put = |x: usize, y: usize, c: [u8; 3]| {
        if x < W && y < H {
            img[(y * W + x) * 3..(y * W + x) * 3 + 3].copy_from_slice(&c);
        }
    };
    // Axes.
    for x in MARGIN..W - MARGIN {
        put(x, H - MARGIN, [120, 120, 120]);
    }
    for y in MARGIN..=H - MARGIN {
        put(MARGIN, y, [120, 120, 120]);
    }
    let n = rows.len();
    let to_px = |i: usize, v: f64| {
        let x = MARGIN as f64 + (W - 2 * MARGIN) as f64 * i as f64 / (n - 1) as f64;
        let y = (H - MARGIN) as f64 - (H - 2 * MARGIN) as f64 * (v - lo) / (hi - lo);
        (x, y)
    };
    for (v, c) in &series {
        for i in 1..n {
            if !(v[i - 1].is_finite() && v[i].is_finite()) {
                continue;
            }
            let (x0, y0) = to_px(i - 1, v[i - 1]);
            let (x1, y1) = to_px(i, v[i]);
            let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
            for s in 0..=steps {
                let t = s as f64 / steps as f64;
                let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
                put(x.round() as usize, y.round() as usize, *c);
                put(x.round() as usize, y.round() as usize + 1, *c);
            }
        }
    }
    write_png_rgb(out, H, W, &img).map_err(|e| TrainError::Io {
        path: out.into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_curves_of_a_metrics_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("metrics.jsonl");
        let lines: Vec<String> = (0..20)
            .map(|i| {
                format!(
                    "{{\"iteration\": {i}, \"total_loss\": {}, \"ibot_loss\": 1.0, \"koleo_loss\": {}}}",
                    10.0 - i as f64 * 0.3,
                    if i == 5 { "null".to_string() } else { "0.5".into() }
                )
            })
            .collect();
        std::fs::write(&m, lines.join("\n") + "\nnot json\n").unwrap();
        let png = dir.path().join("loss.png");
        assert!(plot_losses(&m, &png).unwrap());
        let r = panopticon_data::read_png(&png).unwrap();
        assert_eq!((r.bands, r.height, r.width), (3, H, W));
        // Black (total) pixels exist; green (iBOT) pixels exist.
        let px = r.to_f32();
        let plane = H * W;
        let count = |c: [f32; 3]| {
            (0..plane)
                .filter(|&i| px[i] == c[0] && px[plane + i] == c[1] && px[2 * plane + i] == c[2])
                .count()
        };
        assert!(count([0.0, 0.0, 0.0]) > 100);
        assert!(count([44.0, 160.0, 44.0]) > 100);
        // One step is not a curve.
        std::fs::write(&m, "{\"total_loss\": 1.0}\n").unwrap();
        assert!(!plot_losses(&m, &png.with_extension("2.png")).unwrap());
    }
}
