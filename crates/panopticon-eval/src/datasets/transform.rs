//! The evaluation transforms of spec §4.10: `Resize` (antialiased bilinear, exact output
//! size), `CenterCrop` (zero-padding when smaller) and `ChnSelect`.

use crate::error::{EvalError, Result};

/// One sample: `[C, H, W]` row-major pixels and one channel id per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalImage {
    /// Pixels, `C·H·W` values.
    pub data: Vec<f32>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// Channel ids (`C` values).
    pub chn_ids: Vec<f32>,
}

/// The test-time transform of a task: channel select, resize, center crop.
///
/// Every task config lists `ChnSelect` first or last; both resizing and cropping act on each
/// channel alone, so selecting first gives the same pixels and spares resizing dropped
/// channels (202 → 4 for Corine).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalTransform {
    /// `Resize((h, w))`: exact output size, aspect ratio not kept.
    pub resize: Option<(usize, usize)>,
    /// `CenterCrop((h, w))`.
    pub center_crop: Option<(usize, usize)>,
    /// `ChnSelect(idxs)`: keep these channels, in this order.
    pub chn_select: Option<Vec<usize>>,
}

impl EvalTransform {
    /// A stable description, part of the feature-cache key.
    pub fn describe(&self) -> String {
        format!(
            "resize={:?};center_crop={:?};chn_select={:?}",
            self.resize, self.center_crop, self.chn_select
        )
    }

    /// Applies the transform.
    pub fn apply(&self, mut img: EvalImage) -> Result<EvalImage> {
        if let Some(idxs) = &self.chn_select {
            img = chn_select(&img, idxs)?;
        }
        if let Some((h, w)) = self.resize {
            img = resize_bilinear_aa(&img, h, w)?;
        }
        if let Some((h, w)) = self.center_crop {
            img = center_crop(&img, h, w)?;
        }
        Ok(img)
    }
}

fn size_error(field: &str, h: usize, w: usize) -> EvalError {
    EvalError::Config {
        field: field.into(),
        value: format!("[{h}, {w}]"),
        reason: "sizes must be at least 1".into(),
    }
}

/// Antialiased bilinear weights of torchvision/PyTorch (`_upsample_bilinear2d_aa`,
/// `align_corners = false`): one `(first source index, weights)` per output index.
fn aa_weights(input: usize, output: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = input as f64 / output as f64;
    let support = if scale >= 1.0 { scale } else { 1.0 };
    let invscale = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
    (0..output)
        .map(|i| {
            let center = scale * (i as f64 + 0.5);
            let xmin = ((center - support + 0.5).floor().max(0.0)) as usize;
            let xmax = ((center + support + 0.5).floor() as usize).min(input);
            let mut w: Vec<f64> = (xmin..xmax)
                .map(|j| {
                    let x = ((j as f64 - center + 0.5) * invscale).abs();
                    if x < 1.0 { 1.0 - x } else { 0.0 }
                })
                .collect();
            let total: f64 = w.iter().sum();
            if total > 0.0 {
                w.iter_mut().for_each(|v| *v /= total);
            }
            (xmin, w)
        })
        .collect()
}

/// `Resize((h, w), bilinear, antialias=True)` (for upsampling identical to plain bilinear).
pub fn resize_bilinear_aa(img: &EvalImage, h: usize, w: usize) -> Result<EvalImage> {
    if h == 0 || w == 0 {
        return Err(size_error("resize", h, w));
    }
    let [c, ih, iw] = img.shape;
    if (ih, iw) == (h, w) {
        return Ok(img.clone());
    }
    let wx = aa_weights(iw, w);
    let wy = aa_weights(ih, h);
    let mut out = vec![0f32; c * h * w];
    let mut tmp = vec![0f64; ih * w];
    for ch in 0..c {
        let plane = &img.data[ch * ih * iw..(ch + 1) * ih * iw];
        for y in 0..ih {
            for (x, (x0, ws)) in wx.iter().enumerate() {
                tmp[y * w + x] = ws
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| v * plane[y * iw + x0 + k] as f64)
                    .sum();
            }
        }
        for (y, (y0, ws)) in wy.iter().enumerate() {
            for x in 0..w {
                out[ch * h * w + y * w + x] = ws
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| v * tmp[(y0 + k) * w + x])
                    .sum::<f64>() as f32;
            }
        }
    }
    Ok(EvalImage {
        data: out,
        shape: [c, h, w],
        chn_ids: img.chn_ids.clone(),
    })
}

/// `CenterCrop((h, w))`: top = round((H − h) / 2), left = round((W − w) / 2); zero-pads
/// (centred, as torchvision) when the image is smaller.
pub fn center_crop(img: &EvalImage, h: usize, w: usize) -> Result<EvalImage> {
    if h == 0 || w == 0 {
        return Err(size_error("center_crop", h, w));
    }
    let [c, ih, iw] = img.shape;
    // torchvision: pad to at least (h, w) (left/top = deficit // 2), then crop at
    // round((H' - h) / 2) with Python's round (ties to even).
    let pad = |size: usize, dim: usize| size.saturating_sub(dim) / 2;
    let (pt, pl) = (pad(h, ih), pad(w, iw));
    let top = ((ih.max(h) - h) as f64 / 2.0).round_ties_even() as usize;
    let left = ((iw.max(w) - w) as f64 / 2.0).round_ties_even() as usize;
    let mut out = vec![0f32; c * h * w];
    for ch in 0..c {
        for y in 0..h {
            let sy = (top + y) as isize - pt as isize;
            if sy < 0 || sy as usize >= ih {
                continue;
            }
            for x in 0..w {
                let sx = (left + x) as isize - pl as isize;
                if sx < 0 || sx as usize >= iw {
                    continue;
                }
                out[ch * h * w + y * w + x] =
                    img.data[ch * ih * iw + sy as usize * iw + sx as usize];
            }
        }
    }
    Ok(EvalImage {
        data: out,
        shape: [c, h, w],
        chn_ids: img.chn_ids.clone(),
    })
}

/// `ChnSelect(idxs)`: the listed channels of pixels and ids, in that order.
pub fn chn_select(img: &EvalImage, idxs: &[usize]) -> Result<EvalImage> {
    let [c, h, w] = img.shape;
    if idxs.is_empty() {
        return Err(EvalError::Config {
            field: "chn_select".into(),
            value: "[]".into(),
            reason: "select at least one channel".into(),
        });
    }
    if let Some(&bad) = idxs.iter().find(|&&i| i >= c) {
        return Err(EvalError::Config {
            field: "chn_select".into(),
            value: format!("{idxs:?}"),
            reason: format!("index {bad} is out of range for an image with {c} channels"),
        });
    }
    let mut data = Vec::with_capacity(idxs.len() * h * w);
    for &i in idxs {
        data.extend_from_slice(&img.data[i * h * w..(i + 1) * h * w]);
    }
    Ok(EvalImage {
        data,
        shape: [idxs.len(), h, w],
        chn_ids: idxs.iter().map(|&i| img.chn_ids[i]).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(c: usize, h: usize, w: usize) -> EvalImage {
        EvalImage {
            data: (0..c * h * w).map(|v| v as f32).collect(),
            shape: [c, h, w],
            chn_ids: (0..c).map(|v| v as f32 * 10.0).collect(),
        }
    }

    #[test]
    fn downsample_by_two_averages_pairs() {
        // aa bilinear at scale 2: weights over 4 taps (1/8, 3/8, 3/8, 1/8), edges renormalised.
        let i = EvalImage {
            data: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            shape: [1, 1, 8],
            chn_ids: vec![1.0],
        };
        let o = resize_bilinear_aa(&i, 1, 4).unwrap();
        // first output: taps 0,1,2 with weights 3/8,3/8,1/8 (renormalised by 7/8)
        let first = (0.0 * 3.0 + 1.0 * 3.0 + 2.0 * 1.0) / 7.0;
        assert!((o.data[0] - first).abs() < 1e-6, "{:?}", o.data);
        // interior: taps 1..5 with 1/8, 3/8, 3/8, 1/8 → 2.5
        assert!((o.data[1] - 2.5).abs() < 1e-6, "{:?}", o.data);
    }

    #[test]
    fn upsample_matches_plain_bilinear() {
        // align_corners=false, 2 → 4: sources at -0.25, 0.25, 0.75, 1.25 (clamped).
        let i = EvalImage {
            data: vec![0.0, 4.0],
            shape: [1, 1, 2],
            chn_ids: vec![1.0],
        };
        let o = resize_bilinear_aa(&i, 1, 4).unwrap();
        assert_eq!(o.data, vec![0.0, 1.0, 3.0, 4.0]);
    }

    #[test]
    fn constant_image_stays_constant() {
        let i = EvalImage {
            data: vec![2.5; 2 * 7 * 5],
            shape: [2, 7, 5],
            chn_ids: vec![1.0, 2.0],
        };
        for (h, w) in [(3, 3), (14, 10), (7, 5), (1, 9)] {
            let o = resize_bilinear_aa(&i, h, w).unwrap();
            assert_eq!(o.shape, [2, h, w]);
            assert!(o.data.iter().all(|v| (v - 2.5).abs() < 1e-6));
        }
    }

    #[test]
    fn center_crop_and_pad() {
        let i = img(1, 4, 4);
        let o = center_crop(&i, 2, 2).unwrap();
        assert_eq!(o.data, vec![5.0, 6.0, 9.0, 10.0]);
        let o = center_crop(&i, 3, 3).unwrap(); // round(0.5) = 0 (half to even) → top 0
        assert_eq!(o.data[0], 0.0);
        let o = center_crop(&img(1, 2, 2), 4, 4).unwrap();
        assert_eq!(o.data[5..7], [0.0, 1.0]);
        assert_eq!(o.data[0], 0.0);
        assert_eq!(o.data.iter().filter(|&&v| v != 0.0).count(), 3);
    }

    #[test]
    fn select_channels_in_order() {
        let o = chn_select(&img(3, 1, 2), &[2, 0]).unwrap();
        assert_eq!(o.data, vec![4.0, 5.0, 0.0, 1.0]);
        assert_eq!(o.chn_ids, vec![20.0, 0.0]);
        assert!(chn_select(&img(3, 1, 2), &[3]).is_err());
    }
}
