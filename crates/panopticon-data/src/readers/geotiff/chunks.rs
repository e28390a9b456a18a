//! Assembles a TIFF image from its strips or tiles into `[C, H, W]`, and finds the byte
//! ranges of the chunks a window needs (what a remote read fetches).
//!
//! Works around two bugs of `tiff` 0.11.3, both proven by the GDAL fixtures:
//!
//! * whole-image `read_image_to_buffer` panics on band-interleaved tiled images whose last
//!   tile row is padded (planes after the first get their padding from the global tile
//!   index), so chunks are read one by one and placed here;
//! * reading a right-edge tile at its cropped width makes tiny row reads that the LZW reader
//!   rejects ("no lzw end code found"), so tiles are read at their full stored width (the
//!   padding is decoded and dropped).
//!
//! Pixel-interleaved data is transposed to `[C, H, W]` in the same pass. 1-bit samples (masks)
//! are unpacked to one `u8` (0 or 1) per pixel; 16-bit float samples (what `embed --dtype f16
//! -o x.tif` writes) are widened to `f32`, which holds every float16 value exactly.

use std::io::{Read, Seek};
use std::ops::Range;

use tiff::TiffError;
use tiff::decoder::{ChunkType, Decoder, DecodingResult};
use tiff::tags::Tag;

use super::decode_error::ChunkError;
use super::lerc::LercChunks;
use crate::readers::raster::RasterData;

/// The part of the image to read, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub row0: usize,
    pub col0: usize,
    pub rows: usize,
    pub cols: usize,
}

/// Byte ranges of the strips/tiles of the decoder's current image that meet the window
/// (`row0`, `col0`, `rows`, `cols`), in file order, not merged. Empty chunks are skipped.
pub(crate) fn window_byte_ranges<R: Read + Seek>(
    dec: &mut Decoder<R>,
    (width, height): (usize, usize),
    planes: usize,
    (row0, col0, rows, cols): (usize, usize, usize, usize),
) -> Result<Vec<Range<u64>>, TiffError> {
    let tiled = dec.get_chunk_type() == ChunkType::Tile;
    let (offsets_tag, counts_tag) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    let (cw, ch) = dec.chunk_dimensions();
    let (cw, ch) = (cw as usize, ch as usize);
    if cw == 0 || ch == 0 {
        return Ok(Vec::new()); // the decoder reports the bad layout when it reads
    }
    let offsets = dec.get_tag_u64_vec(offsets_tag)?;
    let counts = dec.get_tag_u64_vec(counts_tag)?;
    let (across, down) = (width.div_ceil(cw), height.div_ceil(ch));
    let (cx0, cx1) = (col0 / cw, (col0 + cols).div_ceil(cw).min(across));
    let (cy0, cy1) = (row0 / ch, (row0 + rows).div_ceil(ch).min(down));
    let mut ranges = Vec::new();
    for plane in 0..planes {
        for cy in cy0..cy1 {
            for cx in cx0..cx1 {
                let i = (plane * down + cy) * across + cx;
                if let (Some(&start), Some(&len)) = (offsets.get(i), counts.get(i))
                    && len > 0
                {
                    ranges.push(start..start.saturating_add(len));
                }
            }
        }
    }
    ranges.sort_by_key(|r| r.start);
    Ok(ranges)
}

/// Where one chunk lands in the output.
struct Placement {
    plane: usize,
    x0: usize,
    y0: usize,
    /// Pixels per row in the decoded chunk buffer.
    buf_width: usize,
    /// Columns and rows of the chunk inside the image.
    cols: usize,
    rows: usize,
    /// Samples per pixel in the chunk (1 when band-interleaved).
    spp: usize,
}

/// Reads the strips or tiles of the current image that meet `win` into `[C, rows, cols]`
/// samples (the whole image when `win` covers it). `lerc` decodes the chunks of a LERC image,
/// which `tiff` cannot.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_chunks<R: Read + Seek>(
    dec: &mut Decoder<R>,
    lerc: Option<&LercChunks>,
    bands: usize,
    width: usize,
    height: usize,
    bits: u8,
    planar: bool,
    max_bytes: usize,
    win: Window,
) -> Result<RasterData, ChunkError> {
    if win.rows == 0 || win.cols == 0 || win.row0 + win.rows > height || win.col0 + win.cols > width
    {
        return Err(ChunkError::Corrupt(format!(
            "window {}x{} at ({}, {}) is not inside the {width}x{height} image",
            win.cols, win.rows, win.col0, win.row0
        )));
    }
    let total = bands
        .checked_mul(win.cols)
        .and_then(|n| n.checked_mul(win.rows))
        .ok_or_else(|| ChunkError::Corrupt(format!("{bands}x{height}x{width} overflows")))?;
    if total.saturating_mul(out_sample_bytes(dec, bits)?) > max_bytes {
        return Err(ChunkError::TooLarge(format!(
            "{bands} bands of {}x{} {bits}-bit samples (read a smaller window)",
            win.cols, win.rows
        )));
    }
    if total == 0 {
        return Err(ChunkError::Corrupt("image has no pixels".into()));
    }
    let tiled = dec.get_chunk_type() == ChunkType::Tile;
    let (cw, ch) = if tiled {
        let w = dec.find_tag_unsigned::<u32>(tiff::tags::Tag::TileWidth)?;
        let h = dec.find_tag_unsigned::<u32>(tiff::tags::Tag::TileLength)?;
        (w.unwrap_or(0) as usize, h.unwrap_or(0) as usize)
    } else {
        let rps = dec.find_tag_unsigned::<u32>(tiff::tags::Tag::RowsPerStrip)?;
        (width, rps.map_or(height, |r| (r as usize).min(height)))
    };
    if cw == 0 || ch == 0 {
        return Err(ChunkError::Corrupt(format!(
            "chunk size {cw}x{ch} is empty"
        )));
    }
    let across = width.div_ceil(cw);
    let down = height.div_ceil(ch);
    let planes = if planar { bands } else { 1 };
    let count = if tiled {
        dec.tile_count()?
    } else {
        dec.strip_count()?
    } as usize;
    if count != across * down * planes {
        return Err(ChunkError::Corrupt(format!(
            "{count} chunks for {planes} plane(s) of {across}x{down} {cw}x{ch} chunks"
        )));
    }

    let spp = if planar { 1 } else { bands };
    // Tiles are decoded at their full stored width (see the module docs for why).
    let tile_row_bytes = (cw * spp * usize::from(bits)).div_ceil(8);
    let mut chunk = DecodingResult::U8(Vec::new());
    let mut out: Option<RasterData> = None;
    for index in 0..count {
        let (plane, rest) = (index / (across * down), index % (across * down));
        let (cx, cy) = (rest % across, rest / across);
        let (x0, y0) = (cx * cw, cy * ch);
        let (cols, rows) = (cw.min(width - x0), ch.min(height - y0));
        if x0 >= win.col0 + win.cols
            || x0 + cols <= win.col0
            || y0 >= win.row0 + win.rows
            || y0 + rows <= win.row0
        {
            continue; // outside the window: not decoded at all
        }
        let place = Placement {
            plane,
            x0,
            y0,
            buf_width: cw,
            cols,
            rows,
            spp,
        };
        if let Some(lerc) = lerc {
            // A LERC blob is as wide as its chunk (tiles padded, like the other codecs).
            lerc.read(dec, index, &mut chunk)
                .map_err(ChunkError::Corrupt)?;
        } else if tiled {
            dec.read_chunk_to_buffer(&mut chunk, index as u32, tile_row_bytes)?;
        } else {
            chunk = dec.read_chunk(index as u32)?;
        }
        if bits == 1 {
            unpack_bits(&mut chunk, cw)?;
        }
        if out.is_none() {
            out = Some(empty_like(&chunk, total).ok_or_else(unsupported_type)?);
        }
        if let Some(out) = out.as_mut() {
            blit_any(out, &chunk, &place, win)?;
        }
    }
    out.ok_or_else(|| ChunkError::Corrupt("image has no chunks".into()))
}

/// Unpacks 1-bit rows (each padded to a whole byte, most significant bit first) of `width`
/// pixels into one byte per pixel.
fn unpack_bits(chunk: &mut DecodingResult, width: usize) -> Result<(), ChunkError> {
    let DecodingResult::U8(packed) = chunk else {
        return Err(ChunkError::Corrupt(
            "1-bit chunk decoded to wide samples".into(),
        ));
    };
    let row_bytes = width.div_ceil(8);
    let unpacked = packed
        .chunks_exact(row_bytes)
        .flat_map(|row| (0..width).map(move |x| (row[x / 8] >> (7 - x % 8)) & 1))
        .collect();
    *packed = unpacked;
    Ok(())
}

/// Bytes per decoded sample: 16-bit floats become `f32`.
pub(crate) fn out_sample_bytes<R: Read + Seek>(
    dec: &mut Decoder<R>,
    bits: u8,
) -> Result<usize, TiffError> {
    Ok(match bits {
        16 if is_float(dec)? => 4,
        b => usize::from(b.div_ceil(8)),
    })
}

/// Whether the current image's samples are IEEE floats (SampleFormat 3).
fn is_float<R: Read + Seek>(dec: &mut Decoder<R>) -> Result<bool, TiffError> {
    const IEEE_FP: u16 = 3;
    Ok(dec
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)?
        .is_some_and(|f| f.first() == Some(&IEEE_FP)))
}

fn unsupported_type() -> ChunkError {
    ChunkError::Unsupported(
        "64-bit integer samples (supported: u8, i8, u16, i16, u32, i32, f16, f32, f64)".into(),
    )
}

/// A zeroed output of the chunk's sample type (`f32` for float16); `None` for types
/// `RasterData` cannot hold.
fn empty_like(chunk: &DecodingResult, n: usize) -> Option<RasterData> {
    Some(match chunk {
        DecodingResult::U8(_) => RasterData::U8(vec![0; n]),
        DecodingResult::I8(_) => RasterData::I8(vec![0; n]),
        DecodingResult::U16(_) => RasterData::U16(vec![0; n]),
        DecodingResult::I16(_) => RasterData::I16(vec![0; n]),
        DecodingResult::U32(_) => RasterData::U32(vec![0; n]),
        DecodingResult::I32(_) => RasterData::I32(vec![0; n]),
        DecodingResult::F32(_) | DecodingResult::F16(_) => RasterData::F32(vec![0.0; n]),
        DecodingResult::F64(_) => RasterData::F64(vec![0.0; n]),
        DecodingResult::U64(_) | DecodingResult::I64(_) => return None,
    })
}

fn blit_any(
    out: &mut RasterData,
    chunk: &DecodingResult,
    p: &Placement,
    win: Window,
) -> Result<(), ChunkError> {
    match (out, chunk) {
        (RasterData::U8(o), DecodingResult::U8(c)) => blit(o, c, p, win, |v| v),
        (RasterData::I8(o), DecodingResult::I8(c)) => blit(o, c, p, win, |v| v),
        (RasterData::U16(o), DecodingResult::U16(c)) => blit(o, c, p, win, |v| v),
        (RasterData::I16(o), DecodingResult::I16(c)) => blit(o, c, p, win, |v| v),
        (RasterData::U32(o), DecodingResult::U32(c)) => blit(o, c, p, win, |v| v),
        (RasterData::I32(o), DecodingResult::I32(c)) => blit(o, c, p, win, |v| v),
        (RasterData::F32(o), DecodingResult::F32(c)) => blit(o, c, p, win, |v| v),
        (RasterData::F32(o), DecodingResult::F16(c)) => blit(o, c, p, win, |v| v.to_f32()),
        (RasterData::F64(o), DecodingResult::F64(c)) => blit(o, c, p, win, |v| v),
        _ => Err(ChunkError::Corrupt(
            "chunks have different sample types".into(),
        )),
    }
}

/// Copies the part of one decoded chunk (`[rows][buf_width][spp]`) inside `win` into
/// `[C, win.rows, win.cols]`, converting each sample with `convert`.
fn blit<S: Copy, T>(
    out: &mut [T],
    chunk: &[S],
    p: &Placement,
    win: Window,
    convert: impl Fn(S) -> T,
) -> Result<(), ChunkError> {
    let row_len = p.buf_width * p.spp;
    if row_len == 0 || chunk.len() < p.rows * row_len {
        return Err(ChunkError::Corrupt(format!(
            "chunk at ({}, {}) decoded to {} samples, needs {} rows of {row_len}",
            p.x0,
            p.y0,
            chunk.len(),
            p.rows
        )));
    }
    let plane_len = win.rows * win.cols;
    let (r_lo, r_hi) = (p.y0.max(win.row0), (p.y0 + p.rows).min(win.row0 + win.rows));
    let (c_lo, c_hi) = (p.x0.max(win.col0), (p.x0 + p.cols).min(win.col0 + win.cols));
    for r in r_lo..r_hi {
        let row = &chunk[(r - p.y0) * row_len..][..row_len];
        let dst_row = (r - win.row0) * win.cols;
        for s in 0..p.spp {
            let band = p.plane + s;
            let dst = &mut out[band * plane_len + dst_row + (c_lo - win.col0)..][..c_hi - c_lo];
            for (i, d) in dst.iter_mut().enumerate() {
                *d = convert(row[(c_lo - p.x0 + i) * p.spp + s]);
            }
        }
    }
    Ok(())
}
