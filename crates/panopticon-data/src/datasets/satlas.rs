//! SatlasPretrain (spec §5.6): one 8-bit PNG per band and acquisition, Sentinel-2 RGB stored
//! as a 3-channel TCI, bands at their native resolutions.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::DatasetError;
use super::source::PretrainSource;
use crate::augment::{AugRng, Draws, Image, View};
use crate::readers::{RasterData, read_png};
use crate::sensors::SensorRegistry;

/// A Satlas sensor (the `sensor` list values of the metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SatlasSensor {
    /// Sentinel-1 (`s1`): VV, VH.
    S1,
    /// Sentinel-2 (`s2`): B04, B03, B02 (the TCI file), B05, B06, B07, B08, B11, B12.
    S2,
    /// Landsat 8/9 (`landsat`): B01..B11.
    Landsat,
}

/// Per-band `(file stem, mean, std)` of one sensor, in output order. The TCI file gives the
/// first three Sentinel-2 bands.
type BandStats = &'static [(&'static str, f32, f32)];

const S2_STATS: BandStats = &[
    ("tci", 0.3475, 0.2394), // B04
    ("tci", 0.3547, 0.1936), // B03
    ("tci", 0.3804, 0.1836), // B02
    ("b05", 0.3038, 0.1425),
    ("b06", 0.3843, 0.1434),
    ("b07", 0.4232, 0.1554),
    ("b08", 0.4157, 0.1526),
    ("b11", 0.3687, 0.1472),
    ("b12", 0.2847, 0.1264),
];

const LANDSAT_STATS: BandStats = &[
    ("b1", 0.4089, 0.1701),
    ("b2", 0.3725, 0.1799),
    ("b3", 0.3479, 0.1923),
    ("b4", 0.3442, 0.2224),
    ("b5", 0.6330, 0.2728),
    ("b6", 0.5025, 0.2644),
    ("b7", 0.3665, 0.2348),
    ("b8", 0.3427, 0.2031),
    ("b9", 0.0702, 0.0415),
    ("b10", 0.9373, 0.1482),
    ("b11", 0.9399, 0.1410),
];

const S1_STATS: BandStats = &[("vv", 0.5356, 0.0730), ("vh", 0.4324, 0.0780)];

impl SatlasSensor {
    /// All three sensors (upstream default `keep_sensors`).
    pub const ALL: [SatlasSensor; 3] = [Self::S1, Self::S2, Self::Landsat];

    /// Parses the metadata name (`s1`, `s2`, `landsat`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "s1" => Some(Self::S1),
            "s2" => Some(Self::S2),
            "landsat" => Some(Self::Landsat),
            _ => None,
        }
    }

    /// The metadata name.
    pub fn name(self) -> &'static str {
        match self {
            Self::S1 => "s1",
            Self::S2 => "s2",
            Self::Landsat => "landsat",
        }
    }

    /// The band list of the registry (`pretrain/satlas_*`).
    pub fn registry_dataset(self) -> &'static str {
        match self {
            Self::S1 => "pretrain/satlas_s1",
            Self::S2 => "pretrain/satlas_s2",
            Self::Landsat => "pretrain/satlas_landsat",
        }
    }

    /// `(file stem, mean, std)` per output band (values in `[0, 1]` units).
    pub fn band_stats(self) -> &'static [(&'static str, f32, f32)] {
        match self {
            Self::S1 => S1_STATS,
            Self::S2 => S2_STATS,
            Self::Landsat => LANDSAT_STATS,
        }
    }
}

/// One metadata row: a tile footprint and its co-located acquisitions.
///
/// Upstream stores these rows in `metadata_v2/satlas_iwm_onid_3sensors_all_clean.parquet`;
/// this crate reads the same columns from JSON Lines (one object per line:
/// `{"id": "...", "s2_dir": "...", "sensor": ["s2", "s1", ...], "time": ["...", ...]}`),
/// converted once with `scripts/satlas_parquet_to_jsonl.py`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SatlasRow {
    /// Tile id (the PNG file stem).
    pub id: String,
    /// Sentinel-2 directory (`sentinel2/<s2_dir>/...`), when the tile has Sentinel-2.
    #[serde(default)]
    pub s2_dir: Option<String>,
    /// Sensor of each acquisition.
    pub sensor: Vec<String>,
    /// Time directory of each acquisition (used for `s1` and `landsat`).
    pub time: Vec<Option<String>>,
}

/// Settings of [`Satlas`].
#[derive(Debug, Clone, PartialEq)]
pub struct SatlasConfig {
    /// Views per sample (`num_sens`, upstream 2), drawn without replacement.
    pub num_views: usize,
    /// Sensors eligible as views.
    pub keep_sensors: Vec<SatlasSensor>,
    /// Standardise with the per-band mean/std (upstream `normalize=True`).
    pub normalise: bool,
}

impl Default for SatlasConfig {
    fn default() -> Self {
        Self {
            num_views: 2,
            keep_sensors: SatlasSensor::ALL.to_vec(),
            normalise: true,
        }
    }
}

/// SatlasPretrain pre-training dataset (upstream `SatlasDataset`).
///
/// Layout under `root` (upstream `$RDIR/datasets/satlas`):
/// `sentinel2/<s2_dir>/{tci,b05,b06,b07,b08,b11,b12}/<id>.png`,
/// `sentinel1/<time>/{vv,vh}/<id>.png`, `landsat/<time>/{b1..b11}/<id>.png`, all 8-bit.
///
/// A sample draws `num_views` distinct acquisitions among those of the kept sensors
/// (a shuffle of the eligible positions from the sample's generator, first `num_views`
/// kept), and returns one view per acquisition: one `[1, h_b, w_b]` image per band at its
/// stored resolution, `x / 255` then `(x − mean_b) / std_b`, with the `satlas_*` chn_ids.
///
/// Differences from upstream, on purpose: upstream draws the pair from numpy's global
/// generator, which forked DataLoader workers share (identical choices across workers);
/// here it comes from the per-sample stream. Upstream splits *any* 3-channel file; here
/// the TCI must have exactly 3 channels and every other band 1, and 16-bit PNGs are refused
/// ([`DatasetError::BandCount`], [`DatasetError::SampleType`]).
#[derive(Debug, Clone)]
pub struct Satlas {
    root: PathBuf,
    rows: Vec<SatlasRow>,
    config: SatlasConfig,
    chn_ids: [Vec<f32>; 3],
}

impl Satlas {
    /// Opens the dataset at `root` with the metadata rows of `metadata` (JSON Lines).
    pub fn open(
        root: impl AsRef<Path>,
        metadata: impl AsRef<Path>,
        config: SatlasConfig,
    ) -> Result<Self, DatasetError> {
        let metadata = metadata.as_ref();
        let text = std::fs::read_to_string(metadata).map_err(|source| DatasetError::Io {
            path: metadata.to_path_buf(),
            source,
        })?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |message: String| DatasetError::Metadata {
                path: metadata.to_path_buf(),
                line: i + 1,
                message,
            };
            let row: SatlasRow = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            if row.sensor.len() != row.time.len() {
                return Err(bad(format!(
                    "`sensor` has {} entries but `time` has {}",
                    row.sensor.len(),
                    row.time.len()
                )));
            }
            if let Some(s) = row.sensor.iter().find(|s| SatlasSensor::parse(s).is_none()) {
                return Err(bad(format!("unknown sensor `{s}`; use s1, s2 or landsat")));
            }
            rows.push(row);
        }
        if rows.is_empty() {
            return Err(DatasetError::EmptySplit {
                path: metadata.to_path_buf(),
            });
        }
        if config.num_views == 0 || config.keep_sensors.is_empty() {
            return Err(DatasetError::Config(
                "Satlas needs num_views >= 1 and at least one kept sensor".into(),
            ));
        }
        let registry = SensorRegistry::builtin()?;
        let ids = |s: SatlasSensor| registry.dataset_chn_ids_f32(s.registry_dataset());
        let chn_ids = [
            ids(SatlasSensor::S1)?,
            ids(SatlasSensor::S2)?,
            ids(SatlasSensor::Landsat)?,
        ];
        Ok(Self {
            root: root.as_ref().to_path_buf(),
            rows,
            config,
            chn_ids,
        })
    }

    /// The metadata rows.
    pub fn rows(&self) -> &[SatlasRow] {
        &self.rows
    }

    /// The positions of row `index`'s acquisitions that the sample would use, given `rng`.
    pub fn choose_views(&self, index: usize, rng: &mut AugRng) -> Result<Vec<usize>, DatasetError> {
        let row = self.row(index)?;
        let mut eligible: Vec<usize> = row
            .sensor
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                SatlasSensor::parse(s).is_some_and(|s| self.config.keep_sensors.contains(&s))
            })
            .map(|(i, _)| i)
            .collect();
        if eligible.len() < self.config.num_views {
            return Err(DatasetError::TooFewViews {
                id: row.id.clone(),
                row: index,
                have: eligible.len(),
                need: self.config.num_views,
            });
        }
        rng.shuffle(&mut eligible);
        eligible.truncate(self.config.num_views);
        Ok(eligible)
    }

    /// The view of acquisition `pos` of row `index`: one `[1, h, w]` image per band.
    pub fn view(&self, index: usize, pos: usize) -> Result<View, DatasetError> {
        let row = self.row(index)?;
        let sensor = row
            .sensor
            .get(pos)
            .and_then(|s| SatlasSensor::parse(s))
            .ok_or_else(|| DatasetError::Config(format!("row {index} has no acquisition {pos}")))?;
        let dir = match sensor {
            SatlasSensor::S2 => {
                let s2 = row.s2_dir.as_deref().ok_or_else(|| {
                    DatasetError::Config(format!(
                        "tile `{}` (row {index}) lists s2 but has no s2_dir",
                        row.id
                    ))
                })?;
                self.root.join("sentinel2").join(s2)
            }
            SatlasSensor::S1 | SatlasSensor::Landsat => {
                let time = row.time[pos].as_deref().ok_or_else(|| {
                    DatasetError::Config(format!(
                        "tile `{}` (row {index}) has no time for acquisition {pos}",
                        row.id
                    ))
                })?;
                let top = if sensor == SatlasSensor::S1 {
                    "sentinel1"
                } else {
                    "landsat"
                };
                self.root.join(top).join(time)
            }
        };
        let stats = sensor.band_stats();
        let ids = &self.chn_ids[sensor as usize];
        let mut images = Vec::with_capacity(stats.len());
        let mut b = 0;
        while b < stats.len() {
            let stem = stats[b].0;
            let path = dir.join(stem).join(format!("{}.png", row.id));
            let expected = if stem == "tci" { 3 } else { 1 };
            for plane in self.read_band(&path, expected)? {
                let (_, mean, std) = stats[b];
                let (h, w, mut data) = plane;
                for v in &mut data {
                    *v /= 255.0;
                    if self.config.normalise {
                        *v = (*v - mean) / std;
                    }
                }
                let img = Image::new(data, [1, h, w], vec![ids[b]]).map_err(|source| {
                    DatasetError::Augment {
                        path: path.clone(),
                        source,
                    }
                })?;
                images.push(img);
                b += 1;
            }
        }
        View::new(images).map_err(|source| DatasetError::Augment { path: dir, source })
    }

    fn row(&self, index: usize) -> Result<&SatlasRow, DatasetError> {
        self.rows.get(index).ok_or(DatasetError::IndexOutOfRange {
            index,
            len: self.rows.len(),
        })
    }

    /// Reads an 8-bit PNG with `expected` channels into per-channel `(h, w, samples)`.
    #[allow(clippy::type_complexity)]
    fn read_band(
        &self,
        path: &Path,
        expected: usize,
    ) -> Result<Vec<(usize, usize, Vec<f32>)>, DatasetError> {
        let raster = read_png(path)?;
        if raster.bands != expected {
            return Err(DatasetError::BandCount {
                path: path.to_path_buf(),
                sensor: format!(
                    "a Satlas {} file",
                    if expected == 3 {
                        "TCI (RGB)"
                    } else {
                        "single-band"
                    }
                ),
                expected,
                got: raster.bands,
            });
        }
        let RasterData::U8(bytes) = &raster.data else {
            return Err(DatasetError::SampleType {
                path: path.to_path_buf(),
                expected: "8-bit",
                got: format!("{:?}", raster.dtype()),
            });
        };
        let n = raster.height * raster.width;
        Ok(bytes
            .chunks_exact(n.max(1))
            .map(|c| {
                (
                    raster.height,
                    raster.width,
                    c.iter().map(|&v| f32::from(v)).collect(),
                )
            })
            .collect())
    }
}

impl PretrainSource for Satlas {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        self.choose_views(index, rng)?
            .into_iter()
            .map(|pos| self.view(index, pos))
            .collect()
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        self.rows
            .get(index)
            .map(|r| self.root.join(format!("<tile {}>", r.id)))
    }
}
