//! MMEarth pre-training (spec §5.5, upstream `MMEarthWrapper`): Sentinel-2 and Sentinel-1
//! rows of one big HDF5 file, selected by a metadata table, standardised with a band-stats
//! JSON.

mod meta;
mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use meta::{KeptRow, MmearthRow, MmearthSplit, read_rows_parquet};
pub use stats::{BandStats, StatsFile, channels_without_nan, normalise_bands};

use super::error::DatasetError;
use super::source::PretrainSource;
use crate::augment::{AugRng, Draws, Image, View};
use crate::readers::Hdf5File;
use crate::sensors::SensorRegistry;

/// MMEarth's Sentinel-2 band order in the HDF5 file (B8A **before** B8).
pub const MMEARTH_S2_BANDS: [&str; 13] = [
    "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8A", "B8", "B9", "B10", "B11", "B12",
];

/// MMEarth's Sentinel-1 band order in the HDF5 file.
pub const MMEARTH_S1_BANDS: [&str; 8] = [
    "asc_VV", "asc_VH", "asc_HH", "asc_HV", "desc_VV", "desc_VH", "desc_HH", "desc_HV",
];

/// MMEarth's month encoding (loaded and normalised upstream, then discarded).
pub const MMEARTH_MONTH_BANDS: [&str; 2] = ["sin_month", "cos_month"];

/// A sensor modality that becomes a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmearthSensor {
    /// `sentinel2`: 13 bands, no-data 0 (checked after normalisation), ids `mmearth_s2`.
    Sentinel2,
    /// `sentinel1`: 8 bands, no-data −inf, ids `mmearth_s1`.
    Sentinel1,
}

impl MmearthSensor {
    /// The HDF5 dataset name (= upstream modality key).
    pub fn dataset(self) -> &'static str {
        match self {
            Self::Sentinel2 => "sentinel2",
            Self::Sentinel1 => "sentinel1",
        }
    }

    /// Band names in stored order.
    pub fn bands(self) -> &'static [&'static str] {
        match self {
            Self::Sentinel2 => &MMEARTH_S2_BANDS,
            Self::Sentinel1 => &MMEARTH_S1_BANDS,
        }
    }

    /// Upstream `NO_DATA_VAL`.
    pub fn no_data(self) -> f64 {
        match self {
            Self::Sentinel2 => 0.0,
            Self::Sentinel1 => f64::NEG_INFINITY,
        }
    }

    /// The registry band list giving the chn_ids.
    pub fn registry_dataset(self) -> &'static str {
        match self {
            Self::Sentinel2 => "pretrain/mmearth_s2",
            Self::Sentinel1 => "pretrain/mmearth_s1",
        }
    }

    /// The key of the band stats (`sentinel2_l2a` / `sentinel2_l1c` by the row's s2_type).
    pub fn stats_key(self, l2a: bool) -> &'static str {
        match (self, l2a) {
            (Self::Sentinel2, true) => "sentinel2_l2a",
            (Self::Sentinel2, false) => "sentinel2_l1c",
            (Self::Sentinel1, _) => "sentinel1",
        }
    }
}

/// Upstream's named modality sets (`MMEarth.MODALITY_*`), all bands of each modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmearthModalities {
    /// `MODALITY_MINIMAL_SET1`: sentinel2, sentinel1 and month (the pre-training config).
    MinimalSet1,
    /// `MODALITY_S1`: sentinel1 only (one view per sample).
    S1,
    /// `MODALITY_S2`: sentinel2 only (one view per sample).
    S2,
}

impl MmearthModalities {
    /// Parses the upstream attribute name (`MODALITY_MINIMAL_SET1`, `MODALITY_S1`,
    /// `MODALITY_S2`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "MODALITY_MINIMAL_SET1" => Some(Self::MinimalSet1),
            "MODALITY_S1" => Some(Self::S1),
            "MODALITY_S2" => Some(Self::S2),
            _ => None,
        }
    }

    /// The view-producing sensors, in upstream's dict order.
    pub fn sensors(self) -> &'static [MmearthSensor] {
        match self {
            Self::MinimalSet1 => &[MmearthSensor::Sentinel2, MmearthSensor::Sentinel1],
            Self::S1 => &[MmearthSensor::Sentinel1],
            Self::S2 => &[MmearthSensor::Sentinel2],
        }
    }

    /// Whether the set includes `month`.
    pub fn has_month(self) -> bool {
        self == Self::MinimalSet1
    }
}

/// Settings of [`Mmearth`].
#[derive(Debug, Clone, PartialEq)]
pub struct MmearthConfig {
    /// Metadata split to keep (pre-training: `train`).
    pub split: MmearthSplit,
    /// Modality set (pre-training: `MODALITY_MINIMAL_SET1`).
    pub modalities: MmearthModalities,
    /// Drop every channel holding a NaN, with its chn_id (upstream `remove_nans`, on).
    pub remove_nans: bool,
}

impl Default for MmearthConfig {
    fn default() -> Self {
        Self {
            split: MmearthSplit::Train,
            modalities: MmearthModalities::MinimalSet1,
            remove_nans: true,
        }
    }
}

/// The files of an MMEarth folder `base` (its last component is the variant, e.g.
/// `data_1M_v001`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmearthPaths {
    /// `<variant>.h5`.
    pub hdf5: PathBuf,
    /// `<variant>.parquet`.
    pub parquet: PathBuf,
    /// `<variant>_band_stats.json`.
    pub band_stats: PathBuf,
}

impl MmearthPaths {
    /// The file names upstream derives from `base`.
    pub fn new(base: &Path) -> Result<Self, DatasetError> {
        let variant = base.file_name().and_then(|v| v.to_str()).ok_or_else(|| {
            DatasetError::Config(format!(
                "MMEarth base path `{}` must end in the variant folder (e.g. data_1M_v001)",
                base.display()
            ))
        })?;
        Ok(Self {
            hdf5: base.join(format!("{variant}.h5")),
            parquet: base.join(format!("{variant}.parquet")),
            band_stats: base.join(format!("{variant}_band_stats.json")),
        })
    }
}

/// Per-sensor data fixed at open: stats for L1C/L2A rows and the chn_ids.
#[derive(Debug, Clone)]
struct SensorSetup {
    sensor: MmearthSensor,
    stats_l1c: BandStats,
    stats_l2a: BandStats,
    chn_ids: Vec<f32>,
}

/// MMEarth pre-training dataset (upstream `MMEarthWrapper`).
///
/// Each sample is the HDF5 row `hf5_idx` of its metadata row; per sensor of the modality
/// set it reads `[C, H, W]`, standardises `(x − mean_b)/std_b` in `f64` with the stats of
/// `sentinel2_l2a`/`sentinel2_l1c` (by `s2_type`) or `sentinel1`, then sets no-data to NaN
/// (S2: normalised value == 0, S1: −inf), casts to `f32`, and (with `remove_nans`) drops
/// every channel holding a NaN together with its chn_id. Views come in a random order drawn
/// from the sample's generator (one `permutation` of the sensors).
///
/// chn_ids are the registry's `mmearth_s2` / `mmearth_s1`, paired with the stored band
/// order as upstream does: stored channel 7 (B8A) gets 827 and channel 8 (B8) gets 864
/// (spec §8 quirk 11, kept on purpose).
///
/// Differences from upstream, on purpose: `month` is checked at open (present, 2 columns,
/// stats present) but not read per sample, since upstream discards it; a view left with no
/// channel is [`DatasetError::EmptyView`] instead of an unhandled empty tensor; a
/// metadata row pointing past the HDF5 arrays is refused at open.
#[derive(Debug, Clone)]
pub struct Mmearth {
    paths: MmearthPaths,
    h5: Arc<Hdf5File>,
    rows: Vec<KeptRow>,
    config: MmearthConfig,
    sensors: Vec<SensorSetup>,
}

impl Mmearth {
    /// Opens the MMEarth folder `base` (upstream `base_path`, e.g.
    /// `$RDIR/datasets/mmearth/data_1M_v001`): `<variant>.h5`, `<variant>.parquet` and
    /// `<variant>_band_stats.json`.
    pub fn open(base: impl AsRef<Path>, config: MmearthConfig) -> Result<Self, DatasetError> {
        let paths = MmearthPaths::new(base.as_ref())?;
        let rows = read_rows_parquet(&paths.parquet)?;
        let meta_path = paths.parquet.clone();
        Self::from_rows(paths, &rows, &meta_path, config)
    }

    /// Opens the dataset with metadata rows already read (`meta_path` labels errors).
    pub fn from_rows(
        paths: MmearthPaths,
        rows: &[MmearthRow],
        meta_path: &Path,
        config: MmearthConfig,
    ) -> Result<Self, DatasetError> {
        let kept = meta::filter_rows(rows, config.split, meta_path)?;
        if kept.is_empty() {
            return Err(DatasetError::EmptySplit {
                path: meta_path.to_path_buf(),
            });
        }
        let stats_file = stats::read_stats(&paths.band_stats)?;
        let h5 = Hdf5File::open(&paths.hdf5)?;
        let registry = SensorRegistry::builtin()?;
        let mut n_rows = usize::MAX;
        let mut sensors = Vec::new();
        for &sensor in config.modalities.sensors() {
            let bands = sensor.bands().len();
            n_rows = n_rows.min(check_array(&h5, sensor.dataset(), bands, 4)?);
            let get =
                |l2a| stats::checked(&stats_file, sensor.stats_key(l2a), bands, &paths.band_stats);
            let chn_ids = registry.dataset_chn_ids_f32(sensor.registry_dataset())?;
            if chn_ids.len() != bands {
                return Err(DatasetError::Config(format!(
                    "registry list `{}` has {} ids but MMEarth stores {bands} {} bands",
                    sensor.registry_dataset(),
                    chn_ids.len(),
                    sensor.dataset()
                )));
            }
            sensors.push(SensorSetup {
                sensor,
                stats_l1c: get(false)?.clone(),
                stats_l2a: get(true)?.clone(),
                chn_ids,
            });
        }
        if config.modalities.has_month() {
            n_rows = n_rows.min(check_array(&h5, "month", MMEARTH_MONTH_BANDS.len(), 2)?);
            stats::checked(
                &stats_file,
                "month",
                MMEARTH_MONTH_BANDS.len(),
                &paths.band_stats,
            )?;
        }
        if let Some(r) = kept.iter().find(|r| r.hf5_idx >= n_rows) {
            return Err(DatasetError::MetadataRow {
                path: meta_path.to_path_buf(),
                row: r.meta_row,
                message: format!(
                    "`hf5_idx` {} is past the {n_rows} rows of `{}`",
                    r.hf5_idx,
                    paths.hdf5.display()
                ),
            });
        }
        Ok(Self {
            paths,
            h5: Arc::new(h5),
            rows: kept,
            config,
            sensors,
        })
    }

    /// The file paths.
    pub fn paths(&self) -> &MmearthPaths {
        &self.paths
    }

    /// The kept rows, in dataset order.
    pub fn rows(&self) -> &[KeptRow] {
        &self.rows
    }

    /// The settings.
    pub fn config(&self) -> &MmearthConfig {
        &self.config
    }

    fn row(&self, index: usize) -> Result<&KeptRow, DatasetError> {
        self.rows.get(index).ok_or(DatasetError::IndexOutOfRange {
            index,
            len: self.rows.len(),
        })
    }

    /// The view of `sensor` for sample `index`: `[c, H, W]` normalised, with its chn_ids.
    pub fn view(&self, index: usize, sensor: MmearthSensor) -> Result<Image, DatasetError> {
        let row = self.row(index)?;
        let setup = self
            .sensors
            .iter()
            .find(|s| s.sensor == sensor)
            .ok_or_else(|| {
                DatasetError::Config(format!(
                    "{sensor:?} is not in the modality set {:?}",
                    self.config.modalities
                ))
            })?;
        let raw = self.h5.read_row(sensor.dataset(), row.hf5_idx)?;
        let [c, h, w] = match raw.shape[..] {
            [c, h, w] if h > 0 && w > 0 => [c, h, w],
            _ => {
                return Err(DatasetError::Config(format!(
                    "row {} of `{}` in `{}` has shape {:?}; expected [C, H, W]",
                    row.hf5_idx,
                    sensor.dataset(),
                    self.paths.hdf5.display(),
                    raw.shape
                )));
            }
        };
        let stats = if row.l2a {
            &setup.stats_l2a
        } else {
            &setup.stats_l1c
        };
        let data = normalise_bands(&raw.data, c, stats, sensor.no_data());
        let plane = h * w;
        let keep: Vec<usize> = if self.config.remove_nans {
            channels_without_nan(&data, plane)
        } else {
            (0..c).collect()
        };
        if keep.is_empty() {
            return Err(DatasetError::EmptyView {
                path: self.paths.hdf5.clone(),
                row: row.hf5_idx,
                sensor: sensor.dataset(),
            });
        }
        let mut kept = Vec::with_capacity(keep.len() * plane);
        for &k in &keep {
            kept.extend_from_slice(&data[k * plane..(k + 1) * plane]);
        }
        let ids = keep.iter().map(|&k| setup.chn_ids[k]).collect();
        Image::new(kept, [keep.len(), h, w], ids).map_err(|source| DatasetError::Augment {
            path: self.paths.hdf5.clone(),
            source,
        })
    }

    /// The order of the sensors in sample `index`'s views: a permutation of the modality
    /// set's sensors drawn from `rng` (no draw for a single sensor).
    pub fn sensor_order(&self, rng: &mut AugRng) -> Vec<MmearthSensor> {
        let sensors = self.config.modalities.sensors();
        rng.permutation(sensors.len())
            .into_iter()
            .map(|i| sensors[i])
            .collect()
    }
}

/// Checks that dataset `name` is `ndim`-D with `bands` columns; returns its row count.
fn check_array(
    h5: &Hdf5File,
    name: &str,
    bands: usize,
    ndim: usize,
) -> Result<usize, DatasetError> {
    let info = h5.info(name)?;
    if info.shape.len() != ndim || info.shape[1] != bands {
        return Err(DatasetError::BandCount {
            path: h5.path().to_path_buf(),
            sensor: format!(
                "MMEarth `{name}` (shape {:?}, expected {ndim}-D [N, {bands}, …])",
                info.shape
            ),
            expected: bands,
            got: info.shape.get(1).copied().unwrap_or(0),
        });
    }
    Ok(info.shape[0])
}

impl PretrainSource for Mmearth {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        self.row(index)?;
        self.sensor_order(rng)
            .into_iter()
            .map(|s| self.view(index, s).map(View::single))
            .collect()
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        self.rows
            .get(index)
            .map(|r| self.paths.hdf5.join(format!("<row {}>", r.hf5_idx)))
    }
}
