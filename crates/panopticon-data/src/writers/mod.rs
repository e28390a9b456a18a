//! File writers for model outputs.

mod geotiff;

pub use geotiff::{WriteError, write_geotiff_f32};
