//! LERC (compression 34887) chunks, which `tiff` does not decode: each strip/tile is a Lerc2
//! blob, optionally wrapped in Deflate or ZSTD (GDAL's `COMPRESS=LERC_DEFLATE` / `LERC_ZSTD`,
//! LercParameters tag 50674 = [version, 0 none | 1 Deflate | 2 ZSTD]). The blob holds the
//! chunk's samples pixel-interleaved (depth = samples per pixel), as the TIFF chunk does.
//! Pixels the blob marks invalid are NaN in float images, as libtiff's LERC codec returns them.

use std::io::{Read, Seek, SeekFrom};

use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

/// LercParameters (GDAL's private tag).
const LERC_PARAMETERS: u16 = 50674;

/// Where the chunks of a LERC image are and how they are wrapped.
pub(crate) struct LercChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
    wrapper: u32,
    max_bytes: usize,
}

impl LercChunks {
    /// Reads the chunk table and LercParameters of the decoder's current image.
    pub(crate) fn new<R: Read + Seek>(
        dec: &mut Decoder<R>,
        tiled: bool,
        max_bytes: usize,
    ) -> Result<Self, String> {
        let (off_tag, count_tag) = if tiled {
            (Tag::TileOffsets, Tag::TileByteCounts)
        } else {
            (Tag::StripOffsets, Tag::StripByteCounts)
        };
        let vec = |dec: &mut Decoder<R>, tag: Tag| {
            dec.find_tag_unsigned_vec::<u64>(tag)
                .map_err(|e| format!("tag {tag:?}: {e}"))?
                .ok_or_else(|| format!("tag {tag:?} is missing"))
        };
        let offsets = vec(dec, off_tag)?;
        let counts = vec(dec, count_tag)?;
        if offsets.len() != counts.len() {
            return Err(format!(
                "{} chunk offsets but {} byte counts",
                offsets.len(),
                counts.len()
            ));
        }
        let params = dec
            .find_tag_unsigned_vec::<u32>(Tag::Unknown(LERC_PARAMETERS))
            .map_err(|e| format!("LercParameters: {e}"))?
            .unwrap_or_default();
        let wrapper = params.get(1).copied().unwrap_or(0);
        if wrapper > 2 {
            return Err(format!(
                "LERC with additional compression {wrapper} (supported: 0 none, 1 Deflate, 2 ZSTD)"
            ));
        }
        Ok(Self {
            offsets,
            counts,
            wrapper,
            max_bytes,
        })
    }

    /// Decodes chunk `index` into `out` (its samples, pixel-interleaved, rows of the blob's
    /// width). `Err` is a message for `Corrupt`.
    pub(crate) fn read<R: Read + Seek>(
        &self,
        dec: &mut Decoder<R>,
        index: usize,
        out: &mut DecodingResult,
    ) -> Result<(), String> {
        let (Some(&offset), Some(&count)) = (self.offsets.get(index), self.counts.get(index))
        else {
            return Err(format!("chunk {index} is not in the chunk table"));
        };
        let count = usize::try_from(count)
            .ok()
            .filter(|&c| c <= self.max_bytes)
            .ok_or_else(|| format!("chunk {index} claims {count} bytes"))?;
        let mut raw = vec![0u8; count];
        let r = dec.inner();
        r.seek(SeekFrom::Start(offset))
            .and_then(|_| r.read_exact(&mut raw))
            .map_err(|e| format!("chunk {index}: {e}"))?;
        let blob = self.unwrap(raw)?;
        let info = lerc::decode_info(&blob).map_err(|e| format!("LERC chunk {index}: {e}"))?;
        let samples = u64::from(info.width) * u64::from(info.height) * u64::from(info.depth);
        if samples.saturating_mul(8) > self.max_bytes as u64 {
            return Err(format!("LERC chunk {index} holds {samples} samples"));
        }
        let image = lerc::decode(&blob).map_err(|e| format!("LERC chunk {index}: {e}"))?;
        *out = to_result(image);
        Ok(())
    }

    fn unwrap(&self, raw: Vec<u8>) -> Result<Vec<u8>, String> {
        let limit = self.max_bytes as u64 + 1;
        let mut blob = Vec::new();
        let res = match self.wrapper {
            1 => flate2::read::ZlibDecoder::new(raw.as_slice())
                .take(limit)
                .read_to_end(&mut blob),
            2 => zstd::stream::read::Decoder::new(raw.as_slice())
                .and_then(|d| d.take(limit).read_to_end(&mut blob)),
            _ => return Ok(raw),
        };
        res.map_err(|e| format!("LERC wrapper: {e}"))?;
        if blob.len() as u64 >= limit {
            return Err("LERC wrapper inflates past the decoding limit".into());
        }
        Ok(blob)
    }
}

/// The blob's samples with invalid float pixels set to NaN.
fn to_result(image: lerc::Image) -> DecodingResult {
    use lerc::SampleData as S;
    let depth = image.depth.max(1) as usize;
    let invalid: Vec<usize> = image
        .valid_masks
        .first()
        .filter(|m| !m.is_all_valid())
        .map(|m| (0..m.num_pixels()).filter(|&k| !m.is_valid(k)).collect())
        .unwrap_or_default();
    match image.data {
        S::U8(v) => DecodingResult::U8(v),
        S::I8(v) => DecodingResult::I8(v),
        S::U16(v) => DecodingResult::U16(v),
        S::I16(v) => DecodingResult::I16(v),
        S::U32(v) => DecodingResult::U32(v),
        S::I32(v) => DecodingResult::I32(v),
        S::F32(mut v) => {
            for &k in &invalid {
                if let Some(px) = v.get_mut(k * depth..(k + 1) * depth) {
                    px.fill(f32::NAN);
                }
            }
            DecodingResult::F32(v)
        }
        S::F64(mut v) => {
            for &k in &invalid {
                if let Some(px) = v.get_mut(k * depth..(k + 1) * depth) {
                    px.fill(f64::NAN);
                }
            }
            DecodingResult::F64(v)
        }
    }
}
