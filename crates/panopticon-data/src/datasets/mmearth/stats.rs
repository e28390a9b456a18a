//! MMEarth band statistics (`<variant>_band_stats.json`) and the per-band normalisation.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::datasets::DatasetError;
use crate::readers::H5Data;

/// Mean and standard deviation per band of one modality key (other keys such as `min`/`max`
/// are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BandStats {
    /// Per-band mean, in the modality's full band order.
    pub mean: Vec<f64>,
    /// Per-band standard deviation.
    pub std: Vec<f64>,
}

/// The whole stats file: modality key (`sentinel2_l1c`, `sentinel2_l2a`, `sentinel1`,
/// `month`, …) → [`BandStats`].
pub type StatsFile = BTreeMap<String, BandStats>;

/// Reads the stats file.
pub(crate) fn read_stats(path: &Path) -> Result<StatsFile, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| DatasetError::Stats {
        path: path.to_path_buf(),
        message: format!("not a {{modality: {{mean: [...], std: [...]}}}} JSON object: {e}"),
    })
}

/// Stats of `key` with at least `bands` finite entries and non-zero finite stds.
pub(crate) fn checked<'a>(
    file: &'a StatsFile,
    key: &str,
    bands: usize,
    path: &Path,
) -> Result<&'a BandStats, DatasetError> {
    let bad = |message: String| DatasetError::Stats {
        path: path.to_path_buf(),
        message,
    };
    let s = file
        .get(key)
        .ok_or_else(|| bad(format!("no entry `{key}`")))?;
    if s.mean.len() < bands || s.std.len() < bands {
        return Err(bad(format!(
            "`{key}` has {} means and {} stds but {bands} bands are used",
            s.mean.len(),
            s.std.len()
        )));
    }
    if let Some(b) = (0..bands).find(|&b| !s.mean[b].is_finite()) {
        return Err(bad(format!("`{key}` mean of band {b} is {}", s.mean[b])));
    }
    if let Some(b) = (0..bands).find(|&b| !s.std[b].is_finite() || s.std[b] == 0.0) {
        return Err(bad(format!(
            "`{key}` std of band {b} is {}; it must be finite and non-zero",
            s.std[b]
        )));
    }
    Ok(s)
}

/// Upstream's per-modality step: `(x − mean_b) / std_b` in `f64`, **then** values equal to
/// `no_data` become NaN (so for Sentinel-2, whose no-data is 0, the *normalised* values are
/// compared, spec §8 quirk 11), then cast to `f32`.
///
/// # Shapes
/// - `raw`: `[C, H, W]` (any stored type) with `C = channels ≤ stats.mean.len()`.
/// - returns `[C, H, W]`.
pub fn normalise_bands(raw: &H5Data, channels: usize, stats: &BandStats, no_data: f64) -> Vec<f32> {
    let x = raw.to_f64();
    let plane = x.len() / channels.max(1);
    x.chunks(plane.max(1))
        .enumerate()
        .flat_map(|(b, band)| {
            let (m, s) = (stats.mean[b], stats.std[b]);
            band.iter().map(move |&v| {
                let n = (v - m) / s;
                if n == no_data { f32::NAN } else { n as f32 }
            })
        })
        .collect()
}

/// Indices of the channels without any NaN (upstream `check_each_channel_for_nans`).
///
/// # Shapes
/// - `data`: `[C, plane]`.
pub fn channels_without_nan(data: &[f32], plane: usize) -> Vec<usize> {
    data.chunks_exact(plane.max(1))
        .enumerate()
        .filter(|(_, c)| !c.iter().any(|v| v.is_nan()))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mean: &[f64], std: &[f64]) -> BandStats {
        BandStats {
            mean: mean.to_vec(),
            std: std.to_vec(),
        }
    }

    #[test]
    fn normalises_per_band_in_f64_and_masks_after() {
        let s = stats(&[10.0, -1.0, 0.0], &[2.0, 0.5, 1.0]);
        // band 0: raw 0 is not caught (-5), raw 10 normalises to 0.0 and is (the S2 quirk)
        let out = normalise_bands(&H5Data::U16(vec![0, 10, 12, 14, 2, 3]), 2, &s, 0.0);
        assert_eq!(out[0], -5.0);
        assert!(out[1].is_nan());
        assert_eq!(&out[2..], &[1.0, 30.0, 6.0, 8.0]);
        assert_eq!(channels_without_nan(&out, 3), vec![1]);
    }

    #[test]
    fn minus_inf_is_caught_after_normalisation() {
        let s = stats(&[-12.0, -12.0], &[5.0, 5.0]);
        let out = normalise_bands(
            &H5Data::F32(vec![f32::NEG_INFINITY, -7.0]),
            2,
            &s,
            f64::NEG_INFINITY,
        );
        assert!(out[0].is_nan());
        assert_eq!(out[1], 1.0);
        assert_eq!(channels_without_nan(&out, 1), vec![1]);
    }
}
