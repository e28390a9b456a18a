//! A resource budget for one image, checked from its header before any pixel buffer exists.
//!
//! A file of a few hundred bytes can claim 4e9×4e9 pixels; every size here is computed from
//! such untrusted header fields with saturating arithmetic, and compared to the budget before
//! anything of that size is allocated or decoded.

use std::path::Path;

use super::error::ReadError;

/// Default [`Budget::max_pixels`]: 2³² pixels (a 65536² scene; a Sentinel-2 tile is 1.2e8).
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 32;
/// Default [`Budget::max_bytes`]: 8 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 8 << 30;

/// What one image may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most pixels (height × width) of one image.
    pub max_pixels: u64,
    /// Most bytes of memory one image may need (the decoded samples, for a reader; callers
    /// add what they derive from them).
    pub max_bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_bytes: DEFAULT_MAX_MEMORY,
        }
    }
}

/// The size of an image as its header states it (nothing decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageHeader {
    /// Bands `C`.
    pub bands: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Bytes per stored sample.
    pub sample_bytes: usize,
}

impl ImageHeader {
    /// Height × width, saturating.
    pub fn pixels(&self) -> u64 {
        (self.height as u64).saturating_mul(self.width as u64)
    }

    /// Samples `C·H·W`, saturating.
    pub fn samples(&self) -> u64 {
        self.pixels().saturating_mul(self.bands as u64)
    }

    /// Bytes of the decoded samples in their stored type, saturating.
    pub fn decoded_bytes(&self) -> u64 {
        self.samples().saturating_mul(self.sample_bytes as u64)
    }
}

impl Budget {
    /// Errors ([`ReadError::OverBudget`], naming `path`) when the image has more pixels than
    /// [`Budget::max_pixels`] or `need_bytes` exceeds [`Budget::max_bytes`].
    pub fn check(
        &self,
        path: &Path,
        header: &ImageHeader,
        need_bytes: u64,
    ) -> Result<(), ReadError> {
        let over = |what: String| ReadError::OverBudget {
            path: path.to_path_buf(),
            what,
        };
        if header.pixels() > self.max_pixels {
            return Err(over(format!(
                "{}x{} = {} pixels, over the limit of {} pixels",
                header.height,
                header.width,
                header.pixels(),
                self.max_pixels
            )));
        }
        if need_bytes > self.max_bytes {
            return Err(over(format!(
                "{} for {} band(s) of {}x{} pixels, over the memory limit of {}",
                human_bytes(need_bytes),
                header.bands,
                header.height,
                header.width,
                human_bytes(self.max_bytes)
            )));
        }
        Ok(())
    }

    /// [`Budget::check`] of the decoded samples alone (what a reader allocates).
    pub fn check_decoded(&self, path: &Path, header: &ImageHeader) -> Result<(), ReadError> {
        self.check(path, header, header.decoded_bytes())
    }

    /// The decoded-size cap to hand a decoder's own limit (`usize`, saturating).
    pub fn decoder_limit(&self) -> usize {
        usize::try_from(self.max_bytes).unwrap_or(usize::MAX)
    }
}

/// `n` bytes in binary units (`3.0 GiB`, `512 MiB`, `100 B`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_saturate_and_the_budget_names_what_is_over() {
        let huge = ImageHeader {
            bands: 3,
            height: usize::MAX,
            width: usize::MAX,
            sample_bytes: 8,
        };
        assert_eq!(huge.decoded_bytes(), u64::MAX);
        let b = Budget::default();
        let e = b
            .check_decoded(Path::new("x.tif"), &huge)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.tif") && e.contains("over the limit of"),
            "{e}"
        );
        let big = ImageHeader {
            bands: 13,
            height: 30000,
            width: 30000,
            sample_bytes: 2,
        };
        let e = b
            .check_decoded(Path::new("y.png"), &big)
            .unwrap_err()
            .to_string();
        assert!(e.contains("21.8 GiB") && e.contains("8.0 GiB"), "{e}");
        let ok = ImageHeader {
            bands: 3,
            height: 224,
            width: 224,
            sample_bytes: 1,
        };
        b.check_decoded(Path::new("z.jpg"), &ok).unwrap();
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }
}
