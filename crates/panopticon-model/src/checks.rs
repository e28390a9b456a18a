//! Checks of a model input, made once when it is built (and of image sizes, before any large
//! allocation).
//!
//! Pixels and masks cost one device→host read of two scalars and one of `B` flags.

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
pub(crate) fn check_tokens(
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

/// Reads `[B, C]` channel masks (true = ignore) to the host and checks them
/// ([`check_mask_flags`]).
pub(crate) fn read_spec_masks(m: &Tensor<2, Bool>, b: usize, c: usize) -> Result<Vec<bool>> {
    if m.dims() != [b, c] {
        return Err(PanopticonError::Shape {
            name: "spec_masks".into(),
            expected: format!("[B, C] = [{b}, {c}]"),
            got: m.dims().to_vec(),
        });
    }
    let flags = m
        .to_data()
        .try_into_vec_as::<bool>()
        .map_err(|e| PanopticonError::DType {
            name: "spec_masks".into(),
            expected: "bool".into(),
            got: format!("{e:?}"),
        })?;
    check_mask_flags(&flags, b, c)?;
    Ok(flags)
}

/// Errors on a wrong count of `[B, C]` mask flags, or a sample with every channel masked.
pub(crate) fn check_mask_flags(flags: &[bool], b: usize, c: usize) -> Result<()> {
    if flags.len() != b * c {
        return Err(PanopticonError::Shape {
            name: "spec_masks".into(),
            expected: format!("[B, C] = [{b}, {c}]"),
            got: vec![flags.len()],
        });
    }
    match flags.chunks(c).position(|row| row.iter().all(|&m| m)) {
        Some(sample) => Err(PanopticonError::AllChannelsMasked { sample }),
        None => Ok(()),
    }
}

/// Errors on the first (sample, channel) holding NaN or ±inf, or a pixel beyond
/// [`MAX_ABS_PIXEL`] (finite values that would overflow the computation).
///
/// One device→host read of two scalars settles the common case: the sum is non-finite when
/// any pixel is NaN or ±inf, the max-abs bounds the magnitude (a sum alone misses 3e38 pixels
/// whose sum stays finite, or overflows for them). Only on failure are the pixels read and
/// searched.
pub(crate) fn check_pixels(imgs: &Tensor<4>) -> Result<()> {
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
    let [b, c, _, _] = imgs.dims();
    let values = imgs
        .to_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default();
    check_pixel_values(&values, b, c)
}

/// [`check_pixels`] of row-major `[B, C, H, W]` values on the host.
pub(crate) fn check_pixel_values(values: &[f32], b: usize, c: usize) -> Result<()> {
    // NaN fails the comparison too: one pass settles the common case.
    if values.iter().all(|v| v.abs() <= MAX_ABS_PIXEL) {
        return Ok(());
    }
    let plane = values.len() / (b * c).max(1);
    let channels = || values.chunks(plane.max(1)).enumerate();
    if let Some((i, _)) = channels().find(|(_, ch)| ch.iter().any(|v| !v.is_finite())) {
        return Err(PanopticonError::NonFinitePixels {
            sample: i / c,
            channel: i % c,
        });
    }
    for (i, ch) in channels() {
        let value = ch.iter().fold(0f32, |m, v| m.max(v.abs()));
        if value > MAX_ABS_PIXEL {
            return Err(PanopticonError::PixelTooLarge {
                sample: i / c,
                channel: i % c,
                value,
                limit: MAX_ABS_PIXEL,
            });
        }
    }
    Ok(())
}
