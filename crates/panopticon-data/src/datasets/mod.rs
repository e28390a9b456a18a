//! Pre-training datasets in their upstream on-disk layouts (spec §5.4–§5.8).
//!
//! * [`SpectralEarth`]: 202-band EnMAP GeoTIFFs from a split file; [`CorineDataset`] its
//!   19-class multi-label downstream task.
//! * [`Fmow`]: FMoW + FMoW-Sentinel footprints from a Parquet table, `M` views per location
//!   across WorldView MS, Sentinel-2 and RGB GeoTIFFs, with retries and a faulty-images log.
//! * [`Satlas`]: SatlasPretrain per-band PNGs (TCI split into three bands, multi-resolution
//!   Landsat), two sensor views per sample.
//! * [`Mmearth`]: MMEarth rows of one HDF5 file (Sentinel-2 + Sentinel-1 views), selected by
//!   a metadata table, standardised with a band-stats JSON.
//! * [`ConcatDataset`] and [`Subset`] (fraction, count, tiling).
//!
//! Every dataset implements [`PretrainSource`], which the loader consumes; every bad file is
//! a [`DatasetError`] naming it, never a panic.

mod compose;
mod corine;
mod error;
mod faulty_log;
mod fmow;
mod fmow_meta;
mod fmow_select;
mod fmow_sensor;
mod mmearth;
mod satlas;
mod source;
mod spectral_earth;
mod split;

pub use compose::{ConcatDataset, Subset, SubsetSize, subset_indices};
pub use corine::{
    CORINE_NUM_CLASSES, CorineDataset, CorineSample, corine_43_to_19, corine_code_to_43,
    corine_multilabel,
};
pub use error::DatasetError;
pub use faulty_log::format_utc;
pub use fmow::{FaultyImgsLog, Fmow, FmowConfig, FmowSplit, normalise_fmow};
pub use fmow_meta::{FmowFilters, FmowLocation, FmowView, ImgSizeFilter, read_fmow_metadata};
pub use fmow_select::{ViewSelection, select_views};
pub use fmow_sensor::{
    FMOW_RGB_MEAN, FMOW_RGB_STD, FMOW_S2_MEAN, FMOW_S2_STD, FMOW_WV23_MEAN, FMOW_WV23_STD,
    FmowSensor,
};
pub use mmearth::{
    BandStats, KeptRow, MMEARTH_MONTH_BANDS, MMEARTH_S1_BANDS, MMEARTH_S2_BANDS, Mmearth,
    MmearthConfig, MmearthModalities, MmearthPaths, MmearthRow, MmearthSensor, MmearthSplit,
    StatsFile, channels_without_nan, normalise_bands, read_rows_parquet,
};
pub use satlas::{Satlas, SatlasConfig, SatlasRow, SatlasSensor};
pub use source::PretrainSource;
pub use spectral_earth::{
    ENMAP_BANDS, ENMAP_MAX, ENMAP_MEAN, ENMAP_STD, SpectralEarth, normalise_enmap,
};
pub use split::read_split;
