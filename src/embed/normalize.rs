//! Per-band standardisation of raw sensor values, with no-data handling.

use std::path::{Path, PathBuf};

/// Mean and standard deviation of each band, in file band order.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BandStats {
    /// Per-band mean.
    pub mean: Vec<f64>,
    /// Per-band standard deviation.
    pub std: Vec<f64>,
}

/// Per-band running sums for scene statistics, fed window by window (no-data excluded).
#[derive(Debug, Clone)]
pub struct StatsAccumulator {
    sum: Vec<f64>,
    sq: Vec<f64>,
    count: Vec<u64>,
    nodata: Option<f64>,
}

impl StatsAccumulator {
    /// Sums for `bands` bands; `nodata` (and NaN) values are skipped.
    pub fn new(bands: usize, nodata: Option<f64>) -> Self {
        Self {
            sum: vec![0.0; bands],
            sq: vec![0.0; bands],
            count: vec![0; bands],
            nodata,
        }
    }

    /// Adds `[C, N]` samples.
    pub fn add(&mut self, data: &[f32]) {
        let bands = self.sum.len();
        let n = data.len() / bands.max(1);
        for b in 0..bands {
            for &v in &data[b * n..(b + 1) * n] {
                if v.is_nan() || self.nodata.is_some_and(|nd| v as f64 == nd) {
                    continue;
                }
                self.sum[b] += v as f64;
                self.sq[b] += (v as f64) * (v as f64);
                self.count[b] += 1;
            }
        }
    }

    /// Mean and std per band; a band without valid data gets (0, 1) and a constant band std 1,
    /// so it maps to 0 instead of dividing by zero.
    pub fn finish(&self) -> BandStats {
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for b in 0..self.sum.len() {
            if self.count[b] == 0 {
                mean.push(0.0);
                std.push(1.0);
                continue;
            }
            let m = self.sum[b] / self.count[b] as f64;
            let var = (self.sq[b] / self.count[b] as f64 - m * m).max(0.0);
            mean.push(m);
            std.push(if var > 0.0 { var.sqrt() } else { 1.0 });
        }
        BandStats { mean, std }
    }
}

/// How raw values become model inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Norm {
    /// Standardise each band with the scene's own mean and std (no-data excluded).
    Scene,
    /// Use the values as they are (already normalised).
    None,
    /// Standardise with given statistics (e.g. the training dataset's).
    Stats(BandStats),
}

/// Errors of [`Norm`].
#[derive(Debug, thiserror::Error)]
pub enum NormError {
    /// The statistics file cannot be read or parsed.
    #[error(
        "cannot read band statistics from `{}`: {reason}; expected JSON {{\"mean\": [..], \"std\": [..]}}",
        path.display()
    )]
    File {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// Statistics for a different number of bands, or a non-positive std.
    #[error("band statistics do not fit the image: {0}")]
    Mismatch(String),
}

impl Norm {
    /// Parses `scene`, `none` or a JSON statistics file.
    pub fn parse(spec: &str) -> Result<Self, NormError> {
        match spec {
            "scene" => Ok(Self::Scene),
            "none" => Ok(Self::None),
            file => {
                let path = Path::new(file);
                let bad = |reason: String| NormError::File {
                    path: path.into(),
                    reason,
                };
                let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
                let stats: BandStats =
                    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
                Ok(Self::Stats(stats))
            }
        }
    }

    /// Normalises `[C, H·W]` samples in place; no-data (`nodata` or NaN) pixels become 0 (the
    /// band mean) and are reported per band as a mask (`true` = no data), `None` when the
    /// scene has none.
    pub fn apply(
        &self,
        data: &mut [f32],
        bands: usize,
        nodata: Option<f64>,
    ) -> Result<Option<Vec<bool>>, NormError> {
        let n = data.len() / bands.max(1);
        let is_nodata = |v: f32| v.is_nan() || nodata.is_some_and(|nd| v as f64 == nd);
        let any_nodata = data.iter().any(|&v| is_nodata(v));
        let mask: Option<Vec<bool>> =
            any_nodata.then(|| data.iter().map(|&v| is_nodata(v)).collect());
        let stats: Vec<(f64, f64)> = match self {
            Self::None => vec![(0.0, 1.0); bands],
            Self::Stats(s) => {
                if s.mean.len() != bands || s.std.len() != bands {
                    return Err(NormError::Mismatch(format!(
                        "{} means and {} stds for {bands} bands",
                        s.mean.len(),
                        s.std.len()
                    )));
                }
                if let Some(i) = s.std.iter().position(|&v| v.is_nan() || v <= 0.0) {
                    return Err(NormError::Mismatch(format!(
                        "std of band {i} is {}",
                        s.std[i]
                    )));
                }
                s.mean.iter().copied().zip(s.std.iter().copied()).collect()
            }
            Self::Scene => {
                let mut acc = StatsAccumulator::new(bands, nodata);
                acc.add(data);
                let s = acc.finish();
                s.mean.into_iter().zip(s.std).collect()
            }
        };
        for (b, &(mean, std)) in stats.iter().enumerate() {
            for v in &mut data[b * n..(b + 1) * n] {
                let x = if is_nodata(*v) {
                    0.0
                } else {
                    ((*v as f64 - mean) / std) as f32
                };
                // Statistics far from the data (a mean of 1e55, a std of 1e-300) overflow
                // float32: an error, not infinities fed to the model.
                if !x.is_finite() && v.is_finite() {
                    return Err(NormError::Mismatch(format!(
                        "band {b}: ({v} - mean {mean}) / std {std} overflows float32"
                    )));
                }
                *v = x;
            }
        }
        Ok(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_norm_standardises_and_zeroes_nodata() {
        let mut d = vec![1.0, 3.0, -9.0, 5.0, 5.0, 5.0];
        let mask = Norm::Scene.apply(&mut d, 2, Some(-9.0)).unwrap().unwrap();
        assert_eq!(&d[..3], &[-1.0, 1.0, 0.0]);
        assert_eq!(&d[3..], &[0.0, 0.0, 0.0]);
        assert_eq!(mask, [false, false, true, false, false, false]);
        let stats = Norm::Stats(BandStats {
            mean: vec![1.0],
            std: vec![0.0],
        });
        assert!(stats.apply(&mut [1.0], 1, None).is_err());
    }

    /// `fuzz/`'s `norm` target: a finite but huge mean gave -inf pixels with no error.
    #[test]
    fn stats_that_overflow_float32_are_an_error() {
        let text = r#"{"mean": [63361111111111111111111111111111111111111111111666662339587.5, 91101042330779.25], "std": [546, 0.1]}"#;
        let stats: BandStats = serde_json::from_str(text).unwrap();
        let mut d = vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0];
        let err = Norm::Stats(stats).apply(&mut d, 2, None).unwrap_err();
        assert!(err.to_string().contains("band 0"), "{err}");
        assert!(err.to_string().contains("overflows float32"), "{err}");
        let tiny = Norm::Stats(BandStats {
            mean: vec![0.0],
            std: vec![1e-300],
        });
        assert!(tiny.apply(&mut [5.0], 1, None).is_err());
    }
}
