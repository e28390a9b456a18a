//! 8-bit RGB PNG output (visualisations), written atomically.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::Path;

use super::geotiff::WriteError;

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
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let file = BufWriter::new(File::create(&tmp)?);
        let mut enc = png::Encoder::new(file, width as u32, height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(std::io::Error::other)?;
        w.write_image_data(rgb).map_err(std::io::Error::other)?;
        w.finish().map_err(std::io::Error::other)?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| WriteError::Io {
        path: path.into(),
        source,
    })
}
