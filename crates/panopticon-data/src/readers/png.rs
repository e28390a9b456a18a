//! PNG reader: 8- or 16-bit grayscale, grayscale + alpha, RGB or RGBA.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Seek};
use std::path::Path;

use png::{BitDepth, ColorType, DecodingError, Transformations};

use super::budget::{Budget, ImageHeader};
use super::error::ReadError;
use super::guard::catch_decoder_panic;
use super::raster::{Raster, RasterData};

const FORMAT: &str = "PNG";

/// Default cap on the memory the PNG decoder may allocate (1 GiB).
pub const DEFAULT_MAX_PNG_BYTES: usize = 1 << 30;

/// Reads a PNG into a [`Raster`] (`[C, H, W]`, no georeferencing).
///
/// Supported: 8- or 16-bit gray (C = 1), gray + alpha (2), RGB (3) and RGBA (4); the alpha
/// channel is kept as the last band. Palette and sub-byte images are
/// [`ReadError::Unsupported`]; truncated or corrupt files are [`ReadError::Corrupt`].
pub fn read_png(path: impl AsRef<Path>) -> Result<Raster, ReadError> {
    let path = path.as_ref();
    decode_png(open(path)?, path, DEFAULT_MAX_PNG_BYTES)
}

/// [`read_png`] within `budget`: the header's size is checked before any pixel buffer is
/// allocated, and the decoder's own limit is the budget's.
pub fn read_png_within(path: impl AsRef<Path>, budget: &Budget) -> Result<Raster, ReadError> {
    let path = path.as_ref();
    budget.check_decoded(path, &probe_png(path)?)?;
    decode_png(open(path)?, path, budget.decoder_limit())
}

/// The size a PNG's header states (nothing decoded).
pub fn probe_png(path: impl AsRef<Path>) -> Result<ImageHeader, ReadError> {
    let path = path.as_ref();
    catch_decoder_panic(path, FORMAT, || {
        let limit = DEFAULT_MAX_PNG_BYTES;
        let decoder = png::Decoder::new_with_limits(open(path)?, png::Limits { bytes: limit });
        let reader = decoder.read_info().map_err(|e| png_error(e, path, limit))?;
        let info = reader.info();
        let channels = info.color_type.samples();
        Ok(ImageHeader {
            bands: channels,
            height: info.height as usize,
            width: info.width as usize,
            sample_bytes: if info.bit_depth == BitDepth::Sixteen {
                2
            } else {
                1
            },
        })
    })
}

fn open(path: &Path) -> Result<BufReader<File>, ReadError> {
    let file = File::open(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(BufReader::new(file))
}

/// Decodes a PNG from any buffered, seekable reader; `path` only labels errors.
pub fn decode_png<R: BufRead + Seek>(
    reader: R,
    path: &Path,
    max_bytes: usize,
) -> Result<Raster, ReadError> {
    catch_decoder_panic(path, FORMAT, || decode(reader, path, max_bytes))
}

fn decode<R: BufRead + Seek>(
    reader: R,
    path: &Path,
    max_bytes: usize,
) -> Result<Raster, ReadError> {
    let err = |e: DecodingError| png_error(e, path, max_bytes);
    let mut decoder = png::Decoder::new_with_limits(reader, png::Limits { bytes: max_bytes });
    // No expansion: palette or low-bit images are refused rather than silently widened.
    decoder.set_transformations(Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(err)?;
    let (color, depth) = reader.output_color_type();
    let bands = match color {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => {
            return Err(ReadError::Unsupported {
                path: path.to_path_buf(),
                format: FORMAT,
                what: "palette (indexed) colour; convert to RGB first".into(),
            });
        }
    };
    if !matches!(depth, BitDepth::Eight | BitDepth::Sixteen) {
        return Err(ReadError::Unsupported {
            path: path.to_path_buf(),
            format: FORMAT,
            what: format!("{depth:?} bit depth (supported: 8 and 16 bits)"),
        });
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| ReadError::TooLarge {
            path: path.to_path_buf(),
            limit_bytes: max_bytes,
            message: "image size overflows".into(),
        })?;
    if size > max_bytes {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit_bytes: max_bytes,
            message: format!("{size} bytes of pixels"),
        });
    }
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(err)?;
    buf.truncate(info.buffer_size());
    let (width, height) = (info.width as usize, info.height as usize);
    let data = match depth {
        BitDepth::Sixteen => {
            let v: Vec<u16> = buf
                .chunks_exact(2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .collect();
            RasterData::U16(interleaved_to_chw(&v, bands))
        }
        _ => RasterData::U8(interleaved_to_chw(&buf, bands)),
    };
    if data.len() != bands * width * height {
        return Err(ReadError::Corrupt {
            path: path.to_path_buf(),
            format: FORMAT,
            message: format!(
                "decoded {} samples, expected {bands} x {height} x {width}",
                data.len()
            ),
        });
    }
    Ok(Raster {
        bands,
        height,
        width,
        data,
        geotransform: None,
        epsg: None,
        nodata: None,
    })
}

/// `[H, W, C]` → `[C, H, W]`.
fn interleaved_to_chw<T: Copy>(v: &[T], bands: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(v.len());
    for c in 0..bands {
        out.extend(v.iter().skip(c).step_by(bands).copied());
    }
    out
}

fn png_error(e: DecodingError, path: &Path, max_bytes: usize) -> ReadError {
    let path = path.to_path_buf();
    match e {
        DecodingError::IoError(source) if source.kind() == ErrorKind::UnexpectedEof => {
            ReadError::Corrupt {
                path,
                format: FORMAT,
                message: format!("file is truncated ({source})"),
            }
        }
        DecodingError::IoError(source) => ReadError::Io { path, source },
        DecodingError::LimitsExceeded => ReadError::TooLarge {
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
