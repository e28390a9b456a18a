//! `.pth` checkpoints on arbitrary bytes (see `weights_common.rs`).
#![no_main]

#[path = "weights_common.rs"]
mod weights_common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| weights_common::read_all(data, "pth"));
