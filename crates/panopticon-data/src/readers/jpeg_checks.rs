//! Marker checks run before `zune-jpeg` decodes a file, for structures it panics on.
//!
//! `zune-jpeg` 0.5.15 panics in its AVX2 IDCT (`idct/avx2.rs:247`, an `unwrap` on an output
//! slice) on a sequential (baseline or extended, SOF0/SOF1) frame with subsampled components
//! whose scan holds only some of them (a non-interleaved scan): found by `fuzz/`'s `jpeg`
//! target, the same panic as upstream zune-image issue #409. Such files are legal but rare
//! (libjpeg writes them only with a custom scan script); they get a typed error here.

/// Walks the markers up to the end of the image; `Err` names the unsupported structure.
/// Anything else malformed is left to the decoder, which reports it.
pub(super) fn check_scans(bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Ok(());
    }
    // (SOF marker, component count, whether the components' sampling factors differ)
    let mut frame: Option<(u8, usize, bool)> = None;
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            // A segment whose length disagrees with its content: the decoder reads the
            // content and carries on at the next marker, so resynchronise the same way.
            pos += 1;
            continue;
        }
        let marker = bytes[pos + 1];
        match marker {
            0xFF => {
                pos += 1; // fill byte
                continue;
            }
            0x01 | 0xD0..=0xD8 => {
                pos += 2; // no length
                continue;
            }
            0xD9 => return Ok(()),
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        let Some(segment) = bytes.get(pos + 4..pos + 2 + len.max(2)) else {
            return Ok(());
        };
        match marker {
            // SOFn (not DHT C4, JPG C8, DAC CC): P, Y, X, Nf, then Nf × (id, HV, Tq).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let nf = usize::from(*segment.get(5).unwrap_or(&0));
                let factors: Vec<u8> = (0..nf)
                    .filter_map(|i| segment.get(7 + 3 * i))
                    .copied()
                    .collect();
                let subsampled = factors.windows(2).any(|w| w[0] != w[1]);
                frame = Some((marker, nf, subsampled));
            }
            // SOS: Ns, then the scan's components; entropy-coded data follows up to a marker.
            0xDA => {
                let ns = usize::from(*segment.first().unwrap_or(&0));
                if let Some((0xC0 | 0xC1, nf, true)) = frame
                    && ns < nf
                {
                    return Err(format!(
                        "a sequential JPEG whose scan holds {ns} of its {nf} subsampled \
                         components (non-interleaved scans) is not supported; re-save it \
                         as a baseline interleaved JPEG"
                    ));
                }
                pos += 2 + len;
                while pos + 1 < bytes.len()
                    && (bytes[pos] != 0xFF || matches!(bytes[pos + 1], 0x00 | 0xD0..=0xD7))
                {
                    pos += 1;
                }
                continue;
            }
            _ => {}
        }
        pos += 2 + len;
    }
    Ok(())
}
