//! JPEG reader (RESISC45 and other RGB datasets): 8-bit grayscale or RGB.

use std::io::Cursor;
use std::path::Path;

use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::budget::{Budget, ImageHeader};
use super::error::ReadError;
use super::guard::catch_decoder_panic;
use super::raster::{Raster, RasterData};

const FORMAT: &str = "JPEG";

/// Largest side accepted (the decoder's allocation guard).
const MAX_SIDE: usize = 1 << 15;

/// Reads a JPEG into a [`Raster`] (`[C, H, W]` u8, C = 1 for grayscale, 3 otherwise; CMYK and
/// YCbCr files come out as RGB).
pub fn read_jpeg(path: impl AsRef<Path>) -> Result<Raster, ReadError> {
    read_jpeg_within(path, &Budget::default())
}

/// [`read_jpeg`] within `budget`: the header's size is checked before anything is decoded.
pub fn read_jpeg_within(path: impl AsRef<Path>, budget: &Budget) -> Result<Raster, ReadError> {
    let path = path.as_ref();
    decode_jpeg_within(&read_bytes(path)?, path, budget)
}

/// Decodes JPEG bytes; `path` only labels errors.
pub fn decode_jpeg(bytes: &[u8], path: &Path) -> Result<Raster, ReadError> {
    decode_jpeg_within(bytes, path, &Budget::default())
}

/// [`decode_jpeg`] within `budget`.
pub fn decode_jpeg_within(bytes: &[u8], path: &Path, budget: &Budget) -> Result<Raster, ReadError> {
    catch_decoder_panic(path, FORMAT, || decode(bytes, path, budget))
}

/// The size a JPEG's header states (nothing decoded; the output bands are 1 for grayscale
/// and 3 otherwise, as [`read_jpeg`] returns them).
pub fn probe_jpeg(path: impl AsRef<Path>) -> Result<ImageHeader, ReadError> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    catch_decoder_panic(path, FORMAT, || Ok(header(&bytes, path)?.0))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, ReadError> {
    std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The header (with our side limit, not the decoder's default) and the output colour space.
fn header(bytes: &[u8], path: &Path) -> Result<(ImageHeader, ColorSpace), ReadError> {
    // Scans zune-jpeg would panic on are refused before it sees them.
    super::jpeg_checks::check_scans(bytes).map_err(|m| corrupt(path, m))?;
    let options = DecoderOptions::default()
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE);
    let mut d = JpegDecoder::new_with_options(Cursor::new(bytes), options);
    d.decode_headers()
        .map_err(|e| corrupt(path, format!("{e:?}")))?;
    let out = if d.input_colorspace() == Some(ColorSpace::Luma) {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    };
    let (width, height) = d
        .dimensions()
        .ok_or_else(|| corrupt(path, "no image dimensions".into()))?;
    let header = ImageHeader {
        bands: out.num_components(),
        height,
        width,
        sample_bytes: 1,
    };
    Ok((header, out))
}

fn corrupt(path: &Path, message: String) -> ReadError {
    ReadError::Corrupt {
        path: path.to_path_buf(),
        format: FORMAT,
        message,
    }
}

fn decode(bytes: &[u8], path: &Path, budget: &Budget) -> Result<Raster, ReadError> {
    let corrupt = |message: String| corrupt(path, message);
    let (header, out) = header(bytes, path)?;
    // Interleaved output plus its planar copy.
    budget.check(path, &header, header.decoded_bytes().saturating_mul(2))?;
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
