//! Which TIFF compressions the reader decodes, and the names it refuses the others by.
//!
//! Decoding itself is the `tiff` crate's (features `deflate`, `lzw`, `zstd`, `jpeg`, `webp`;
//! PackBits is built in), LERC's is `lerc.rs`; checking the tag up front turns "unsupported compression method"
//! into a message that names the codec the way GDAL users know it.

/// Compression tag values the reader decodes.
const SUPPORTED: [u16; 9] = [1, 5, 7, 8, 32773, 32946, 34887, 50000, 50001];

/// The codecs decoded, for error messages and `--help`.
pub(crate) const SUPPORTED_LIST: &str = "none, LZW, Deflate, ZSTD (each with predictor 1, 2 or 3), \
     PackBits, JPEG (incl. YCbCr), WebP, LERC (also with Deflate or ZSTD)";

/// The name of TIFF compression `code` (tag 259), as GDAL's `COMPRESS=` spells it.
pub(crate) fn compression_name(code: u16) -> &'static str {
    match code {
        1 => "none",
        2 => "CCITT RLE",
        3 => "CCITT Group 3 fax",
        4 => "CCITT Group 4 fax",
        5 => "LZW",
        6 => "old-style JPEG",
        7 => "JPEG",
        8 | 32946 => "Deflate",
        32773 => "PackBits",
        32809 => "ThunderScan",
        34661 => "JBIG",
        34676 | 34677 => "SGI LogLuv",
        34712 => "JPEG 2000",
        34887 => "LERC",
        34892 => "lossy JPEG (DNG)",
        34925 => "LZMA",
        50000 => "ZSTD",
        50001 => "WebP",
        50002 | 52546 => "JPEG XL",
        _ => "unknown",
    }
}

/// `Err` with the message for `ReadError::Unsupported` when `code` is not decoded.
pub(crate) fn check_compression(code: u16) -> Result<(), String> {
    if SUPPORTED.contains(&code) {
        return Ok(());
    }
    Err(format!(
        "compression {code} ({}) is not supported (supported: {SUPPORTED_LIST})",
        compression_name(code)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_codec_by_number_and_name() {
        let msg = check_compression(34925).unwrap_err();
        assert!(
            msg.starts_with("compression 34925 (LZMA) is not supported"),
            "{msg}"
        );
        assert!(
            check_compression(34712)
                .unwrap_err()
                .contains("(JPEG 2000)")
        );
        assert!(
            check_compression(999)
                .unwrap_err()
                .contains("999 (unknown)")
        );
        for code in SUPPORTED {
            assert!(check_compression(code).is_ok());
            assert_ne!(compression_name(code), "unknown");
        }
    }
}
