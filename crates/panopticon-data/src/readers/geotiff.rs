//! GeoTIFF reader: multi-band, striped or tiled, uncompressed/Deflate/LZW (with predictors),
//! pixel- or band-interleaved, classic or BigTIFF, 8- to 64-bit integer and float samples.
//!
//! Decoding is done by the `tiff` crate; this module adds the `[C, H, W]` layout and GDAL's
//! reading of the georeferencing tags, and returns stored values as GDAL does (no WhiteIsZero
//! inversion). Only the first image (full resolution) is read;
//! overviews and masks in later IFDs are ignored.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek};
use std::path::Path;

use tiff::decoder::{Decoder, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use super::chunks::read_chunks;
use super::error::ReadError;
use super::georef::read_georef;
use super::guard::catch_decoder_panic;
use super::raster::{Raster, RasterData};

const FORMAT: &str = "GeoTIFF";
const PHOTOMETRIC_WHITE_IS_ZERO: u16 = 0;

/// Default cap on the decoded size of one image (1 GiB); a corrupt header then fails fast
/// instead of allocating whatever it claims.
pub const DEFAULT_MAX_DECODED_BYTES: usize = 1 << 30;

/// Reads the first image of a GeoTIFF file into a [`Raster`] (samples in `[C, H, W]` order).
///
/// Errors name the file: [`ReadError::Io`] if it cannot be opened, [`ReadError::Corrupt`] if it
/// is truncated or malformed, [`ReadError::Unsupported`] for layouts outside the list above,
/// [`ReadError::TooLarge`] beyond [`DEFAULT_MAX_DECODED_BYTES`].
pub fn read_geotiff(path: impl AsRef<Path>) -> Result<Raster, ReadError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_geotiff(BufReader::new(file), path, DEFAULT_MAX_DECODED_BYTES)
}

/// Decodes a GeoTIFF from any seekable reader; `path` only labels errors and `max_bytes`
/// caps the decoded size.
pub fn decode_geotiff<R: Read + Seek>(
    reader: R,
    path: &Path,
    max_bytes: usize,
) -> Result<Raster, ReadError> {
    catch_decoder_panic(path, FORMAT, || decode(reader, path, max_bytes))
}

fn decode<R: Read + Seek>(reader: R, path: &Path, max_bytes: usize) -> Result<Raster, ReadError> {
    let err = |e: TiffError| tiff_error(e, path, max_bytes);
    let corrupt = |message: String| ReadError::Corrupt {
        path: path.to_path_buf(),
        format: FORMAT,
        message,
    };
    let unsupported = |what: String| ReadError::Unsupported {
        path: path.to_path_buf(),
        format: FORMAT,
        what,
    };

    let mut limits = Limits::default();
    limits.decoding_buffer_size = max_bytes;
    limits.intermediate_buffer_size = max_bytes;
    let mut dec = Decoder::new(reader).map_err(err)?.with_limits(limits);
    let (width, height) = dec.dimensions().map_err(err)?;
    let (width, height) = (width as usize, height as usize);
    let bands = match dec.colortype().map_err(err)? {
        ColorType::Gray(b) | ColorType::Palette(b) => (1, b),
        ColorType::GrayA(b) => (2, b),
        ColorType::RGB(b) => (3, b),
        ColorType::RGBA(b) | ColorType::CMYK(b) => (4, b),
        ColorType::CMYKA(b) => (5, b),
        ColorType::Multiband {
            bit_depth,
            num_samples,
        } => (usize::from(num_samples), bit_depth),
        other => return Err(unsupported(format!("color type {other:?}"))),
    };
    let (bands, bits) = bands;
    if !matches!(bits, 8 | 16 | 32 | 64) {
        return Err(unsupported(format!(
            "{bits}-bit samples (supported: 8, 16, 32 and 64 bits)"
        )));
    }
    let planar = dec
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(err)?
        == Some(2);
    let georef = read_georef(&mut dec).map_err(corrupt)?;
    let white_is_zero = dec
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .map_err(err)?
        == Some(PHOTOMETRIC_WHITE_IS_ZERO);

    let data = read_chunks(&mut dec, bands, width, height, bits, planar, max_bytes)
        .map_err(|e| e.into_read_error(path, max_bytes))?;
    let data = if white_is_zero {
        undo_white_is_zero(data)
            .ok_or_else(|| unsupported("MINISWHITE (WhiteIsZero) with float samples".into()))?
    } else {
        data
    };
    Ok(Raster {
        bands,
        height,
        width,
        data,
        geotransform: georef.geotransform,
        epsg: georef.epsg,
        nodata: georef.nodata,
    })
}

/// `tiff` inverts WhiteIsZero images (`max - x`, `1.0 - x`); GDAL returns the stored
/// values, so the inversion is undone. It is its own inverse for unsigned integers; for
/// floats it is not exact, so those are refused.
fn undo_white_is_zero(data: RasterData) -> Option<RasterData> {
    Some(match data {
        RasterData::U8(v) => RasterData::U8(v.into_iter().map(|x| !x).collect()),
        RasterData::U16(v) => RasterData::U16(v.into_iter().map(|x| !x).collect()),
        RasterData::U32(v) => RasterData::U32(v.into_iter().map(|x| !x).collect()),
        _ => return None,
    })
}

pub(crate) fn tiff_error(e: TiffError, path: &Path, max_bytes: usize) -> ReadError {
    let path = path.to_path_buf();
    match e {
        TiffError::IoError(source) if source.kind() == ErrorKind::UnexpectedEof => {
            ReadError::Corrupt {
                path,
                format: FORMAT,
                message: format!("file is truncated ({source})"),
            }
        }
        TiffError::IoError(source) => ReadError::Io { path, source },
        TiffError::UnsupportedError(u) => ReadError::Unsupported {
            path,
            format: FORMAT,
            what: u.to_string(),
        },
        TiffError::LimitsExceeded => ReadError::TooLarge {
            path,
            limit_bytes: max_bytes,
            message: "decoder limit exceeded".into(),
        },
        other => ReadError::Corrupt {
            path,
            format: FORMAT,
            message: other.to_string(),
        },
    }
}
