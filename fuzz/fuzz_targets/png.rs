//! PNG reader on arbitrary bytes. Errors are fine; a panic (even one the reader's guard
//! catches), a hang or a huge allocation is a finding.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panopticon_data::readers::decode_png;

fuzz_target!(|data: &[u8]| {
    let _ = decode_png(Cursor::new(data), Path::new("fuzz.png"), 1 << 24);
});
