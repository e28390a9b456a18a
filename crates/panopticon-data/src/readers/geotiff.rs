//! GeoTIFF reader: multi-band, striped or tiled, pixel- or band-interleaved, classic or BigTIFF,
//! 8- to 64-bit integer and float samples, compressed with any codec GDAL writes by default
//! (none, LZW, Deflate, ZSTD with predictors 1–3, PackBits, JPEG incl. YCbCr, WebP).
//!
//! Decoding is done by the `tiff` crate; this module adds the `[C, H, W]` layout, GDAL's
//! reading of the georeferencing tags, the choice of image (full resolution or an overview,
//! told apart by their tags) and the per-dataset mask, and returns stored values as GDAL does
//! (no WhiteIsZero inversion; YCbCr JPEG converted to RGB as libjpeg does).

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::ops::Range;
use std::path::Path;

use tiff::decoder::{Decoder, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

mod chunks;
mod compression;
mod decode_error;
mod ifds;
mod lerc;
mod patched;
mod ycbcr;

use self::chunks::{Window, out_sample_bytes, read_chunks, window_byte_ranges};
use self::compression::check_compression;
use self::decode_error::{FORMAT, tiff_error};
use self::ifds::{Ifd, Selection};
pub(crate) use self::lerc::LercChunks;
use self::patched::Patched;
use super::error::ReadError;
use super::georef::read_georef;
use super::guard::catch_decoder_panic;
use super::raster::{GeoTransform, Raster, RasterData};

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

/// [`read_geotiff`] within `budget` (checked from the header, before any strip is decoded;
/// the decoded-size cap is the budget's).
pub fn read_geotiff_within(
    path: impl AsRef<Path>,
    budget: &super::Budget,
) -> Result<Raster, ReadError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut tif = GeoTiff::from_reader(BufReader::new(file), path, budget.decoder_limit())?;
    budget.check_decoded(path, &tif.image_header())?;
    let (h, w) = (tif.height, tif.width);
    tif.read(0, 0, h, w)
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
    dec: Decoder<Patched<R>>,
    path: std::path::PathBuf,
    max_bytes: usize,
    prefetch: Option<PrefetchHook<R>>,
    bits: u8,
    /// Bytes per decoded sample (`bits / 8`, but 4 for float16, read as `f32`).
    sample_bytes: usize,
    planar: bool,
    white_is_zero: bool,
    /// JPEG-compressed YCbCr: converted to RGB after decoding.
    ycbcr: bool,
    /// The chunk table of a LERC image (decoded here, not by `tiff`).
    lerc: Option<LercChunks>,
    /// The IFD read, its mask, and the IFD the decoder is on now.
    image: Ifd,
    mask: Option<Ifd>,
    current: usize,
    /// Number of bands `C`.
    pub bands: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Pixel-corner geotransform of the image read (scaled for an overview), when
    /// georeferenced.
    pub geotransform: Option<GeoTransform>,
    /// EPSG code of the CRS, when named.
    pub epsg: Option<u32>,
    /// No-data value (`GDAL_NODATA`).
    pub nodata: Option<f64>,
    /// Number of overviews (reduced-resolution images) in the file.
    pub overviews: usize,
    /// Whether the image has a per-dataset mask (GDAL's internal mask, NewSubfileType 4):
    /// see [`GeoTiff::read_mask`].
    pub has_mask: bool,
}

impl GeoTiff {
    /// Opens `path` and reads its header and georeferencing (no pixels yet). The
    /// full-resolution image is read; windows are capped at [`DEFAULT_MAX_DECODED_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        Self::open_overview(path, 0)
    }

    /// Like [`GeoTiff::open`], reading overview `overview` instead: 0 is the full
    /// resolution, 1 the largest overview, 2 the next, … (GDAL's `OVERVIEW_LEVEL` + 1).
    pub fn open_overview(path: impl AsRef<Path>, overview: usize) -> Result<Self, ReadError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader_overview(
            BufReader::new(file),
            path,
            DEFAULT_MAX_DECODED_BYTES,
            overview,
        )
    }
}

impl<R: Read + Seek> GeoTiff<R> {
    /// Opens the full-resolution image of a GeoTIFF from any seekable reader; `path` labels
    /// errors, `max_bytes` caps the decoded size of one window.
    pub fn from_reader(reader: R, path: &Path, max_bytes: usize) -> Result<Self, ReadError> {
        Self::from_reader_overview(reader, path, max_bytes, 0)
    }

    /// [`GeoTiff::from_reader`] for overview `overview` (0 = full resolution).
    pub fn from_reader_overview(
        reader: R,
        path: &Path,
        max_bytes: usize,
        overview: usize,
    ) -> Result<Self, ReadError> {
        catch_decoder_panic(path, FORMAT, || {
            Self::header(reader, path, max_bytes, overview)
        })
    }

    fn header(
        reader: R,
        path: &Path,
        max_bytes: usize,
        overview: usize,
    ) -> Result<Self, ReadError> {
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
        let reader = Patched::new(reader).map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut dec = Decoder::new(reader).map_err(err)?.with_limits(limits);
        let all = ifds::scan(&mut dec).map_err(err)?;
        let Selection {
            full,
            image,
            mask,
            overviews,
        } = ifds::select(&all, overview).map_err(unsupported)?;
        // Georeferencing and no-data are tags of the full-resolution image.
        dec.seek_to_image(full.index).map_err(err)?;
        let georef = read_georef(&mut dec).map_err(corrupt)?;
        if let Some(m) = mask {
            let bigtiff = is_bigtiff(&mut dec).map_err(err)?;
            let order = dec.byte_order();
            dec.inner()
                .patch_short_tag(
                    m.offset,
                    bigtiff,
                    order,
                    Tag::PhotometricInterpretation.to_u16(),
                    1,
                )
                .map_err(|e| err(e.into()))?;
            dec.seek_to_image(m.index).map_err(err)?;
            let code = dec
                .find_tag_unsigned::<u16>(Tag::Compression)
                .map_err(err)?;
            check_compression(code.unwrap_or(1)).map_err(|e| unsupported(format!("mask: {e}")))?;
        }
        dec.seek_to_image(image.index).map_err(err)?;
        let code = dec
            .find_tag_unsigned::<u16>(Tag::Compression)
            .map_err(err)?;
        check_compression(code.unwrap_or(1)).map_err(unsupported)?;
        let (bands, bits, ycbcr) = match dec.colortype().map_err(err)? {
            ColorType::Gray(b) | ColorType::Palette(b) => (1, b, false),
            ColorType::GrayA(b) => (2, b, false),
            ColorType::RGB(b) => (3, b, false),
            ColorType::YCbCr(b) if code == Some(COMPRESSION_JPEG) => (3, b, true),
            ColorType::RGBA(b) | ColorType::CMYK(b) => (4, b, false),
            ColorType::CMYKA(b) => (5, b, false),
            ColorType::Multiband {
                bit_depth,
                num_samples,
            } => (usize::from(num_samples), bit_depth, false),
            other => return Err(unsupported(format!("color type {other:?}"))),
        };
        // libjpeg's 12-bit mode (GDAL's NBITS=12 JPEG) has no pure-Rust decoder.
        if code == Some(COMPRESSION_JPEG) && bits != 8 {
            return Err(unsupported(format!(
                "compression {COMPRESSION_JPEG} (JPEG) with {bits}-bit samples is not supported \
                 (8-bit JPEG only)"
            )));
        }
        if !matches!(bits, 8 | 16 | 32 | 64) {
            return Err(unsupported(format!(
                "{bits}-bit samples (supported: 8, 16, 32 and 64 bits)"
            )));
        }
        let sample_bytes = out_sample_bytes(&mut dec, bits).map_err(err)?;
        let planar = dec
            .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
            .map_err(err)?
            == Some(2);
        let lerc = if code == Some(COMPRESSION_LERC) {
            let tiled = dec.get_chunk_type() == tiff::decoder::ChunkType::Tile;
            Some(LercChunks::new(&mut dec, tiled, max_bytes).map_err(corrupt)?)
        } else {
            None
        };
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
            sample_bytes,
            planar,
            white_is_zero,
            ycbcr,
            lerc,
            image,
            mask,
            current: image.index,
            bands,
            height: image.height as usize,
            width: image.width as usize,
            geotransform: georef.geotransform.map(|t| scale_to(t, full, image)),
            epsg: georef.epsg,
            nodata: georef.nodata,
            overviews,
            has_mask: mask.is_some(),
        })
    }

    /// The image's size as its header states it (for a [`Budget`](super::Budget) check
    /// before any window is read).
    pub fn image_header(&self) -> super::ImageHeader {
        super::ImageHeader {
            bands: self.bands,
            height: self.height,
            width: self.width,
            sample_bytes: self.sample_bytes,
        }
    }

    /// Calls `hook` on the reader with the byte ranges of each window's strips/tiles before
    /// they are decoded.
    pub fn with_prefetch(mut self, hook: PrefetchHook<R>) -> Self {
        self.prefetch = Some(hook);
        self
    }

    /// The byte source.
    pub fn source(&mut self) -> &mut R {
        self.dec.inner().inner_mut()
    }

    /// Reads `rows`×`cols` pixels starting at (`row0`, `col0`) into a [`Raster`] whose
    /// geotransform is shifted to the window's corner. The window must lie inside the image.
    /// Samples are the stored values, masked or not (see [`GeoTiff::read_mask`]).
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

    /// The per-dataset mask over a window, `[rows, cols]`, `true` where the pixel is valid;
    /// `None` when the file has no mask (every pixel valid, no-data aside).
    pub fn read_mask(
        &mut self,
        row0: usize,
        col0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Option<Vec<bool>>, ReadError> {
        let Some(mask) = self.mask else {
            return Ok(None);
        };
        let path = self.path.clone();
        catch_decoder_panic(&path, FORMAT, || {
            let win = Window {
                row0,
                col0,
                rows,
                cols,
            };
            let bits = self.seek(mask.index)?;
            let data = read_chunks(
                &mut self.dec,
                None,
                1,
                self.width,
                self.height,
                bits,
                false,
                self.max_bytes,
                win,
            )
            .map_err(|e| e.into_read_error(&path, self.max_bytes))?;
            match data {
                RasterData::U8(v) => Ok(Some(v.into_iter().map(|x| x != 0).collect())),
                _ => Err(ReadError::Unsupported {
                    path: path.clone(),
                    format: FORMAT,
                    what: "mask with samples wider than 8 bits".into(),
                }),
            }
        })
    }

    /// [`GeoTiff::read`] as `f32` samples `[C, rows, cols]`, with the pixels the mask marks
    /// invalid set to NaN, which every later step treats as no-data.
    pub fn read_f32(
        &mut self,
        row0: usize,
        col0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, ReadError> {
        let mut data = self.read(row0, col0, rows, cols)?.to_f32();
        if let Some(valid) = self.read_mask(row0, col0, rows, cols)? {
            for band in data.chunks_mut(rows * cols) {
                for (v, ok) in band.iter_mut().zip(&valid) {
                    if !ok {
                        *v = f32::NAN;
                    }
                }
            }
        }
        Ok(data)
    }

    /// Puts the decoder on IFD `index`; returns its bits per sample.
    fn seek(&mut self, index: usize) -> Result<u8, ReadError> {
        let err = |e: TiffError| tiff_error(e, &self.path, self.max_bytes);
        if self.current != index {
            self.current = usize::MAX; // stays unknown if the seek fails half-way
            self.dec.seek_to_image(index).map_err(err)?;
            self.current = index;
        }
        if index == self.image.index {
            return Ok(self.bits);
        }
        let bits = self
            .dec
            .find_tag_unsigned_vec::<u8>(Tag::BitsPerSample)
            .map_err(err)?
            .and_then(|b| b.first().copied())
            .unwrap_or(1);
        if !matches!(bits, 1 | 8) {
            return Err(ReadError::Unsupported {
                path: self.path.clone(),
                format: FORMAT,
                what: format!("{bits}-bit mask (supported: 1 and 8 bits)"),
            });
        }
        Ok(bits)
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
        self.seek(self.image.index)?;
        if let Some(hook) = self.prefetch {
            let planes = if self.planar { self.bands } else { 1 };
            let ranges = window_byte_ranges(
                &mut self.dec,
                (self.width, self.height),
                planes,
                (row0, col0, rows, cols),
            )
            .map_err(|e| tiff_error(e, &path, self.max_bytes))?;
            hook(self.dec.inner().inner_mut(), &ranges).map_err(|source| ReadError::Io {
                path: path.clone(),
                source,
            })?;
        }
        let mut data = read_chunks(
            &mut self.dec,
            self.lerc.as_ref(),
            self.bands,
            self.width,
            self.height,
            self.bits,
            self.planar,
            self.max_bytes,
            win,
        )
        .map_err(|e| e.into_read_error(&path, self.max_bytes))?;
        if self.ycbcr
            && let RasterData::U8(v) = &mut data
        {
            ycbcr::ycbcr_to_rgb(v);
        }
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

const COMPRESSION_JPEG: u16 = 7;
const COMPRESSION_LERC: u16 = 34887;

/// The full image's geotransform for `image`, an overview of it: pixel sizes scaled by the
/// size ratio, as GDAL's `GDALOverviewDataset::GetGeoTransform` does.
fn scale_to(t: GeoTransform, full: Ifd, image: Ifd) -> GeoTransform {
    let sx = f64::from(full.width) / f64::from(image.width);
    let sy = f64::from(full.height) / f64::from(image.height);
    [t[0], t[1] * sx, t[2] * sy, t[3], t[4] * sx, t[5] * sy]
}

/// Whether the file is BigTIFF (version 43 in the header).
fn is_bigtiff<R: Read + Seek>(dec: &mut Decoder<R>) -> Result<bool, TiffError> {
    use std::io::SeekFrom;
    let order = dec.byte_order();
    let r = dec.inner();
    let here = r.stream_position()?;
    r.seek(SeekFrom::Start(2))?;
    let mut v = [0u8; 2];
    r.read_exact(&mut v)?;
    r.seek(SeekFrom::Start(here))?;
    let version = match order {
        tiff::tags::ByteOrder::LittleEndian => u16::from_le_bytes(v),
        tiff::tags::ByteOrder::BigEndian => u16::from_be_bytes(v),
    };
    Ok(version == 43)
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
