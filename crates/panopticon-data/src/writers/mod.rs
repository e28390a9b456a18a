//! File writers for model outputs.

mod geotiff;
mod png;

pub use geotiff::{WriteError, write_geotiff_f16, write_geotiff_f32};
/// Creates a file atomically (the workspace's one writer: unique temp name, fsync of file and
/// directory, rename, cleanup on error).
pub use panopticon_atomic::write_file as write_atomically;
pub use png::write_png_rgb;
