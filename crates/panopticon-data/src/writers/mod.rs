//! File writers for model outputs.

mod atomic;
mod geotiff;
mod png;

pub use atomic::write_atomically;
pub use geotiff::{WriteError, write_geotiff_f16, write_geotiff_f32};
pub use png::write_png_rgb;
