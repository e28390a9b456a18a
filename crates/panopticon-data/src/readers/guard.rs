//! Last line of defence against panics inside the decoding crates.
//!
//! `tiff` and `png` still contain internal `assert!`s (`tiff` 0.11.3 panics on some valid
//! band-interleaved tiled files, see `chunks.rs`). A malformed file must give an error, not take
//! the caller down, so decoding runs under `catch_unwind`; the decoder state is dropped with
//! the error. This needs `panic = "unwind"` (the default). The fuzz tests count panics through
//! a panic hook, so a caught panic still fails them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use super::error::ReadError;

/// Runs `decode`, turning a panic into [`ReadError::Corrupt`] for `path`.
pub(crate) fn catch_decoder_panic<T>(
    path: &Path,
    format: &'static str,
    decode: impl FnOnce() -> Result<T, ReadError>,
) -> Result<T, ReadError> {
    catch_unwind(AssertUnwindSafe(decode)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(ReadError::Corrupt {
            path: path.to_path_buf(),
            format,
            message: format!("the decoder panicked ({what})"),
        })
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::catch_decoder_panic;
    use crate::readers::ReadError;

    #[test]
    fn panics_become_corrupt_errors_naming_the_file() {
        let r: Result<(), _> = catch_decoder_panic(Path::new("x.tif"), "GeoTIFF", || {
            panic!("assertion failed: buf.len() >= n")
        });
        let err = r.unwrap_err();
        assert!(matches!(err, ReadError::Corrupt { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("x.tif") && msg.contains("buf.len() >= n"),
            "{msg}"
        );
        let ok = catch_decoder_panic(Path::new("x.tif"), "GeoTIFF", || Ok(7));
        assert_eq!(ok.unwrap(), 7);
    }
}
