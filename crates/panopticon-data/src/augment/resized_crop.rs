//! `ListRandomResizeCrop`: one random box on the tallest image, proportional boxes on the
//! other resolutions, zero-padded crop, anti-aliased bicubic resize, concatenation (§4.4).

use super::chn_mask::ChannelSelection;
use super::error::{AugmentError, Result};
use super::image::{Image, View};
use super::resize::{Taps, resize_plane};
use super::rng::Draws;

/// A crop box in pixels of one image (may extend past the bottom/right edge: zero-padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    /// First row.
    pub top: usize,
    /// First column.
    pub left: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// torchvision `RandomResizedCrop.get_params` on an `height × width` image.
///
/// Up to 10 tries of `target = area·s`, `s ~ U(scale)` and `ar = exp(U(log ratio))` (both drawn
/// as f32 like torch's `uniform_` on a float tensor), `w = round(sqrt(target·ar))`,
/// `h = round(sqrt(target/ar))` (half to even); accepted boxes draw `top`, then `left`.
/// Fallback: the centred largest box with the ratio clamped into `ratio`.
/// Draws per try: 2, plus 2 on acceptance.
pub fn random_resized_crop_params<R: Draws>(
    height: usize,
    width: usize,
    scale: (f64, f64),
    ratio: (f64, f64),
    rng: &mut R,
) -> CropBox {
    let area = (height * width) as f64;
    // torch.log(torch.tensor(ratio)): f32 logs.
    let log_ratio = ((ratio.0 as f32).ln(), (ratio.1 as f32).ln());
    for _ in 0..10 {
        let s = rng.uniform_range(scale.0, scale.1) as f32;
        let target = area * f64::from(s);
        let log_ar = rng.uniform_range(f64::from(log_ratio.0), f64::from(log_ratio.1)) as f32;
        let ar = f64::from(log_ar.exp());
        let w = (target * ar).sqrt().round_ties_even();
        let h = (target / ar).sqrt().round_ties_even();
        if 0.0 < w && w <= width as f64 && 0.0 < h && h <= height as f64 {
            let (h, w) = (h as usize, w as usize);
            let top = rng.randint(0, height - h);
            let left = rng.randint(0, width - w);
            return CropBox {
                top,
                left,
                height: h,
                width: w,
            };
        }
    }
    let in_ratio = width as f64 / height as f64;
    let (lo, hi) = (ratio.0.min(ratio.1), ratio.0.max(ratio.1));
    let (h, w) = if in_ratio < lo {
        ((width as f64 / lo).round_ties_even() as usize, width)
    } else if in_ratio > hi {
        (height, (height as f64 * hi).round_ties_even() as usize)
    } else {
        (height, width)
    };
    CropBox {
        top: height.saturating_sub(h) / 2,
        left: width.saturating_sub(w) / 2,
        height: h,
        width: w,
    }
}

impl CropBox {
    /// The box scaled from a `ref_h × ref_w` image to an `h × w` one: `top = round(top·sy)`,
    /// `left = round(left·sx)` (half to even), `height = ceil(height·sy)`,
    /// `width = ceil(width·sx)` with `sy = h/ref_h`, `sx = w/ref_w`.
    pub fn scaled(&self, ref_h: usize, ref_w: usize, h: usize, w: usize) -> Self {
        let sy = h as f64 / ref_h as f64;
        let sx = w as f64 / ref_w as f64;
        Self {
            top: (self.top as f64 * sy).round_ties_even() as usize,
            left: (self.left as f64 * sx).round_ties_even() as usize,
            height: (self.height as f64 * sy).ceil() as usize,
            width: (self.width as f64 * sx).ceil() as usize,
        }
    }
}

/// Copies `bx` out of one `[h, w]` plane, zero-filling outside the image (torchvision crop).
///
/// # Shapes
/// - `plane`: `[h, w]`; returns `[bx.height, bx.width]`.
pub fn crop_plane(plane: &[f32], h: usize, w: usize, bx: CropBox, out: &mut Vec<f32>) {
    out.clear();
    out.resize(bx.height * bx.width, 0.0);
    let cols = w.saturating_sub(bx.left).min(bx.width);
    if cols == 0 {
        return;
    }
    for r in 0..bx.height.min(h.saturating_sub(bx.top)) {
        let src = &plane[(bx.top + r) * w + bx.left..][..cols];
        out[r * bx.width..][..cols].copy_from_slice(src);
    }
}

/// Random resized crop of a multi-resolution view to one `size × size` image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListRandomResizeCrop {
    /// Output side `S`.
    pub size: usize,
    /// Area fraction range of the box.
    pub scale: (f64, f64),
    /// Aspect-ratio range (`w/h`) of the box.
    pub ratio: (f64, f64),
}

impl ListRandomResizeCrop {
    /// Checks `size >= 1`, `0 < scale.0 <= scale.1` and `0 < ratio.0 <= ratio.1`; ratio is
    /// torchvision's default `(3/4, 4/3)`.
    pub fn new(size: usize, scale: (f64, f64)) -> Result<Self> {
        if size == 0 {
            return Err(AugmentError::Empty { what: "crop size" });
        }
        if !(scale.0 > 0.0 && scale.0 <= scale.1) {
            return Err(AugmentError::InvalidConfig {
                name: "crops_scale",
                value: format!("{scale:?}"),
                expected: "0 < min <= max (area fractions, e.g. [0.32, 1.0])",
            });
        }
        Ok(Self {
            size,
            scale,
            ratio: (3.0 / 4.0, 4.0 / 3.0),
        })
    }

    /// Crops and resizes the selected channels of `view` (spec §4.4); channels are
    /// concatenated in selection order, ids alongside.
    ///
    /// # Shapes
    /// - returns an image `[sel.len(), S, S]`.
    pub fn apply<R: Draws>(
        &self,
        view: &View,
        sel: &ChannelSelection,
        rng: &mut R,
    ) -> Result<Image> {
        // Fields are public: re-check what `new` guarantees before indexing with them.
        if self.size == 0 {
            return Err(AugmentError::Empty { what: "crop size" });
        }
        if !(self.ratio.0 > 0.0 && self.ratio.0 <= self.ratio.1) {
            return Err(AugmentError::InvalidConfig {
                name: "crop ratio",
                value: format!("{:?}", self.ratio),
                expected: "0 < min <= max (w/h, default (3/4, 4/3))",
            });
        }
        let images = view.images();
        let get = |s: usize| {
            images.get(s).ok_or(AugmentError::InvalidConfig {
                name: "ChannelSelection image index",
                value: s.to_string(),
                expected: "an image index of the view it was drawn for",
            })
        };
        // Reference: the tallest selected image, first on ties.
        let mut reference: Option<&Image> = None;
        for (s, _) in &sel.images {
            let img = get(*s)?;
            if reference.is_none_or(|r| img.height() > r.height()) {
                reference = Some(img);
            }
        }
        let reference = reference.ok_or(AugmentError::Empty {
            what: "selected channels",
        })?;
        let (ref_h, ref_w) = (reference.height(), reference.width());
        let bx = random_resized_crop_params(ref_h, ref_w, self.scale, self.ratio, rng);

        let size = self.size;
        let mut data = Vec::with_capacity(sel.len() * size * size);
        let mut ids = Vec::with_capacity(sel.len());
        let (mut cropped, mut tmp) = (Vec::new(), Vec::new());
        for (s, chans) in &sel.images {
            let img = get(*s)?;
            let b = bx.scaled(ref_h, ref_w, img.height(), img.width());
            if b.height == 0 || b.width == 0 {
                return Err(AugmentError::InvalidConfig {
                    name: "crops_scale",
                    value: format!("{:?}", self.scale),
                    expected: "area fractions in (0, 1] that give a non-empty crop box",
                });
            }
            let horizontal = Taps::new(b.width, size);
            let vertical = Taps::new(b.height, size);
            for &c in chans {
                let plane = img.channel(c).ok_or(AugmentError::InvalidConfig {
                    name: "ChannelSelection channel index",
                    value: c.to_string(),
                    expected: "a channel index of the image it was drawn for",
                })?;
                crop_plane(plane, img.height(), img.width(), b, &mut cropped);
                resize_plane(
                    &cropped,
                    b.height,
                    b.width,
                    size,
                    size,
                    &horizontal,
                    &vertical,
                    &mut tmp,
                    &mut data,
                );
                ids.push(img.chn_ids()[c]);
            }
        }
        Image::new(data, [ids.len(), size, size], ids)
    }
}
