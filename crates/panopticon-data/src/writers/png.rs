//! 8-bit RGB PNG output (visualisations), written atomically.

use std::path::Path;

use super::geotiff::WriteError;
use panopticon_atomic::write_file as write_atomically;

/// Writes `rgb` (`[H, W, 3]`, row-major, interleaved) as an 8-bit RGB PNG.
pub fn write_png_rgb(
    path: impl AsRef<Path>,
    height: usize,
    width: usize,
    rgb: &[u8],
) -> Result<(), WriteError> {
    let path = path.as_ref();
    if height == 0 || width == 0 || rgb.len() != height * width * 3 {
        return Err(WriteError::Invalid {
            path: path.into(),
            reason: format!("{} bytes for a {height}×{width} RGB image", rgb.len()),
        });
    }
    write_atomically(path, |file| {
        let mut enc = png::Encoder::new(file, width as u32, height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(std::io::Error::other)?;
        w.write_image_data(rgb).map_err(std::io::Error::other)?;
        w.finish().map_err(std::io::Error::other)
    })
    .map_err(|source| WriteError::Io {
        path: path.into(),
        source,
    })
}
