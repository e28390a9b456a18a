//! JPEG reader (RESISC45 and other RGB datasets): 8-bit grayscale or RGB.

use std::io::Cursor;
use std::path::Path;

use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::error::ReadError;
use super::guard::catch_decoder_panic;
use super::raster::{Raster, RasterData};

const FORMAT: &str = "JPEG";

/// Largest side accepted (the decoder's allocation guard).
const MAX_SIDE: usize = 1 << 15;

/// Reads a JPEG into a [`Raster`] (`[C, H, W]` u8, C = 1 for grayscale, 3 otherwise; CMYK and
/// YCbCr files come out as RGB).
pub fn read_jpeg(path: impl AsRef<Path>) -> Result<Raster, ReadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_jpeg(&bytes, path)
}

/// Decodes JPEG bytes; `path` only labels errors.
pub fn decode_jpeg(bytes: &[u8], path: &Path) -> Result<Raster, ReadError> {
    catch_decoder_panic(path, FORMAT, || decode(bytes, path))
}

fn decode(bytes: &[u8], path: &Path) -> Result<Raster, ReadError> {
    let corrupt = |message: String| ReadError::Corrupt {
        path: path.to_path_buf(),
        format: FORMAT,
        message,
    };
    super::jpeg_checks::check_scans(bytes).map_err(corrupt)?;
    let probe = {
        let mut d = JpegDecoder::new(Cursor::new(bytes));
        d.decode_headers().map_err(|e| corrupt(format!("{e:?}")))?;
        d.input_colorspace()
    };
    let out = if probe == Some(ColorSpace::Luma) {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    };
    let options = DecoderOptions::default()
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE)
        .jpeg_set_out_colorspace(out);
    let mut decoder = JpegDecoder::new_with_options(Cursor::new(bytes), options);
    let pixels = decoder.decode().map_err(|e| corrupt(format!("{e:?}")))?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| corrupt("no image dimensions".into()))?;
    let bands = out.num_components();
    if pixels.len() != bands * height * width {
        return Err(corrupt(format!(
            "decoded {} bytes for {bands}×{height}×{width}",
            pixels.len()
        )));
    }
    // Interleaved [H, W, C] → planar [C, H, W].
    let n = height * width;
    let mut planar = vec![0u8; pixels.len()];
    for (i, px) in pixels.chunks_exact(bands).enumerate() {
        for (b, &v) in px.iter().enumerate() {
            planar[b * n + i] = v;
        }
    }
    Ok(Raster {
        bands,
        height,
        width,
        data: RasterData::U8(planar),
        geotransform: None,
        epsg: None,
        nodata: None,
    })
}
