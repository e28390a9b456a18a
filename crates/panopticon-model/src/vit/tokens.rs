//! What the trainable model and its frozen form share around the blocks: the image-size
//! checks, the patch grid, the token sequence (iBOT masks, cls, positions, registers), and
//! the outputs taken from the blocks.

use burn::nn::LayerNorm;
use burn::prelude::*;

use super::pos_embed::interpolate_pos_embed;
use crate::checks::check_tokens;
use crate::config::{PanopticonConfig, PatchEmbedConfig};
use crate::error::{PanopticonError, Result};
use crate::output::{ForwardFeatures, IntermediateLayer};

/// Tokens ready for the blocks (`prepare_tokens_with_masks`), and their patch grid.
#[derive(Debug, Clone)]
pub struct TokenGrid {
    /// `[B, 1 + R + L, D]` cls, registers and patch tokens, positions added.
    pub tokens: Tensor<3>,
    /// Patch grid `(rows, cols)`.
    pub grid: (usize, usize),
}

/// The learned tokens around the patch tokens (values of the model's parameters).
#[derive(Debug, Clone)]
pub(crate) struct LearnedTokens {
    /// `[1, 1, D]`.
    pub cls: Tensor<3>,
    /// `[1, 1 + M·M, D]`.
    pub pos_embed: Tensor<3>,
    /// `[1, R, D]`.
    pub registers: Option<Tensor<3>>,
    /// `[1, D]`.
    pub mask_token: Tensor<2>,
}

/// Patch grid for an image: `(⌊H/P⌋, ⌊W/P⌋)`.
pub(crate) fn grid(config: &PanopticonConfig, height: usize, width: usize) -> (usize, usize) {
    (height / config.patch_size, width / config.patch_size)
}

/// At least one patch, and at most `max_tokens` tokens (cls + registers + patches).
pub(crate) fn check_image_size(
    config: &PanopticonConfig,
    max_tokens: usize,
    height: usize,
    width: usize,
) -> Result<()> {
    let p = config.patch_size;
    if height < p || width < p {
        return Err(PanopticonError::ImageTooSmall {
            height,
            width,
            patch: p,
        });
    }
    let (rows, cols) = grid(config, height, width);
    let tokens = rows
        .saturating_mul(cols)
        .saturating_add(1 + config.num_register_tokens);
    check_tokens((height, width), tokens, config.num_heads, max_tokens)
}

/// What a checked input must also fit in this model: its image size, and the channel count
/// of a fixed-channel (stock DINOv2) patch embedding.
pub(crate) fn check_fits(
    config: &PanopticonConfig,
    max_tokens: usize,
    [_, c, h, w]: [usize; 4],
) -> Result<()> {
    check_image_size(config, max_tokens, h, w)?;
    if let PatchEmbedConfig::Conv(conv) = &config.patch_embed
        && conv.in_chans != c
    {
        return Err(PanopticonError::Input(format!(
            "this model has a fixed {}-channel patch embedding (stock DINOv2) but the image has {c} channels",
            conv.in_chans
        )));
    }
    Ok(())
}

/// Positional embedding for a `height × width` image (cls row first).
///
/// # Shapes
/// - `pos_embed`: `[1, 1 + M·M, D]` → `[1, 1 + rows·cols, D]`
pub(crate) fn pos_embed_for(
    config: &PanopticonConfig,
    pos_embed: Tensor<3>,
    height: usize,
    width: usize,
) -> Tensor<3> {
    interpolate_pos_embed(
        pos_embed,
        grid(config, height, width),
        (height, width),
        config.interpolate_offset,
        config.interpolate_antialias,
    )
}

/// `prepare_tokens_with_masks` after the patch embedding: iBOT masking (true = replace the
/// patch token by the mask token), cls, positions, registers.
///
/// # Shapes
/// - `patches`: `[B, L, D]`; `masks`: `[B, L]`
pub(crate) fn assemble(
    config: &PanopticonConfig,
    learned: LearnedTokens,
    patches: Tensor<3>,
    masks: Option<Tensor<2, Bool>>,
    (height, width): (usize, usize),
) -> Result<TokenGrid> {
    let [b, l, d] = patches.dims();
    let x = match masks {
        Some(m) => {
            if m.dims() != [b, l] {
                return Err(PanopticonError::Shape {
                    name: "masks".into(),
                    expected: format!("[B, L] = [{b}, {l}] (one flag per patch token)"),
                    got: m.dims().to_vec(),
                });
            }
            let mask_token = learned.mask_token.unsqueeze_dim::<3>(0).expand([b, l, d]);
            patches.mask_where(m.unsqueeze_dim::<3>(2).expand([b, l, d]), mask_token)
        }
        None => patches,
    };
    let cls = learned.cls.expand([b, 1, d]);
    let x = Tensor::cat(vec![cls, x], 1) + pos_embed_for(config, learned.pos_embed, height, width);
    let x = match learned.registers {
        Some(reg) => {
            let r = reg.dims()[1];
            let cls = x.clone().narrow(1, 0, 1);
            let rest = x.narrow(1, 1, l);
            Tensor::cat(vec![cls, reg.expand([b, r, d]), rest], 1)
        }
        None => x,
    };
    Ok(TokenGrid {
        tokens: x,
        grid: grid(config, height, width),
    })
}

/// `forward_features` from the tokens and the blocks run over them (`blocks`).
pub(crate) fn features(
    config: &PanopticonConfig,
    TokenGrid { tokens, grid }: TokenGrid,
    blocks: impl FnOnce(Tensor<3>) -> Tensor<3>,
    norm: &LayerNorm,
    masks: Option<Tensor<2, Bool>>,
) -> ForwardFeatures {
    let x = blocks(tokens);
    let x_norm = norm.forward(x.clone());
    ForwardFeatures::from_tokens(x, x_norm, config.num_register_tokens, masks, grid)
}

/// `get_intermediate_layers`: the outputs of the blocks `wanted` (sorted, checked), through
/// `norm` when given; each block runs through `forward`.
pub(crate) fn layers<T>(
    config: &PanopticonConfig,
    TokenGrid { tokens, grid }: TokenGrid,
    blocks: &[T],
    forward: impl Fn(&T, Tensor<3>) -> Tensor<3>,
    wanted: &[usize],
    norm: Option<&LayerNorm>,
) -> Vec<IntermediateLayer> {
    let r = config.num_register_tokens;
    let mut out = Vec::with_capacity(wanted.len());
    let mut x = tokens;
    let last = wanted.last().map_or(0, |l| l + 1);
    for (i, blk) in blocks.iter().enumerate().take(last) {
        x = forward(blk, x);
        if wanted.contains(&i) {
            let y = match norm {
                Some(norm) => norm.forward(x.clone()),
                None => x.clone(),
            };
            out.push(IntermediateLayer::from_tokens(i, y, r, grid));
        }
    }
    out
}
