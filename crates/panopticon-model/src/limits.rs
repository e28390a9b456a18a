//! Bounds on what the model accepts: config fields, pixel magnitudes, tokens per forward.
//!
//! Each bound is generous for real use and stops a crafted or mistyped value before it turns
//! into a failed allocation, an endless computation or silent NaN.

use crate::error::{PanopticonError, Result};

/// Largest `embed_dim` (ViT-22B uses 6144).
pub const MAX_EMBED_DIM: usize = 16_384;
/// Largest `depth` (ViT-22B has 48 blocks).
pub const MAX_DEPTH: usize = 1_024;
/// Largest `patch_size` in pixels.
pub const MAX_PATCH_SIZE: usize = 1_024;
/// Largest `img_size` the stored `pos_embed` may be made for.
pub const MAX_IMG_SIZE: usize = 65_536;
/// Largest `num_register_tokens`.
pub const MAX_REGISTER_TOKENS: usize = 1_024;
/// Largest `mlp_ratio` (the released models use 4).
pub const MAX_MLP_RATIO: f64 = 64.0;
/// Largest patch-embedding `attn_dim` (the release uses 2304).
pub const MAX_ATTN_DIM: usize = 65_536;
/// Largest `in_chans` of a convolutional patch embedding.
pub const MAX_IN_CHANS: usize = 65_536;
/// Largest parameter count a config may describe: 5e9 (20 GB in f32), ≈ 4.5× DINOv2 ViT-g/14.
pub const MAX_PARAMETERS: u64 = 5_000_000_000;

/// Largest pixel magnitude accepted by the forward pass.
///
/// Tokens are linear in the pixels up to the first LayerNorm, whose variance squares them:
/// f32 overflows there once a token entry passes √3.4e38 ≈ 1.8e19 (summed over `D`, ≈ 6e17 for
/// D = 768). The gain from pixels to tokens is at most the product of the L1 norms of the
/// patch-embedding maps: P² = 196 pixels per patch, then two 2304-wide projections, with
/// released weights below 1 in magnitude: ≤ 196 · 2304 · 2304 ≈ 1e9. Pixels within 1e8 thus
/// keep every token below 1e17 and the squares finite, for any plausible checkpoint; real
/// inputs are standardised (|x| ≲ 10) or raw digital numbers (≤ 65535), far below it.
pub const MAX_ABS_PIXEL: f32 = 1e8;

/// Default memory budget of one image's attention scores (`heads · N² · 4` bytes): 4 GiB.
pub const ATTENTION_BUDGET_BYTES: u64 = 4 << 30;

/// Environment variable overriding the default cap on tokens per image.
pub const MAX_TOKENS_ENV: &str = "PANOPTICON_MAX_TOKENS";

/// Default cap on tokens (cls + registers + patches) per image for a model with `heads`
/// attention heads: the largest `N` with `heads · N² · 4 bytes` ≤ [`ATTENTION_BUDGET_BYTES`]
/// (9459 tokens for ViT-B/14, a 1358² image at patch 14), unless [`MAX_TOKENS_ENV`] sets one.
pub fn default_max_tokens(heads: usize) -> usize {
    if let Some(n) = std::env::var(MAX_TOKENS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    ((ATTENTION_BUDGET_BYTES / (4 * heads.max(1) as u64)) as f64).sqrt() as usize
}

/// Errors unless `lo <= value <= hi`, naming the config field.
pub(crate) fn in_range(field: &str, value: usize, lo: usize, hi: usize) -> Result<()> {
    if (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(PanopticonError::Config(format!(
        "{field} {value} is out of range: expected {lo}..={hi}"
    )))
}
