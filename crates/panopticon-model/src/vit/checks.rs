//! Checks of a forward's input made before any large allocation: sizes, masks, pixel values.
//!
//! They cost one device→host read of two scalars (pixels) and one of `B` flags (masks).

use burn::prelude::*;

use crate::error::{PanopticonError, Result};
use crate::limits::MAX_ABS_PIXEL;

/// Errors on an empty batch or an image without channels (Burn would panic on a zero-sized
/// reshape further down).
pub(crate) fn check_not_empty(b: usize, c: usize) -> Result<()> {
    if b == 0 {
        return Err(PanopticonError::Input(
            "the batch is empty (B = 0): give at least one image".into(),
        ));
    }
    if c == 0 {
        return Err(PanopticonError::Input(
            "the images have no channels (C = 0): give at least one band".into(),
        ));
    }
    Ok(())
}

/// Errors when a `height × width` image makes more than `max` tokens per forward.
pub(super) fn check_tokens(
    (height, width): (usize, usize),
    tokens: usize,
    heads: usize,
    max: usize,
) -> Result<()> {
    if tokens <= max {
        return Ok(());
    }
    let gib = heads as f64 * (tokens as f64).powi(2) * 4.0 / (1u64 << 30) as f64;
    Err(PanopticonError::TooManyTokens {
        height,
        width,
        tokens,
        max,
        gib,
    })
}

pub(super) fn check_spec_masks(m: &Tensor<2, Bool>, b: usize, c: usize) -> Result<()> {
    if m.dims() != [b, c] {
        return Err(PanopticonError::Shape {
            name: "spec_masks".into(),
            expected: format!("[B, C] = [{b}, {c}]"),
            got: m.dims().to_vec(),
        });
    }
    let all_masked: Vec<bool> = m
        .clone()
        .int()
        .sum_dim(1)
        .equal_elem(c as i64)
        .reshape([b])
        .into_data()
        .try_into_vec_as::<bool>()
        .unwrap_or_default();
    if let Some(sample) = all_masked.iter().position(|&x| x) {
        return Err(PanopticonError::AllChannelsMasked { sample });
    }
    Ok(())
}

/// Errors on the first (sample, channel) holding NaN or ±inf, or a pixel beyond
/// [`MAX_ABS_PIXEL`] (finite values that would overflow the computation).
pub(super) fn check_pixels(imgs: &Tensor<4>) -> Result<()> {
    // One read of two scalars settles the common case: the sum is non-finite when any pixel
    // is NaN or ±inf, the max-abs bounds the magnitude (a sum alone misses 3e38 pixels whose
    // sum stays finite, or overflows for them). Only on failure are the pixels searched.
    let stats = Tensor::cat(
        vec![imgs.clone().sum(), imgs.clone().max_abs().reshape([1])],
        0,
    )
    .into_data()
    .convert::<f32>()
    .try_to_vec::<f32>()
    .unwrap_or_default();
    if let [sum, max_abs] = stats[..]
        && sum.is_finite()
        && max_abs <= MAX_ABS_PIXEL
    {
        return Ok(());
    }
    let [b, c, h, w] = imgs.dims();
    let per_channel = |t: Tensor<4, Bool>| -> Vec<bool> {
        t.reshape([b, c, h * w])
            .any_dim(2)
            .reshape([b * c])
            .into_data()
            .try_into_vec_as::<bool>()
            .unwrap_or_default()
    };
    if let Some(i) = per_channel(imgs.clone().is_finite().bool_not())
        .iter()
        .position(|&x| x)
    {
        return Err(PanopticonError::NonFinitePixels {
            sample: i / c,
            channel: i % c,
        });
    }
    let big = imgs.clone().abs().greater_elem(MAX_ABS_PIXEL);
    if let Some(i) = per_channel(big).iter().position(|&x| x) {
        let (sample, channel) = (i / c, i % c);
        let value = imgs
            .clone()
            .narrow(0, sample, 1)
            .narrow(1, channel, 1)
            .max_abs()
            .into_scalar::<f32>();
        return Err(PanopticonError::PixelTooLarge {
            sample,
            channel,
            value,
            limit: MAX_ABS_PIXEL,
        });
    }
    Ok(())
}
