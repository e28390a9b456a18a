//! iBOT masked-patch loss (spec §3.4 step 10, §3.5).

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::centering::Center;
use crate::centering::Centering;
use crate::dino_loss::STUDENT_TEMP;
use crate::error::{Result, TrainError};
use panopticon_data::masking::IbotMasks;

/// `iBOTPatchLoss`: centre + masked-patch cross-entropy with per-image mask weights.
#[derive(Debug, Clone)]
pub struct IbotPatchLoss {
    /// The centre (upstream stores it `(1, 1, K)`; the values are the same as this `[1, K]`).
    pub center: Center,
    /// Target mode.
    pub centering: Centering,
}

impl IbotPatchLoss {
    /// A loss with a zero centre of `k` prototypes.
    pub fn new(k: usize, centering: Centering, device: &Device) -> Self {
        Self {
            center: Center::zeros(k, device),
            centering,
        }
    }

    /// Teacher targets for the `M` masked patches; softmax mode applies the previous
    /// step's scheduled centre update and schedules this batch's mean.
    ///
    /// # Shapes
    /// `teacher_patch_logits`: `[M, K]` → `[M, K]`.
    pub fn teacher_targets(
        &mut self,
        teacher_patch_logits: Tensor<2>,
        teacher_temp: f64,
    ) -> Result<Tensor<2>> {
        self.center
            .teacher_targets(self.centering, teacher_patch_logits, teacher_temp)
    }

    /// `L_ibot = −(1/n_images) · Σ_m masks_weight[m] · Σ_k t[m,k] · log_softmax(s[m]/0.1)_k`.
    ///
    /// `n_images` is the number of global-crop images (`2B`, masked or not) and
    /// `masks_weight[m] = 1 / max(#masked patches of m's image, 1)` as produced by the collate
    /// (`panopticon-data` masking).
    ///
    /// # Shapes
    /// `student_patch`, `teacher_probs`: `[M, K]`; `masks_weight`: `[M]`; returns `[1]`.
    pub fn forward_masked(
        student_patch: Tensor<2>,
        teacher_probs: Tensor<2>,
        masks_weight: Tensor<1>,
        n_images: usize,
    ) -> Result<Tensor<1>> {
        let [m, k] = student_patch.dims();
        if teacher_probs.dims() != [m, k] || masks_weight.dims() != [m] || n_images == 0 {
            return Err(TrainError::Shape {
                what: "iBOT inputs",
                expected: format!(
                    "teacher [M, K] = [{m}, {k}], masks_weight [M] = [{m}], n_images ≥ 1"
                ),
                got: teacher_probs.dims().to_vec(),
            });
        }
        let lsm = log_softmax(student_patch / STUDENT_TEMP, 1);
        let per_patch = (teacher_probs * lsm).sum_dim(1).reshape([m]); // [M]
        Ok(-(per_patch * masks_weight).sum() / n_images as f64)
    }
}

impl IbotPatchLoss {
    /// [`IbotPatchLoss::forward_masked`] with the weights and image count of the collate's
    /// masks (`panopticon-data`'s [`IbotMasks`]).
    ///
    /// # Shapes
    /// `student_patch`, `teacher_probs`: `[M, K]` with `M = masks.n_masked_patches()`.
    pub fn forward_with_masks(
        student_patch: Tensor<2>,
        teacher_probs: Tensor<2>,
        masks: &IbotMasks,
    ) -> Result<Tensor<1>> {
        let device = student_patch.device();
        let weights = Tensor::<1>::from_floats(masks.masks_weight.as_slice(), &device);
        Self::forward_masked(student_patch, teacher_probs, weights, masks.n_images)
    }
}

/// Gathers the masked patch tokens (upstream `x_norm_patchtokens.flatten(0, 1)
/// .index_select(0, mask_indices_list)`), in ascending flat-index order.
///
/// # Shapes
/// `patch_tokens`: `[2B, N, D]` with `2B = masks.n_images`, `N = masks.n_tokens` → `[M, D]`.
pub fn gather_masked(patch_tokens: Tensor<3>, masks: &IbotMasks) -> Result<Tensor<2>> {
    let [bi, n, d] = patch_tokens.dims();
    if bi != masks.n_images || n != masks.n_tokens {
        return Err(TrainError::Shape {
            what: "patch tokens for the iBOT gather",
            expected: format!("[{}, {}, D]", masks.n_images, masks.n_tokens),
            got: vec![bi, n, d],
        });
    }
    let device = patch_tokens.device();
    let idx = Tensor::<1, Int>::from_ints(masks.mask_indices.as_slice(), &device);
    Ok(patch_tokens.reshape([bi * n, d]).select(0, idx))
}
