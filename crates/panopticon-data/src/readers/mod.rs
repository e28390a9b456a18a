//! File readers. The image readers return a [`Raster`] with samples in `[C, H, W]` order, the
//! HDF5 reader ([`Hdf5File`]) N-d arrays and attributes, and all give a typed [`ReadError`]
//! naming the file on failure; [`ParquetTable`] reads metadata tables column by column
//! ([`ParquetError`]). None panics on bad input.

mod budget;
mod error;
mod georef;
mod geotiff;
mod guard;
mod hdf5;
mod jpeg;
mod jpeg_checks;
mod parquet;
mod parquet_checks;
mod parquet_error;
mod parquet_levels;
mod parquet_value;
mod png;
mod raster;
mod source;

pub use budget::{Budget, DEFAULT_MAX_MEMORY, DEFAULT_MAX_PIXELS, ImageHeader, human_bytes};
pub use error::ReadError;
pub use geotiff::{
    DEFAULT_MAX_DECODED_BYTES, GeoTiff, PrefetchHook, decode_geotiff, read_geotiff,
    read_geotiff_within,
};
pub use hdf5::{
    AttrValue, DEFAULT_MAX_HDF5_READ_BYTES, H5Array, H5DType, H5Data, H5DatasetInfo, Hdf5File,
};
pub use jpeg::{decode_jpeg, decode_jpeg_within, probe_jpeg, read_jpeg, read_jpeg_within};
pub use parquet::{DEFAULT_MAX_PARQUET_BYTES, ParquetTable};
pub use parquet_error::ParquetError;
pub use parquet_value::ParquetValue;
pub use png::{DEFAULT_MAX_PNG_BYTES, decode_png, probe_png, read_png, read_png_within};
pub use raster::{GeoTransform, Raster, RasterData, SampleType};
pub use source::{
    MAX_REQUEST, MERGE_GAP, ObjectPrefix, RasterLocation, RemoteFile, RemoteOptions, RemoteStats,
    Source, UploadError, merge_ranges, probe_location, read_location_bytes,
};
