//! `ChnPad(size)`: pads a crop to a fixed channel count and builds `spec_masks` (§4.7).

use super::error::{AugmentError, Result};
use super::image::{Crop, Image};

/// Pads with all-zero channels that repeat the last chn_id and are marked in `spec_masks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChnPad {
    /// Target channel count; `None` disables padding (upstream `size < 0`).
    pub size: Option<usize>,
}

impl ChnPad {
    /// Pads `img` (`[C, S, S]`) into a crop.
    ///
    /// # Shapes
    /// - `img`: `[C, S, S]` (square; non-square images are rejected).
    /// - returns `[max(C, size), S, S]`; `spec_masks[c] = c >= C`.
    pub fn apply(&self, img: Image) -> Result<Crop> {
        let [c, h, w] = img.shape();
        if h != w {
            return Err(AugmentError::InvalidConfig {
                name: "ChnPad input",
                value: format!("{h}x{w}"),
                expected: "a square crop (run ListRandomResizeCrop first)",
            });
        }
        let target = self.size.unwrap_or(c);
        if c > target {
            return Err(AugmentError::TooManyChannels {
                channels: c,
                size: target,
            });
        }
        let (mut imgs, mut chn_ids) = img.into_parts();
        // Image::new guarantees c >= 1, so a last id exists.
        let last = chn_ids[c - 1];
        imgs.resize(target * h * w, 0.0);
        chn_ids.resize(target, last);
        let spec_masks = (0..target).map(|i| i >= c).collect();
        Ok(Crop {
            size: h,
            imgs,
            chn_ids,
            spec_masks,
        })
    }
}
