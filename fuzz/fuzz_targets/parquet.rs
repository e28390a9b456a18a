//! Parquet reader on arbitrary bytes: open, then every top-level column read as each
//! supported type (most fail with `WrongType`, which is fine). Errors are fine; a panic (even
//! one the reader's guard catches), a hang or a huge allocation is a finding.
#![no_main]

#[path = "tmpfile.rs"]
mod tmpfile;

use libfuzzer_sys::fuzz_target;
use panopticon_data::readers::ParquetTable;

fuzz_target!(|data: &[u8]| {
    let path = tmpfile::write(data, "parquet");
    let Ok(table) = ParquetTable::open(&path) else {
        return;
    };
    let _ = table.num_rows();
    for name in table.column_names() {
        let _ = table.column::<String>(&name);
        let _ = table.column::<i64>(&name);
        let _ = table.column::<i32>(&name);
        let _ = table.column::<f64>(&name);
        let _ = table.column::<f32>(&name);
        let _ = table.column::<bool>(&name);
        let _ = table.column::<Option<i64>>(&name);
        let _ = table.column::<Option<f64>>(&name);
        let _ = table.column::<Vec<String>>(&name);
        let _ = table.column::<Vec<Option<f64>>>(&name);
        let _ = table.column::<Vec<Vec<String>>>(&name);
    }
});
