//! A reader that shows a few bytes of the file with other values.
//!
//! `tiff` 0.11.3 refuses to decode an IFD whose PhotometricInterpretation is 4 (transparency
//! mask), although GDAL's per-dataset masks are plain 1-bit samples compressed like any other
//! image. Presenting that one tag value as 1 (BlackIsZero) lets the crate's decompressors and
//! predictors read the mask; the file itself is never written.

use std::io::{Read, Result, Seek, SeekFrom};

use tiff::tags::ByteOrder;

/// `inner` with `patches` (file offset, replacement bytes) laid over what it reads.
pub(crate) struct Patched<R> {
    inner: R,
    pos: u64,
    patches: Vec<(u64, [u8; 2])>,
}

impl<R> Patched<R> {
    /// The wrapped reader (e.g. a remote source, for prefetching).
    pub(crate) fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read + Seek> Patched<R> {
    pub(crate) fn new(mut inner: R) -> Result<Self> {
        let pos = inner.stream_position()?;
        Ok(Self {
            inner,
            pos,
            patches: Vec::new(),
        })
    }

    /// Makes the SHORT tag `tag` of the IFD at `ifd_offset` read as `value`. Returns `false`
    /// when the IFD has no such entry with an inline SHORT value.
    pub(crate) fn patch_short_tag(
        &mut self,
        ifd_offset: u64,
        bigtiff: bool,
        order: ByteOrder,
        tag: u16,
        value: u16,
    ) -> Result<bool> {
        let u16_of = |b: [u8; 2]| match order {
            ByteOrder::LittleEndian => u16::from_le_bytes(b),
            ByteOrder::BigEndian => u16::from_be_bytes(b),
        };
        let (count_len, entry_len, value_at) = if bigtiff { (8, 20, 12) } else { (2, 12, 8) };
        let here = self.inner.stream_position()?;
        self.inner.seek(SeekFrom::Start(ifd_offset))?;
        let mut count = [0u8; 8];
        self.inner.read_exact(&mut count[..count_len])?;
        let count = match (bigtiff, order) {
            (false, _) => u64::from(u16_of([count[0], count[1]])),
            (true, ByteOrder::LittleEndian) => u64::from_le_bytes(count),
            (true, ByteOrder::BigEndian) => u64::from_be_bytes(count),
        };
        let mut found = false;
        let mut entry = [0u8; 20];
        for i in 0..count.min(4096) {
            let at = ifd_offset + count_len as u64 + i * entry_len as u64;
            self.inner.seek(SeekFrom::Start(at))?;
            self.inner.read_exact(&mut entry[..entry_len])?;
            const SHORT: u16 = 3;
            if u16_of([entry[0], entry[1]]) == tag && u16_of([entry[2], entry[3]]) == SHORT {
                let bytes = match order {
                    ByteOrder::LittleEndian => value.to_le_bytes(),
                    ByteOrder::BigEndian => value.to_be_bytes(),
                };
                self.patches.push((at + value_at, bytes));
                found = true;
                break;
            }
        }
        self.inner.seek(SeekFrom::Start(here))?;
        Ok(found)
    }
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.inner.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        for (at, bytes) in &self.patches {
            for (k, b) in bytes.iter().enumerate() {
                let p = at + k as u64;
                if p >= start && p < end {
                    buf[(p - start) as usize] = *b;
                }
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl<R: Seek> Seek for Patched<R> {
    fn seek(&mut self, to: SeekFrom) -> Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read, Seek, SeekFrom};

    use tiff::tags::ByteOrder;

    use super::Patched;

    #[test]
    fn patches_one_inline_short_and_nothing_else() {
        // Classic little-endian IFD at 8: two entries, tag 256 (SHORT 7), tag 262 (SHORT 4).
        let mut file = b"II*\0\x08\0\0\0".to_vec();
        file.extend([2, 0]);
        file.extend([0, 1, 3, 0, 1, 0, 0, 0, 7, 0, 0, 0]);
        file.extend([6, 1, 3, 0, 1, 0, 0, 0, 4, 0, 0, 0]);
        let orig = file.clone();
        let mut r = Patched::new(Cursor::new(file)).unwrap();
        assert!(
            r.patch_short_tag(8, false, ByteOrder::LittleEndian, 262, 1)
                .unwrap()
        );
        assert!(
            !r.patch_short_tag(8, false, ByteOrder::LittleEndian, 999, 1)
                .unwrap()
        );
        r.seek(SeekFrom::Start(0)).unwrap();
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        let mut want = orig.clone();
        want[8 + 2 + 12 + 8] = 1;
        assert_eq!(all, want);
        // Reads that start inside the patched value see it too.
        r.seek(SeekFrom::Start(30)).unwrap();
        let mut b = [0u8; 2];
        r.read_exact(&mut b).unwrap();
        assert_eq!(b, [1, 0]);
    }
}
