//! The file under a [`super::ParquetTable`]: a `parquet` [`ChunkReader`] whose page-header
//! reads fail at the end of the file instead of returning 0 bytes.
//!
//! `parquet` 60.1 skips unknown Thrift fields in page headers with `io::copy` over a
//! `Take`, which ends quietly at end of file, so a header claiming a list of 2³¹ doubles reads
//! nothing 2³¹ times: one `read` syscall each, minutes for a 2 KB file. Failing at end of
//! file bounds every skip by the bytes that exist (`fuzz/known/parquet_slow_*.parquet`).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use parquet::file::reader::{ChunkReader, Length};

/// A Parquet file with its length taken once at open (clones share the file).
#[derive(Clone)]
pub(super) struct ParquetSource {
    file: Arc<File>,
    len: u64,
}

impl ParquetSource {
    pub(super) fn new(file: File, len: u64) -> Self {
        Self {
            file: Arc::new(file),
            len,
        }
    }
}

impl Length for ParquetSource {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for ParquetSource {
    type T = StrictRead;

    fn get_read(&self, start: u64) -> parquet::errors::Result<StrictRead> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        Ok(StrictRead {
            inner: BufReader::new(file),
            left: self.len.saturating_sub(start),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        // Exactly `length` bytes or an error; `parquet` asks only for ranges inside a column
        // chunk, and `check_chunk_ranges` keeps chunks inside the file.
        self.file.get_bytes(start, length)
    }
}

/// A reader over the rest of the file that fails with `UnexpectedEof` once nothing is left
/// (a non-empty read at end of file is an error, not `Ok(0)`).
pub(super) struct StrictRead {
    inner: BufReader<File>,
    left: u64,
}

impl Read for StrictRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a page header runs past the end of the file",
            ));
        }
        let cap = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..cap])?;
        if n == 0 {
            // The file shrank under us.
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        Ok(n)
    }
}
