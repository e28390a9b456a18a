//! `panopticon eval` task configs (`TaskConfig::parse`, TOML) on arbitrary UTF-8 text: the
//! dataset id and bands, subset fractions, metrics, sizes and transforms are all checked
//! there. Errors are fine; a panic or a hang is a finding.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panopticon_eval::task::TaskConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = TaskConfig::parse(text, Path::new("fuzz/task.toml"), "fuzz");
    }
});
