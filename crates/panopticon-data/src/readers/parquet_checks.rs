//! Structural checks run before the `parquet` crate decodes, for corrupt inputs on which
//! `parquet` 60.1 panics (found by `fuzz/`). The panics would be caught, but a corrupt file
//! should be a plain error naming what is wrong:
//!
//! * a column chunk whose footer offset or size is negative (`byte_range` asserts);
//! * a dictionary-encoded data page with no dictionary page before it in its column chunk
//!   (`Decoder for dict should have been set`). The pages of the requested column are
//!   walked once (headers + decompression, no value decoding); metadata tables are small,
//!   so reading their pages twice is cheap;
//! * a `BYTE_ARRAY` dictionary page, or a PLAIN `BYTE_ARRAY` data page, whose
//!   length-prefixed values run past its end (the PLAIN decoder slices without a bounds check;
//!   a data page's values start after its levels, whose sizes the page states).

use std::fs::File;
use std::path::Path;

use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::Page;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use super::parquet_error::{ParquetError, corrupt};

/// Refuses a footer whose column chunks have a negative offset or size, or end past the
/// end of the file (`file_len` bytes).
pub(super) fn check_chunk_ranges(
    reader: &SerializedFileReader<File>,
    path: &Path,
    file_len: u64,
) -> Result<(), ParquetError> {
    for (g, group) in reader.metadata().row_groups().iter().enumerate() {
        for chunk in group.columns() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let (data, len) = (chunk.data_page_offset(), chunk.compressed_size());
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(len).ok())
                .and_then(|(s, l)| s.checked_add(l));
            if data < 0 || end.is_none_or(|e| e > file_len) {
                return Err(corrupt(
                    path,
                    format!(
                        "row group {g} column `{}`: chunk at offset {start} with {len} bytes \
                         (data page at {data}) does not fit in the {file_len}-byte file",
                        chunk.column_path()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The leaf columns (physical columns) under top-level column `name`; none when it is absent.
pub(super) fn column_leaves(reader: &SerializedFileReader<File>, name: &str) -> Vec<usize> {
    let schema = reader.metadata().file_metadata().schema_descr();
    let root_idx = schema
        .root_schema()
        .get_fields()
        .iter()
        .position(|f| f.name() == name);
    (0..schema.num_columns())
        .filter(|&leaf| Some(schema.get_column_root_idx(leaf)) == root_idx)
        .collect()
}

/// Refuses column `name` when a dictionary-encoded data page comes without a dictionary page
/// earlier in its column chunk. Errors name the column, row group and page.
pub(super) fn check_dictionary_pages(
    reader: &SerializedFileReader<File>,
    path: &Path,
    name: &str,
) -> Result<(), ParquetError> {
    let schema = reader.metadata().file_metadata().schema_descr();
    let leaves = column_leaves(reader, name);
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(|e| corrupt(path, e))?;
        for &leaf in &leaves {
            let mut pages = group
                .get_column_page_reader(leaf)
                .map_err(|e| corrupt(path, e))?;
            let mut dictionary = false;
            let mut k = 0;
            let byte_array = schema.column(leaf).physical_type() == PhysicalType::BYTE_ARRAY;
            while let Some(page) = pages.get_next_page().map_err(|e| corrupt(path, e))? {
                dictionary |= page.is_dictionary_page();
                if let Page::DictionaryPage {
                    buf, num_values, ..
                } = &page
                    && byte_array
                    && walk_plain_byte_arrays(buf, *num_values as usize) != Ok(*num_values as usize)
                {
                    return Err(corrupt(
                        path,
                        format!(
                            "column `{name}` row group {g}: the dictionary page's \
                             {num_values} strings run past its {} bytes",
                            buf.len()
                        ),
                    ));
                }
                if byte_array
                    && let Some(why) = plain_data_page_overrun(&page, schema.column(leaf).as_ref())
                {
                    return Err(corrupt(
                        path,
                        format!("column `{name}` row group {g} page {k}: {why}"),
                    ));
                }
                let dict_encoded = matches!(
                    page.encoding(),
                    Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY
                );
                if page.is_data_page() && dict_encoded && !dictionary {
                    return Err(corrupt(
                        path,
                        format!(
                            "column `{name}` row group {g} page {k} is dictionary-encoded but \
                             the column chunk has no dictionary page"
                        ),
                    ));
                }
                k += 1;
            }
        }
    }
    Ok(())
}

/// Why a PLAIN `BYTE_ARRAY` data page's values cannot be decoded, if they cannot: the levels
/// in front of them run past the page, or a value's length runs past its end (`parquet` 60.1
/// slices without a bounds check there). Values may end early (nulls), never mid-value.
fn plain_data_page_overrun(page: &Page, column: &ColumnDescriptor) -> Option<String> {
    let (buf, n, levels_len) = match page {
        Page::DataPage {
            buf,
            num_values,
            encoding: Encoding::PLAIN,
            def_level_encoding,
            rep_level_encoding,
            ..
        } => {
            // Version 1: repetition levels, then definition levels, each RLE with a u32
            // length prefix, or BIT_PACKED of a size set by the value count.
            let mut at = 0usize;
            for (max, encoding) in [
                (column.max_rep_level(), *rep_level_encoding),
                (column.max_def_level(), *def_level_encoding),
            ] {
                if max <= 0 {
                    continue;
                }
                let len = match encoding {
                    Encoding::RLE => match buf.get(at..at + 4) {
                        Some(&[a, b, c, d]) => 4 + u32::from_le_bytes([a, b, c, d]) as usize,
                        _ => usize::MAX,
                    },
                    #[allow(deprecated)]
                    Encoding::BIT_PACKED => {
                        let width = (16 - (max as u16).leading_zeros()) as usize;
                        (*num_values as usize * width).div_ceil(8)
                    }
                    _ => return None,
                };
                at = at.saturating_add(len);
            }
            (buf, *num_values, at)
        }
        Page::DataPageV2 {
            buf,
            num_values,
            encoding: Encoding::PLAIN,
            def_levels_byte_len,
            rep_levels_byte_len,
            ..
        } => (
            buf,
            *num_values,
            (*def_levels_byte_len as usize).saturating_add(*rep_levels_byte_len as usize),
        ),
        _ => return None,
    };
    let Some(values) = buf.get(levels_len..) else {
        return Some(format!(
            "its levels run past the page's {} bytes",
            buf.len()
        ));
    };
    walk_plain_byte_arrays(values, n as usize).err().map(|pos| {
        format!(
            "a string at byte {pos} of its values runs past their {} bytes",
            values.len()
        )
    })
}

/// Walks up to `n` PLAIN byte arrays (u32 little-endian length, then the bytes) from the
/// start of `buf`, stopping early at its end: how many there were, or the offset of the one
/// that runs past it.
fn walk_plain_byte_arrays(buf: &[u8], n: usize) -> Result<usize, usize> {
    let mut pos = 0usize;
    for k in 0..n {
        if pos == buf.len() {
            return Ok(k);
        }
        let end = match buf.get(pos..pos + 4) {
            Some(&[a, b, c, d]) => pos
                .checked_add(4 + u32::from_le_bytes([a, b, c, d]) as usize)
                .filter(|&end| end <= buf.len()),
            _ => None,
        };
        pos = end.ok_or(pos)?;
    }
    Ok(n)
}
