//! A bounded walk over the page headers of a column's chunks, run before `parquet` reads them.
//!
//! `parquet` 60.1 skips unknown Thrift fields of a page header with a loop per collection
//! element, and a `bool` element takes no bytes in its skip: a 6-byte field claiming a list
//! of 2³¹ booleans costs seconds of CPU, and a few hundred of them in a small file cost
//! hours (`fuzz/known/parquet_slow_thrift_skip.parquet`). This walk reads each header the way
//! `parquet` does (its field ids and types for the known fields of `PageHeader` and its
//! sub-headers, generic skipping for the rest, statistics skipped as the reader's default
//! does) and refuses a chunk once its headers would take more collection elements than twice
//! the chunk's bytes. Real headers hold no collections at all, so nothing real is refused,
//! and `parquet`'s own walk after this one is linear in the file size.

use std::io::Read;
use std::path::Path;

use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};

use super::parquet_checks::column_leaves;
use super::parquet_error::{ParquetError, corrupt};
use super::parquet_source::ParquetSource;

/// Thrift compact field/element types (`parquet_thrift::FieldType`).
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
const UUID: u8 = 13;

/// `parquet`'s skip depth (`DEFAULT_SKIP_DEPTH`).
const SKIP_DEPTH: u32 = 64;

/// Walks the page headers of every chunk of top-level column `name`. Errors name the
/// column, row group and page.
pub(super) fn check_page_headers(
    reader: &SerializedFileReader<ParquetSource>,
    source: &ParquetSource,
    path: &Path,
    name: &str,
) -> Result<(), ParquetError> {
    let leaves = column_leaves(reader, name);
    for (g, group) in reader.metadata().row_groups().iter().enumerate() {
        for &leaf in &leaves {
            let chunk = group.column(leaf);
            // `check_chunk_ranges` ran at open: both are non-negative and inside the file.
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset()) as u64;
            let len = chunk.compressed_size() as u64;
            walk_chunk(source, start, len).map_err(|(page, why)| {
                corrupt(
                    path,
                    format!(
                        "column `{name}` (leaf `{}`) row group {g} page {page}: {why}",
                        chunk.column_path().string()
                    ),
                )
            })?;
        }
    }
    Ok(())
}

/// Walks the pages of the chunk at `start..start + len`; on failure, the page index and why.
fn walk_chunk(source: &ParquetSource, start: u64, len: u64) -> Result<(), (usize, String)> {
    let mut budget = len.saturating_mul(2).saturating_add(1024);
    let (mut offset, mut remaining) = (start, len);
    let mut page = 0;
    while remaining > 0 {
        let read = source.get_read(offset).map_err(|e| (page, e.to_string()))?;
        let mut h = Header {
            read,
            left: remaining,
            budget: &mut budget,
        };
        let compressed = h.page_header().map_err(|why| (page, why))?;
        let header_len = remaining - h.left;
        remaining = h.left;
        let body = u64::try_from(compressed)
            .ok()
            .filter(|&c| c <= remaining)
            .ok_or_else(|| {
                (
                    page,
                    format!("compressed size {compressed} does not fit the chunk's {remaining} bytes left"),
                )
            })?;
        offset += header_len + body;
        remaining -= body;
        page += 1;
    }
    Ok(())
}

/// One page header being read: at most `left` bytes (the rest of the chunk), and at most
/// `budget` collection elements for the whole chunk.
struct Header<'b, R> {
    read: R,
    left: u64,
    budget: &'b mut u64,
}

impl<R: Read> Header<'_, R> {
    fn byte(&mut self) -> Result<u8, String> {
        if self.left == 0 {
            return Err("the page header runs past the end of its column chunk".into());
        }
        let mut b = [0u8];
        self.read
            .read_exact(&mut b)
            .map_err(|e| format!("cannot read the page header: {e}"))?;
        self.left -= 1;
        Ok(b[0])
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), String> {
        if n > self.left {
            return Err(format!(
                "a {n}-byte field runs past the end of its column chunk"
            ));
        }
        let copied = std::io::copy(&mut (&mut self.read).take(n), &mut std::io::sink())
            .map_err(|e| format!("cannot read the page header: {e}"))?;
        if copied != n {
            return Err("the page header runs past the end of the file".into());
        }
        self.left -= n;
        Ok(())
    }

    /// ULEB128, read as `parquet` does (continuation bytes until one without the high bit).
    fn vlq(&mut self) -> Result<u64, String> {
        let (mut value, mut shift) = (0u64, 0u32);
        loop {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).wrapping_shl(shift);
            if b & 0x80 == 0 {
                return Ok(value);
            }
            shift = shift.wrapping_add(7);
        }
    }

    fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.vlq()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// Takes `n` collection elements from the chunk's budget.
    fn spend(&mut self, n: u64) -> Result<(), String> {
        *self.budget = self.budget.checked_sub(n).ok_or_else(|| {
            format!("a collection of {n} elements in a page header is more than its chunk can hold")
        })?;
        Ok(())
    }

    /// A field header: `None` at the stop field, else (type, id) as `read_field_begin` gives.
    fn field(&mut self, last_id: i16) -> Result<Option<(u8, i16)>, String> {
        let b = self.byte()?;
        let ty = b & 0x0f;
        if ty == 0 {
            return Ok(None);
        }
        if ty > UUID {
            return Err(format!("invalid Thrift field type {ty}"));
        }
        let delta = (b >> 4) as i16;
        let id = if delta != 0 {
            last_id
                .checked_add(delta)
                .ok_or("a Thrift field id overflows")?
        } else {
            self.zigzag()? as i16
        };
        Ok(Some((ty, id)))
    }

    /// `skip_till_depth`, with collection sizes charged to the budget.
    fn skip(&mut self, ty: u8, depth: u32) -> Result<(), String> {
        if depth == 0 {
            return Err("Thrift fields nested too deeply".into());
        }
        match ty {
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            BYTE => self.byte().map(drop),
            I16 | I32 | I64 => self.vlq().map(drop),
            DOUBLE => self.skip_bytes(8),
            UUID => self.skip_bytes(16),
            BINARY => {
                let n = self.vlq()?;
                self.skip_bytes(n)
            }
            STRUCT => {
                while let Some((ty, _)) = self.field(0)? {
                    self.skip(ty, depth - 1)?;
                }
                Ok(())
            }
            LIST | SET => {
                let header = self.byte()?;
                if header == 0 {
                    return Ok(());
                }
                let elem = header & 0x0f;
                if !(BOOL_TRUE..=UUID).contains(&elem) {
                    return Err(format!("invalid Thrift element type {elem}"));
                }
                let n = match header >> 4 {
                    15 => {
                        let n = self.vlq()?;
                        i32::try_from(n).map_err(|_| format!("a list of {n} elements"))? as u64
                    }
                    n => u64::from(n),
                };
                self.spend(n)?;
                (0..n).try_for_each(|_| self.skip(elem, depth - 1))
            }
            MAP => {
                let n = self.vlq()?;
                let n = i32::try_from(n).map_err(|_| format!("a map of {n} entries"))?;
                if n <= 0 {
                    return Ok(());
                }
                let kv = self.byte()?;
                let (k, v) = (kv >> 4, kv & 0x0f);
                if !(BOOL_TRUE..=UUID).contains(&k) || !(BOOL_TRUE..=UUID).contains(&v) {
                    return Err(format!("invalid Thrift map types {kv:#04x}"));
                }
                self.spend(2 * n as u64)?;
                (0..n).try_for_each(|_| {
                    self.skip(k, depth - 1)?;
                    self.skip(v, depth - 1)
                })
            }
            _ => Err(format!("invalid Thrift type {ty}")),
        }
    }

    /// A struct whose fields are read by id: `kind(id)` says how, unknown ids are skipped.
    fn known_struct(&mut self, kind: fn(i16) -> Known) -> Result<Vec<(i16, i64)>, String> {
        let (mut last, mut ints) = (0i16, Vec::new());
        while let Some((ty, id)) = self.field(last)? {
            match kind(id) {
                // `parquet` reads a varint whatever the declared type.
                Known::Int => ints.push((id, self.zigzag()?)),
                Known::Bool if ty == BOOL_TRUE || ty == BOOL_FALSE => {}
                Known::Bool => return Err(format!("field {id} should be a bool")),
                Known::DataPageV1 => drop(self.known_struct(data_page_v1)?),
                Known::Index => drop(self.known_struct(|_| Known::Skip)?),
                Known::Dictionary => drop(self.known_struct(dictionary_page)?),
                Known::DataPageV2 => drop(self.known_struct(data_page_v2)?),
                Known::Skip => self.skip(ty, SKIP_DEPTH)?,
            }
            last = id;
        }
        Ok(ints)
    }

    /// A whole `PageHeader`; its compressed page size.
    fn page_header(&mut self) -> Result<i32, String> {
        let ints = self.known_struct(page_header)?;
        let get = |id| ints.iter().rev().find(|(i, _)| *i == id).map(|&(_, v)| v);
        for (id, what) in [(1, "type"), (2, "uncompressed_page_size")] {
            get(id).ok_or(format!("the page header has no {what}"))?;
        }
        let compressed = get(3).ok_or("the page header has no compressed_page_size")?;
        Ok(compressed as i32)
    }
}

/// How `parquet` reads a known field of a page header struct.
enum Known {
    Int,
    Bool,
    DataPageV1,
    Index,
    Dictionary,
    DataPageV2,
    Skip,
}

fn page_header(id: i16) -> Known {
    match id {
        1..=4 => Known::Int,
        5 => Known::DataPageV1,
        6 => Known::Index,
        7 => Known::Dictionary,
        8 => Known::DataPageV2,
        _ => Known::Skip,
    }
}

/// `DataPageHeader` without statistics (field 5 skipped by its declared type).
fn data_page_v1(id: i16) -> Known {
    match id {
        1..=4 => Known::Int,
        _ => Known::Skip,
    }
}

fn dictionary_page(id: i16) -> Known {
    match id {
        1 | 2 => Known::Int,
        3 => Known::Bool,
        _ => Known::Skip,
    }
}

/// `DataPageHeaderV2` without statistics (field 8 skipped by its declared type).
fn data_page_v2(id: i16) -> Known {
    match id {
        1..=6 => Known::Int,
        7 => Known::Bool,
        _ => Known::Skip,
    }
}
