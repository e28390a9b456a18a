//! GeoTIFF reader: multi-band, striped or tiled, uncompressed/Deflate/LZW (with predictors),
//! pixel- or band-interleaved, classic or BigTIFF, 8- to 64-bit integer and float samples.
//!
//! Decoding is done by the `tiff` crate; this module adds the `[C, H, W]` layout and GDAL's
//! reading of the georeferencing tags. Only the first image (full resolution) is read;
//! overviews and masks in later IFDs are ignored.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek};
use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use super::error::ReadError;
use super::georef::read_georef;
use super::raster::{Raster, RasterData};

const FORMAT: &str = "GeoTIFF";

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

    let mut result = DecodingResult::U8(Vec::new());
    dec.read_image_to_buffer(&mut result).map_err(err)?;

    let plane = width
        .checked_mul(height)
        .ok_or_else(|| corrupt(format!("{width}x{height} pixels overflow")))?;
    let expected = plane
        .checked_mul(bands)
        .ok_or_else(|| corrupt(format!("{bands} bands of {width}x{height} overflow")))?;
    let data = match result {
        DecodingResult::U8(v) => RasterData::U8(to_chw(v, bands, plane, planar)),
        DecodingResult::I8(v) => RasterData::I8(to_chw(v, bands, plane, planar)),
        DecodingResult::U16(v) => RasterData::U16(to_chw(v, bands, plane, planar)),
        DecodingResult::I16(v) => RasterData::I16(to_chw(v, bands, plane, planar)),
        DecodingResult::U32(v) => RasterData::U32(to_chw(v, bands, plane, planar)),
        DecodingResult::I32(v) => RasterData::I32(to_chw(v, bands, plane, planar)),
        DecodingResult::F32(v) => RasterData::F32(to_chw(v, bands, plane, planar)),
        DecodingResult::F64(v) => RasterData::F64(to_chw(v, bands, plane, planar)),
        DecodingResult::U64(_) | DecodingResult::I64(_) | DecodingResult::F16(_) => {
            return Err(unsupported(
                "64-bit integer or 16-bit float samples (supported: u8, i8, u16, i16, u32, \
                 i32, f32, f64)"
                    .into(),
            ));
        }
    };
    if data.len() != expected {
        // `tiff` falls back to the first plane when all planes exceed the limit.
        if planar && data.len() == plane && bands > 1 {
            return Err(ReadError::TooLarge {
                path: path.to_path_buf(),
                limit_bytes: max_bytes,
                message: format!("{bands} planes of {width}x{height}"),
            });
        }
        return Err(corrupt(format!(
            "decoded {} samples, expected {bands} bands x {height} x {width}",
            data.len()
        )));
    }
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

/// Pixel-interleaved `[H, W, C]` → `[C, H, W]`; band-interleaved data already is.
fn to_chw<T: Copy>(v: Vec<T>, bands: usize, plane: usize, planar: bool) -> Vec<T> {
    if planar || bands == 1 || Some(v.len()) != bands.checked_mul(plane) {
        return v;
    }
    let mut out = Vec::with_capacity(v.len());
    for c in 0..bands {
        out.extend(v.iter().skip(c).step_by(bands).copied());
    }
    out
}

fn tiff_error(e: TiffError, path: &Path, max_bytes: usize) -> ReadError {
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
