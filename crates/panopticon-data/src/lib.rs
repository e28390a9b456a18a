//! Panopticon data: sensor registry, file readers, pre-training datasets, augmentations and
//! loaders. Training and evaluation read their data only through this crate (in progress:
//! the registry, the readers, the pre-training augmentations and the collate, the
//! FMoW/SpectralEarth/Satlas datasets and the multi-threaded loader are done).
//!
//! * [`sensors`]: every sensor of spec §5.2 (`configs/sensors/*.toml`, compiled in) and the
//!   dataset band lists of §5.3, mapping band names to the int16 chn_ids upstream feeds the
//!   model.
//! * [`augment`]: the pre-training augmentations of spec §4 (spectral subsampling,
//!   multi-resolution resized crops, flips, jitter, padding) and the crop-major collate.
//! * [`masking`]: iBOT block masks (spec §3.6).
//! * [`datasets`]: FMoW, SpectralEarth (+ its Corine task) and SatlasPretrain in their
//!   upstream on-disk layouts, concatenation and subsetting (spec §5.4–§5.8).
//! * [`loader`]: the infinite seeded sampler with rank striding and a multi-threaded,
//!   order-deterministic loader with bounded prefetch and a bad-data policy.
//! * [`readers`]: GeoTIFF (checked sample for sample against GDAL) and PNG into a
//!   [`Raster`] with `[C, H, W]` samples; Parquet tables read column by column.
//!
//! ```
//! use panopticon_data::{SensorRegistry, read_geotiff};
//!
//! let registry = SensorRegistry::builtin()?;
//! let s2 = registry.sensor("sentinel2_l2a")?;
//! let chn_ids = s2.chn_ids_f32(&["B04", "B03", "B02"])?; // [664.0, 559.0, 492.0]
//!
//! let tif = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/data/geotiff/u16_tile_deflate_band.tif");
//! let raster = read_geotiff(tif)?;
//! assert_eq!((raster.bands, raster.height, raster.width), (chn_ids.len(), 13, 17));
//! let pixels: Vec<f32> = raster.to_f32(); // [C, H, W]
//! assert_eq!(raster.epsg, Some(32633));
//! # let _ = pixels;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod augment;
pub mod datasets;
pub mod loader;
pub mod masking;
pub mod readers;
pub mod resample;
pub mod sensors;
pub mod stac;
pub mod writers;

pub use readers::{
    Budget, GeoTiff, GeoTransform, ImageHeader, Raster, RasterData, ReadError, SampleType,
    read_geotiff, read_jpeg, read_png,
};
pub use sensors::{
    Band, ChannelId, ChannelIdError, Dataset, Orbit, Polarisation, Sensor, SensorError,
    SensorRegistry,
};
pub use writers::{WriteError, write_geotiff_f16, write_geotiff_f32, write_png_rgb};
