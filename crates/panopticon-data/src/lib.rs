//! Panopticon data: sensor registry, file readers, pre-training datasets, augmentations and
//! loaders. Training and evaluation read their data only through this crate (in progress).

pub mod readers;
pub mod sensors;

pub use readers::{DType, GeoTransform, Raster, RasterData, ReadError, read_geotiff, read_png};
pub use sensors::{
    Band, ChannelId, Dataset, Orbit, Polarisation, Sensor, SensorError, SensorRegistry,
};
