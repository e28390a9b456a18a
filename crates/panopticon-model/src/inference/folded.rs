//! The channel attention rearranged for frozen weights: exact, and ~C·20× cheaper.
//!
//! Between the per-channel patch projection `x_c = p_c·W + b + e_c` (pixels `p_c`, conv weight
//! `W` `[P·P, A]`, conv bias `b`, channel embedding `e_c`) and the key/value projections there
//! is no non-linearity, and the query `q` is a parameter. So for head `h`, with
//! `r_h = s·Wk_h·q_h` (`s = hd^-½`):
//!
//! - logits: `s·q_h·k_ch = p_c·(W·r_h) + (b + e_c)·r_h + s·q_h·bk_h`, a `P·P`-long dot product
//!   of the raw patch with a precomputed filter plus a per-channel constant;
//! - output: `Σ_c a_ch·v_ch = (Σ_c a_ch·p_c)·(W·Wv_h) + Σ_c a_ch·(e_c·Wv_h) + b·Wv_h + bv_h`
//!   (the weights sum to 1), one projection of the attention-weighted mean patch per head.
//!
//! The `[B, C, L, A]` channel tokens (A = 2304 in the release) are never formed: per image the
//! 202-channel embedding drops from ≈1.2 TFLOP to ≈1 GFLOP, and its memory from gigabytes to
//! the size of the patches.

use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::patch_embed::{ChnAttn, Conv3dWrapper, crop_to_patch_grid};

/// Precomputed matrices of the folded channel attention (see the module docs).
#[derive(Debug, Clone)]
pub(super) struct FoldedChnAttn {
    /// `[P·P, H]`: `W·r_h`, the logit filter of each head.
    filters: Tensor<2>,
    /// `[A, H]`: `r_h`, for the channel-embedding part of the logits.
    r: Tensor<2>,
    /// `[H]`: `b·r_h + s·q_h·bk_h`.
    logit_bias: Tensor<1>,
    /// `[H, P·P, hd]`: `W·Wv_h`.
    value_maps: Tensor<3>,
    /// `[A, A]`: `Wv` (input-major), for the channel-embedding part of the values.
    wv: Tensor<2>,
    /// `[A]`: `b·Wv + bv`.
    value_bias: Tensor<1>,
}

impl FoldedChnAttn {
    /// Folds the current weights of `conv3d` and `chnfus`.
    pub(super) fn new(conv3d: &Conv3dWrapper, chnfus: &ChnAttn) -> Self {
        let w = conv3d.weight_matrix(); // [PP, A]
        let [pp, a] = w.dims();
        let b = conv3d.conv3d.bias.val(); // [A]
        let xattn = &chnfus.xattn;
        let h = xattn.num_heads;
        let hd = a / h;
        let s = (hd as f64).powf(-0.5);
        let q = chnfus.query.val().reshape([1, h, hd]);

        let wk = xattn.inproj_k.weight.val(); // [A_in, A_out]
        let r = (wk.reshape([a, h, hd]) * q.clone())
            .sum_dim(2)
            .reshape([a, h])
            .mul_scalar(s);
        let filters = w.clone().matmul(r.clone()); // [PP, H]
        let mut logit_bias = b
            .clone()
            .unsqueeze_dim::<2>(0)
            .matmul(r.clone())
            .reshape([h]);
        if let Some(bk) = &xattn.inproj_k.bias {
            let qb = (bk.val().reshape([1, h, hd]) * q)
                .sum_dim(2)
                .reshape([h])
                .mul_scalar(s);
            logit_bias = logit_bias + qb;
        }

        let wv = xattn.inproj_v.weight.val(); // [A_in, A_out]
        let value_maps = w.matmul(wv.clone()).reshape([pp, h, hd]).permute([1, 0, 2]); // [H, PP, hd]
        let mut value_bias = b.unsqueeze_dim::<2>(0).matmul(wv.clone()).reshape([a]);
        if let Some(bv) = &xattn.inproj_v.bias {
            value_bias = value_bias + bv.val();
        }
        Self {
            filters,
            r,
            logit_bias,
            value_maps,
            wv,
            value_bias,
        }
    }

    /// The fused channel token of every patch, as `chnfus.xattn` would compute it (before the
    /// optional LayerNorm).
    ///
    /// # Shapes
    /// - `patches`: `[B·L·C, P·P]` from [`patchify_by_location`], rows ordered (b, l, c)
    /// - `emb`: `[B or 1, C, A]` channel embeddings (1 when all samples share their ids)
    /// - `spec_masks`: `[B, C]`, true = ignore the channel
    /// - output: `[B, L, A]`
    pub(super) fn forward(
        &self,
        patches: Tensor<2>,
        emb: Tensor<3>,
        batch: usize,
        spec_masks: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let [n, pp] = patches.dims();
        let [eb, c, a] = emb.dims();
        let h = self.filters.dims()[1];
        let hd = a / h;
        let l = n / (batch * c);

        // Logits [B, L, H, C]: filter responses plus the per-channel constants.
        let g = emb.clone().matmul(self.r.clone().unsqueeze_dim(0))
            + self.logit_bias.clone().reshape([1, 1, h]); // [eb, C, H]
        let logits = patches
            .clone()
            .matmul(self.filters.clone())
            .reshape([batch, l, c, h])
            + g.reshape([eb, 1, c, h]);
        let mut logits = logits.swap_dims(2, 3); // [B, L, H, C]
        if let Some(mask) = spec_masks {
            let mask = mask.reshape([batch, 1, 1, c]).expand([batch, l, h, c]);
            logits = logits.mask_fill(mask, f32::NEG_INFINITY);
        }
        let attn = softmax(logits, 3); // [B, L, H, C]

        // Σ_c a·p_c per head, then one projection per head.
        let p = patches.reshape([batch * l, c, pp]); // rows (b, l) of C patches: no copy
        let pbar = attn.clone().reshape([batch * l, h, c]).matmul(p); // [B·L, H, PP]
        let main = pbar
            .swap_dims(0, 1)
            .matmul(self.value_maps.clone()) // [H, B·L, hd]
            .swap_dims(0, 1)
            .reshape([batch, l, a]);

        // Σ_c a·(e_c·Wv_h): the channel embeddings' share of the values.
        let u = emb
            .matmul(self.wv.clone().unsqueeze_dim(0)) // [eb, C, A]
            .reshape([eb, c, h, hd])
            .permute([0, 2, 1, 3]) // [eb, H, C, hd]
            .expand([batch, h, c, hd]);
        let ev = attn
            .permute([0, 2, 1, 3]) // [B, H, L, C]
            .matmul(u) // [B, H, L, hd]
            .swap_dims(1, 2)
            .reshape([batch, l, a]);

        main + ev + self.value_bias.clone().reshape([1, 1, a])
    }
}

/// Cuts each channel into non-overlapping `P×P` patches, grouped by patch location: the `C`
/// patches of one location are consecutive rows, the layout the channel attention reduces over.
///
/// # Shapes
/// - `imgs`: `[B, C, H, W]`
/// - output: `[B·Hp·Wp·C, P·P]`, rows ordered (b, row, col, c), pixels row-major
pub(super) fn patchify_by_location(imgs: Tensor<4>, patch: usize) -> Tensor<2> {
    let imgs = crop_to_patch_grid(imgs, patch);
    let [b, c, h, w] = imgs.dims();
    let (hp, wp) = (h / patch, w / patch);
    imgs.reshape([b, c, hp, patch, wp, patch])
        .permute([0, 2, 4, 1, 3, 5]) // [B, Hp, Wp, C, P, P]
        .reshape([b * hp * wp * c, patch * patch])
}
