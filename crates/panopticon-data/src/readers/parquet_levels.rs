//! Definition and repetition levels checked before `parquet` 60.1's row reader assembles
//! records: a level above the column's maximum makes it assert (`record/triplet.rs:253`,
//! "Cannot extract value, max definition level: 5, current level: 6"; found by `fuzz/`). The
//! requested column's leaves are read once through the column readers (levels and values, no
//! record assembly); metadata tables are small, so the second read is cheap.

use std::fs::File;
use std::path::Path;

use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::DataType;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::parquet_error::{ParquetError, corrupt};

/// Refuses column `name` when a page holds a definition or repetition level above the
/// column's maximum. Errors name the column, row group and level.
pub(super) fn check_levels(
    reader: &SerializedFileReader<File>,
    path: &Path,
    name: &str,
) -> Result<(), ParquetError> {
    let schema = reader.metadata().file_metadata().schema_descr();
    let leaves = super::parquet_checks::column_leaves(reader, name);
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(|e| corrupt(path, e))?;
        for &leaf in &leaves {
            let desc = schema.column(leaf);
            let max = (desc.max_def_level(), desc.max_rep_level());
            let column = group
                .get_column_reader(leaf)
                .map_err(|e| corrupt(path, e))?;
            let bad = match column {
                ColumnReader::BoolColumnReader(r) => first_bad_level(r, max),
                ColumnReader::Int32ColumnReader(r) => first_bad_level(r, max),
                ColumnReader::Int64ColumnReader(r) => first_bad_level(r, max),
                ColumnReader::Int96ColumnReader(r) => first_bad_level(r, max),
                ColumnReader::FloatColumnReader(r) => first_bad_level(r, max),
                ColumnReader::DoubleColumnReader(r) => first_bad_level(r, max),
                ColumnReader::ByteArrayColumnReader(r) => first_bad_level(r, max),
                ColumnReader::FixedLenByteArrayColumnReader(r) => first_bad_level(r, max),
            }
            .map_err(|e| corrupt(path, e))?;
            if let Some((kind, level, max)) = bad {
                return Err(corrupt(
                    path,
                    format!(
                        "column `{name}` row group {g}: a {kind} level of {level}, above the \
                         column's maximum {max}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The first definition or repetition level above `(max_def, max_rep)`, as
/// `(kind, level, maximum)`.
fn first_bad_level<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    (max_def, max_rep): (i16, i16),
) -> parquet::errors::Result<Option<(&'static str, i16, i16)>> {
    let (mut def, mut rep, mut values) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        def.clear();
        rep.clear();
        values.clear();
        let (records, _, levels) =
            reader.read_records(1024, Some(&mut def), Some(&mut rep), &mut values)?;
        if let Some(&d) = def.iter().find(|&&d| d > max_def) {
            return Ok(Some(("definition", d, max_def)));
        }
        if let Some(&r) = rep.iter().find(|&&r| r > max_rep) {
            return Ok(Some(("repetition", r, max_rep)));
        }
        if records == 0 && levels == 0 {
            return Ok(None);
        }
    }
}
