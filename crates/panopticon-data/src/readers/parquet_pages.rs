//! Page-level checks run before the `parquet` crate's row decoder sees a column.
//!
//! `parquet` 60.1 panics (`Decoder for dict should have been set`, found by `fuzz/`) when a
//! data page is dictionary-encoded but its column chunk has no dictionary page before it.
//! The panic would be caught, but a corrupt file should be a plain error: the pages of the
//! requested column are walked once (headers + decompression, no value decoding) and such
//! a chunk is refused. Metadata tables are small, so reading their pages twice is cheap.

use std::fs::File;
use std::path::Path;

use parquet::basic::Encoding;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::parquet::{ParquetError, corrupt};

/// Refuses column `name` when a dictionary-encoded data page comes without a dictionary page
/// earlier in its column chunk. Errors name the column, row group and page.
pub(super) fn check_dictionary_pages(
    reader: &SerializedFileReader<File>,
    path: &Path,
    name: &str,
) -> Result<(), ParquetError> {
    let schema = reader.metadata().file_metadata().schema_descr();
    let root_idx = schema
        .root_schema()
        .get_fields()
        .iter()
        .position(|f| f.name() == name);
    let leaves: Vec<usize> = (0..schema.num_columns())
        .filter(|&leaf| Some(schema.get_column_root_idx(leaf)) == root_idx)
        .collect();
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(|e| corrupt(path, e))?;
        for &leaf in &leaves {
            let mut pages = group
                .get_column_page_reader(leaf)
                .map_err(|e| corrupt(path, e))?;
            let mut dictionary = false;
            let mut k = 0;
            while let Some(page) = pages.get_next_page().map_err(|e| corrupt(path, e))? {
                dictionary |= page.is_dictionary_page();
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
