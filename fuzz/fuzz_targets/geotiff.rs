//! GeoTIFF reader on arbitrary bytes: the whole-image decode, then a window of the same file
//! through `GeoTiff::read` (covers the strip/tile selection in `chunks.rs`). Errors are fine;
//! a panic (even one the reader's guard catches), a hang or a huge allocation is a finding.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panopticon_data::readers::{GeoTiff, decode_geotiff};

/// Decoded-size cap, well under libFuzzer's `-rss_limit_mb`.
const MAX_BYTES: usize = 1 << 24;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.tif");
    let _ = decode_geotiff(Cursor::new(data), path, MAX_BYTES);
    if let Ok(mut tif) = GeoTiff::from_reader(Cursor::new(data), path, MAX_BYTES) {
        let (h, w) = (tif.height, tif.width);
        // An interior window (when the image has one), then an out-of-bounds one.
        if h > 1 && w > 1 {
            let _ = tif.read(h / 2, w / 3, h - h / 2, (w - w / 3).min(7));
        }
        let _ = tif.read(h, w, 1, 1);
    }
});
