//! FMoW + FMoW-Sentinel pre-training (spec §5.4, upstream `FmowDataset`): locations
//! ("onid" footprints) with several views across WorldView MS, Sentinel-2 and RGB imagery.

use std::path::{Path, PathBuf};

use super::error::DatasetError;
use super::faulty_log::FaultyLog;
use super::fmow_meta::{FmowFilters, FmowLocation, ImgSizeFilter, read_fmow_metadata};
use super::fmow_select::{ViewSelection, select_views};
use super::fmow_sensor::FmowSensor;
use super::source::PretrainSource;
use crate::augment::{AugRng, Draws, Image, View};
use crate::readers::read_geotiff;
use crate::sensors::SensorRegistry;

/// Which metadata table to open (upstream `split`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FmowSplit {
    /// `fmow/metadata_v2/fmow_iwm_onid_train.parquet`.
    Train,
    /// `fmow/metadata_v2/fmow_iwm_onid_val.parquet`.
    Val,
    /// Upstream `split: null`:
    /// `fmow/metadata_v2/fmow_iwm_onid_train_val_savioclean_min42max1024.parquet`, the table
    /// both pre-training stages use. Upstream forgets the `.parquet` extension here (a file
    /// that does not exist); this port adds it.
    #[default]
    TrainValClean,
    /// Any path, joined to the root (an absolute path replaces it, as `os.path.join`).
    Path(PathBuf),
}

impl FmowSplit {
    /// The metadata file under `root`.
    pub fn metadata_path(&self, root: &Path) -> PathBuf {
        let dir = root.join("fmow/metadata_v2");
        match self {
            Self::Train => dir.join("fmow_iwm_onid_train.parquet"),
            Self::Val => dir.join("fmow_iwm_onid_val.parquet"),
            Self::TrainValClean => {
                dir.join("fmow_iwm_onid_train_val_savioclean_min42max1024.parquet")
            }
            Self::Path(p) => root.join(p),
        }
    }
}

/// Where failed files are recorded (upstream `faulty_imgs_file`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FaultyImgsLog {
    /// `<metadata path without extension>_faulty_imgs`, next to the metadata (upstream's
    /// default; upstream strips from the last `.` of the whole path, which for an
    /// extension-less path cuts into a dotted directory name — here only a real extension is
    /// removed).
    #[default]
    NextToMetadata,
    /// This file.
    At(PathBuf),
    /// No log (failures still retried and reported in the final error).
    Off,
}

/// Settings of [`Fmow`]; defaults are the pre-training configuration (stage 1/2).
#[derive(Debug, Clone, PartialEq)]
pub struct FmowConfig {
    /// Metadata table.
    pub split: FmowSplit,
    /// Views per sample (`num_sens`, M), distinct views of one location.
    pub num_views: usize,
    /// Sources kept (`keep_sensors`; order does not matter).
    pub keep_sensors: Vec<FmowSensor>,
    /// Standardise per source and band (`normalize`).
    pub normalise: bool,
    /// Rows need a view with `min(h, w) >= max_crop`; [`ViewSelection::LargeEnough`] draws
    /// its first view among those. Upstream 256.
    pub max_crop: Option<usize>,
    /// Views with `min(h, w) < min_crop` are dropped.
    pub min_crop: Option<usize>,
    /// Lower image-size bound (see `img_size_filter`).
    pub min_img_size: Option<usize>,
    /// Upper image-size bound.
    pub max_img_size: Option<usize>,
    /// Which side(s) `min_img_size`/`max_img_size` test (default both; upstream the height
    /// only, [`ImgSizeFilter::Height`]).
    pub img_size_filter: ImgSizeFilter,
    /// Relative paths to drop (`relpaths_to_drop`).
    pub relpaths_to_drop: Vec<String>,
    /// View selection (`get_idx_mode`).
    pub view_selection: ViewSelection,
    /// Keep only the RGB bands of each view (`return_rgb`).
    pub return_rgb: bool,
    /// Attempts per sample, each with a fresh view draw (`max_tries_load_img`).
    pub max_tries: usize,
    /// The failed-files log.
    pub faulty_imgs_log: FaultyImgsLog,
}

impl Default for FmowConfig {
    fn default() -> Self {
        Self {
            split: FmowSplit::default(),
            num_views: 2,
            keep_sensors: FmowSensor::ALL.to_vec(),
            normalise: true,
            max_crop: Some(256),
            min_crop: None,
            min_img_size: None,
            max_img_size: None,
            img_size_filter: ImgSizeFilter::default(),
            relpaths_to_drop: Vec::new(),
            view_selection: ViewSelection::default(),
            return_rgb: false,
            max_tries: 3,
            faulty_imgs_log: FaultyImgsLog::default(),
        }
    }
}

/// FMoW + FMoW-Sentinel pre-training dataset (upstream `FmowDataset`).
///
/// Layout under `root` (upstream `$RDIR/datasets`): `fmow/…` and `fmow-sentinel/…` GeoTIFFs
/// and `fmow/metadata_v2/*.parquet`, one row per location with aligned list columns `path`
/// (relative to `root`), `sensor` (`wv23`/`s2`/`rgb`), `img_height`, `img_width` (plus
/// `img_id`, `gsd`, `timestamp`, not needed). Rows are filtered at open as upstream
/// ([`FmowFilters`]); a sample draws `num_views` views ([`ViewSelection`]), reads each TIFF
/// as `[C, H, W]` `f32`, standardises `(x − mean_c) / std_c` in `f32` with the source's
/// statistics and returns one single-image view per draw, with the `fmow_*` chn_ids.
/// A view that fails to load (missing/corrupt file, wrong band count) is appended to the
/// faulty-images log and the whole draw is retried, up to `max_tries` times
/// ([`DatasetError::LoadFailed`] after that).
///
/// Differences from upstream, on purpose:
/// * Random choices come from the per-sample generator, not numpy's global one (which forked
///   DataLoader workers share).
/// * Upstream reads with `tifffile` and permutes `(H, W, C) → (C, H, W)`, which scrambles
///   band-interleaved (planar) files and crashes on single-band ones; the GeoTIFF reader
///   here returns `[C, H, W]` for every layout.
/// * A file with the wrong band count is a load failure (logged, retried); upstream fails
///   later in `Normalize` and stops training. An unknown `sensor` value is an error at open
///   (upstream: a `KeyError` when the view is drawn).
/// * `split: null` gets its `.parquet` extension ([`FmowSplit::TrainValClean`]).
/// * `max_crop: None` with `large_enough` is refused at open (upstream: `TypeError` at the
///   first sample).
/// * `min_img_size`/`max_img_size` test both sides by default (upstream: the height only,
///   available as [`ImgSizeFilter::Height`]).
/// * Timestamps and GSDs are not parsed: upstream parses and discards them.
#[derive(Debug, Clone)]
pub struct Fmow {
    root: PathBuf,
    metadata: PathBuf,
    locations: Vec<FmowLocation>,
    config: FmowConfig,
    /// chn_ids per source, indexed by `FmowSensor as usize`.
    chn_ids: [Vec<f32>; 3],
    log: Option<FaultyLog>,
}

impl Fmow {
    /// Opens the dataset at `root` (upstream `$RDIR/datasets`), reading and filtering the
    /// metadata table of `config.split`.
    pub fn open(root: impl AsRef<Path>, config: FmowConfig) -> Result<Self, DatasetError> {
        let root = root.as_ref().to_path_buf();
        validate(&config)?;
        let metadata = config.split.metadata_path(&root);
        let filters = FmowFilters {
            keep_sensors: config.keep_sensors.clone(),
            relpaths_to_drop: config.relpaths_to_drop.clone(),
            min_img_size: config.min_img_size,
            max_img_size: config.max_img_size,
            img_size_filter: config.img_size_filter,
            max_crop: config.max_crop,
            min_crop: config.min_crop,
            min_views: config.num_views,
            min_distinct_sensors: match config.view_selection {
                ViewSelection::Unique => config.num_views,
                ViewSelection::LargeEnough => 0,
            },
        };
        let locations: Vec<FmowLocation> = read_fmow_metadata(&metadata)?
            .into_iter()
            .enumerate()
            .filter_map(|(row, views)| {
                filters
                    .apply(views)
                    .map(|views| FmowLocation { row, views })
            })
            .collect();
        if locations.is_empty() {
            return Err(DatasetError::Config(format!(
                "no location of `{}` passes the filters (num_views {}, keep_sensors {:?}, \
                 max_crop {:?}); relax them or check the table",
                metadata.display(),
                config.num_views,
                config.keep_sensors,
                config.max_crop
            )));
        }
        let registry = SensorRegistry::builtin()?;
        let ids = |s: FmowSensor| registry.dataset_chn_ids_f32(s.registry_dataset());
        let chn_ids = [
            ids(FmowSensor::Wv23)?,
            ids(FmowSensor::S2)?,
            ids(FmowSensor::Rgb)?,
        ];
        let log = match &config.faulty_imgs_log {
            FaultyImgsLog::NextToMetadata => Some(FaultyLog::new(default_log_path(&metadata))),
            FaultyImgsLog::At(p) => Some(FaultyLog::new(p.clone())),
            FaultyImgsLog::Off => None,
        };
        Ok(Self {
            root,
            metadata,
            locations,
            config,
            chn_ids,
            log,
        })
    }

    /// The kept locations, in table order.
    pub fn locations(&self) -> &[FmowLocation] {
        &self.locations
    }

    /// The metadata table read.
    pub fn metadata_path(&self) -> &Path {
        &self.metadata
    }

    /// The faulty-images log, if kept.
    pub fn faulty_log_path(&self) -> Option<&Path> {
        self.log.as_ref().map(FaultyLog::path)
    }

    /// The chn_ids of a source's views (after `return_rgb`).
    pub fn chn_ids(&self, sensor: FmowSensor) -> Vec<f32> {
        let ids = &self.chn_ids[sensor as usize];
        if self.config.return_rgb {
            sensor.rgb_channels().iter().map(|&c| ids[c]).collect()
        } else {
            ids.clone()
        }
    }

    /// Positions (into `locations()[index].views`) one attempt would load, given `rng`.
    pub fn choose_views<D: Draws>(
        &self,
        index: usize,
        rng: &mut D,
    ) -> Result<Vec<usize>, DatasetError> {
        let loc = self.location(index)?;
        let max_crop = self.config.max_crop.unwrap_or(0);
        select_views(
            &loc.views,
            self.config.num_views,
            self.config.view_selection,
            max_crop,
            rng,
        )
        .ok_or_else(|| DatasetError::TooFewViews {
            id: format!("row {}", loc.row),
            row: index,
            have: loc.views.len(),
            need: self.config.num_views,
        })
    }

    /// View `pos` of location `index`: one `[C, H, W]` image, standardised if configured.
    ///
    /// # Shapes
    /// - output image: `[13 | 8 | 3, H, W]` (`[3, H, W]` with `return_rgb`).
    pub fn view(&self, index: usize, pos: usize) -> Result<View, DatasetError> {
        let loc = self.location(index)?;
        let v = loc
            .views
            .get(pos)
            .ok_or_else(|| DatasetError::Config(format!("location {index} has no view {pos}")))?;
        let path = self.root.join(&v.path);
        let raster = read_geotiff(&path)?;
        let sensor = v.sensor;
        if raster.bands != sensor.bands() {
            return Err(DatasetError::BandCount {
                path,
                sensor: format!("FMoW `{}`", sensor.name()),
                expected: sensor.bands(),
                got: raster.bands,
            });
        }
        let (h, w) = (raster.height, raster.width);
        let mut data = raster.to_f32();
        if self.config.normalise {
            normalise_fmow(&mut data, sensor);
        }
        let (data, channels) = if self.config.return_rgb {
            let plane = h * w;
            let rgb = sensor.rgb_channels();
            let mut out = Vec::with_capacity(3 * plane);
            for c in rgb {
                out.extend_from_slice(&data[c * plane..(c + 1) * plane]);
            }
            (out, 3)
        } else {
            (data, sensor.bands())
        };
        let img = Image::new(data, [channels, h, w], self.chn_ids(sensor))
            .map_err(|source| DatasetError::Augment { path, source })?;
        Ok(View::single(img))
    }

    /// Loads sample `index`: draws views and loads them, retrying with a fresh draw after a
    /// failure (logged), up to `max_tries` attempts.
    pub fn load_with<D: Draws>(
        &self,
        index: usize,
        rng: &mut D,
    ) -> Result<Vec<View>, DatasetError> {
        let row = self.location(index)?.row;
        let mut last = None;
        for _ in 0..self.config.max_tries {
            let chosen = self.choose_views(index, rng)?;
            match self.load_views(index, &chosen) {
                Ok(views) => return Ok(views),
                Err(e) => last = Some(e),
            }
        }
        Err(DatasetError::LoadFailed {
            row,
            tries: self.config.max_tries,
            log: self.faulty_log_path().map(Path::to_path_buf),
            last: Box::new(last.unwrap_or_else(|| DatasetError::Config("no attempt".into()))),
        })
    }

    /// Loads the views at `chosen`, stopping at (and logging) the first failure.
    fn load_views(&self, index: usize, chosen: &[usize]) -> Result<Vec<View>, DatasetError> {
        let loc = self.location(index)?;
        let mut views = Vec::with_capacity(chosen.len());
        for &pos in chosen {
            match self.view(index, pos) {
                Ok(v) => views.push(v),
                Err(e) => {
                    if let Some(log) = &self.log {
                        log.append(&self.root.join(&loc.views[pos].path), &e);
                    }
                    return Err(e);
                }
            }
        }
        Ok(views)
    }

    fn location(&self, index: usize) -> Result<&FmowLocation, DatasetError> {
        self.locations
            .get(index)
            .ok_or(DatasetError::IndexOutOfRange {
                index,
                len: self.locations.len(),
            })
    }
}

/// `(x − mean_c) / std_c` in `f32` per band, the operation order of torchvision's
/// `Normalize` on a float32 tensor.
///
/// # Shapes
/// - `data`: `[C, H, W]` with `C = sensor.bands()`.
pub fn normalise_fmow(data: &mut [f32], sensor: FmowSensor) {
    let (mean, std) = (sensor.mean(), sensor.std());
    let plane = data.len() / mean.len();
    if plane == 0 {
        return;
    }
    for (c, band) in data.chunks_exact_mut(plane).enumerate() {
        for v in band {
            *v = (*v - mean[c]) / std[c];
        }
    }
}

fn validate(config: &FmowConfig) -> Result<(), DatasetError> {
    let bad = |m: &str| Err(DatasetError::Config(format!("FMoW: {m}")));
    if config.num_views == 0 {
        return bad("num_views must be at least 1");
    }
    if config.keep_sensors.is_empty() {
        return bad("keep_sensors is empty; keep at least one of wv23, s2, rgb");
    }
    if config.max_tries == 0 {
        return bad("max_tries must be at least 1");
    }
    if config.view_selection == ViewSelection::LargeEnough && config.max_crop.is_none() {
        return bad("the large_enough view selection needs max_crop");
    }
    Ok(())
}

/// `<metadata without its extension>_faulty_imgs`.
fn default_log_path(metadata: &Path) -> PathBuf {
    let stem = metadata.with_extension("");
    let mut name = stem.into_os_string();
    name.push("_faulty_imgs");
    PathBuf::from(name)
}

impl PretrainSource for Fmow {
    fn len(&self) -> usize {
        self.locations.len()
    }

    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        self.load_with(index, rng)
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        let loc = self.locations.get(index)?;
        Some(PathBuf::from(format!(
            "{}#row{}",
            self.metadata.display(),
            loc.row
        )))
    }
}
