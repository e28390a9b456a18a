//! JPEG reader on arbitrary bytes, through the public entry point with its default limits
//! (so the fuzzer checks those limits against `-rss_limit_mb`). Errors are fine; a panic (even
//! one the reader's guard catches), a hang or a huge allocation is a finding.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panopticon_data::readers::decode_jpeg;

fuzz_target!(|data: &[u8]| {
    let _ = decode_jpeg(data, Path::new("fuzz.jpg"));
});
