//! The YAML subset reader of BigEarthNet v2's `dataset.yaml` (`parse_yaml`) on arbitrary
//! UTF-8 text. Errors are fine; a panic or a hang is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panopticon_eval::datasets::parse_yaml;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_yaml(text);
    }
});
