//! GeoTIFF reader: multi-band, striped or tiled, uncompressed/Deflate/LZW (with predictors),
//! pixel- or band-interleaved, classic or BigTIFF, 8- to 64-bit integer and float samples.
//!
//! Decoding is done by the `tiff` crate; this module adds the `[C, H, W]` layout and GDAL's
//! reading of the georeferencing tags, and returns stored values as GDAL does (no WhiteIsZero
//! inversion). Only the first image (full resolution) is read;
//! overviews and masks in later IFDs are ignored.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek};
use std::ops::Range;
use std::path::Path;

use tiff::decoder::{Decoder, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use super::chunks::{Window, read_chunks};
use super::error::ReadError;
use super::georef::read_georef;
use super::guard::catch_decoder_panic;
use super::raster::{GeoTransform, Raster, RasterData};
use super::source::window_byte_ranges;

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
    let mut file = GeoTiff::from_reader(reader, path, max_bytes)?;
    let (h, w) = (file.height, file.width);
    file.read(0, 0, h, w)
}

/// Told the byte ranges of the strips/tiles a window needs before they are decoded, so a
/// remote source can fetch them together (see [`GeoTiff::with_prefetch`]).
pub type PrefetchHook<R> = fn(&mut R, &[Range<u64>]) -> std::io::Result<()>;

/// An open GeoTIFF whose pixels are read window by window, so scenes larger than memory (a
/// full Sentinel-2 tile) can be streamed. Only the strips/tiles meeting a window are decoded.
pub struct GeoTiff<R: Read + Seek = BufReader<File>> {
    dec: Decoder<R>,
    path: std::path::PathBuf,
    max_bytes: usize,
    prefetch: Option<PrefetchHook<R>>,
    bits: u8,
    planar: bool,
    white_is_zero: bool,
    /// Number of bands `C`.
    pub bands: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Pixel-corner geotransform of the whole image, when georeferenced.
    pub geotransform: Option<GeoTransform>,
    /// EPSG code of the CRS, when named.
    pub epsg: Option<u32>,
    /// No-data value (`GDAL_NODATA`).
    pub nodata: Option<f64>,
}

impl GeoTiff {
    /// Opens `path` and reads its header and georeferencing (no pixels yet). Windows are
    /// capped at [`DEFAULT_MAX_DECODED_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(BufReader::new(file), path, DEFAULT_MAX_DECODED_BYTES)
    }
}

impl<R: Read + Seek> GeoTiff<R> {
    /// Opens a GeoTIFF from any seekable reader; `path` labels errors, `max_bytes` caps the
    /// decoded size of one window.
    pub fn from_reader(reader: R, path: &Path, max_bytes: usize) -> Result<Self, ReadError> {
        catch_decoder_panic(path, FORMAT, || Self::header(reader, path, max_bytes))
    }

    fn header(reader: R, path: &Path, max_bytes: usize) -> Result<Self, ReadError> {
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
        let (bands, bits) = match dec.colortype().map_err(err)? {
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
        Ok(Self {
            dec,
            path: path.to_path_buf(),
            max_bytes,
            prefetch: None,
            bits,
            planar,
            white_is_zero,
            bands,
            height,
            width,
            geotransform: georef.geotransform,
            epsg: georef.epsg,
            nodata: georef.nodata,
        })
    }

    /// Calls `hook` on the reader with the byte ranges of each window's strips/tiles before
    /// they are decoded.
    pub fn with_prefetch(mut self, hook: PrefetchHook<R>) -> Self {
        self.prefetch = Some(hook);
        self
    }

    /// The byte source.
    pub fn source(&mut self) -> &mut R {
        self.dec.inner()
    }

    /// Reads `rows`×`cols` pixels starting at (`row0`, `col0`) into a [`Raster`] whose
    /// geotransform is shifted to the window's corner. The window must lie inside the image.
    pub fn read(
        &mut self,
        row0: usize,
        col0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Raster, ReadError> {
        let path = self.path.clone();
        catch_decoder_panic(&path, FORMAT, || self.read_inner(row0, col0, rows, cols))
    }

    fn read_inner(
        &mut self,
        row0: usize,
        col0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Raster, ReadError> {
        let path = self.path.clone();
        let win = Window {
            row0,
            col0,
            rows,
            cols,
        };
        if let Some(hook) = self.prefetch {
            let planes = if self.planar { self.bands } else { 1 };
            let ranges = window_byte_ranges(
                &mut self.dec,
                (self.width, self.height),
                planes,
                (row0, col0, rows, cols),
            )
            .map_err(|e| tiff_error(e, &path, self.max_bytes))?;
            hook(self.dec.inner(), &ranges).map_err(|source| ReadError::Io {
                path: path.clone(),
                source,
            })?;
        }
        let data = read_chunks(
            &mut self.dec,
            self.bands,
            self.width,
            self.height,
            self.bits,
            self.planar,
            self.max_bytes,
            win,
        )
        .map_err(|e| e.into_read_error(&path, self.max_bytes))?;
        let data = if self.white_is_zero {
            undo_white_is_zero(data).ok_or_else(|| ReadError::Unsupported {
                path: path.clone(),
                format: FORMAT,
                what: "MINISWHITE (WhiteIsZero) with float samples".into(),
            })?
        } else {
            data
        };
        let geotransform = self.geotransform.map(|t| {
            let (c, r) = (col0 as f64, row0 as f64);
            [
                t[0] + c * t[1] + r * t[2],
                t[1],
                t[2],
                t[3] + c * t[4] + r * t[5],
                t[4],
                t[5],
            ]
        });
        Ok(Raster {
            bands: self.bands,
            height: rows,
            width: cols,
            data,
            geotransform,
            epsg: self.epsg,
            nodata: self.nodata,
        })
    }
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
