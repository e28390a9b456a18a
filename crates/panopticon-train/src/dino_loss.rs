//! DINO cls-token loss (spec §3.4 steps 4, 7, 8).

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::centering::{Center, Centering};
use crate::error::{Result, TrainError};

/// Student temperature of both losses.
pub const STUDENT_TEMP: f64 = 0.1;

/// `DINOLoss`: the centre and the cross-entropy between teacher targets and student logits.
#[derive(Debug, Clone)]
pub struct DinoLoss {
    /// The centre (used only in [`Centering::Softmax`] mode).
    pub center: Center,
    /// Target mode.
    pub centering: Centering,
}

/// The two DINO terms of one iteration.
#[derive(Debug, Clone)]
pub struct DinoTerms {
    /// `L_local` (zero when there are no local crops).
    pub local: Tensor<1>,
    /// `L_global`.
    pub global: Tensor<1>,
}

impl DinoLoss {
    /// A loss with a zero `[1, k]` centre.
    pub fn new(k: usize, centering: Centering, device: &Device) -> Self {
        Self {
            center: Center::zeros(k, device),
            centering,
        }
    }

    /// Teacher targets of one iteration; in softmax mode this applies the previous step's
    /// scheduled centre update and schedules this batch's (the delayed update of spec §3.5).
    ///
    /// # Shapes
    /// `teacher_logits`: `[2B, K]` (already in swapped crop order) → `[2B, K]`.
    pub fn teacher_targets(
        &mut self,
        teacher_logits: Tensor<2>,
        teacher_temp: f64,
    ) -> Result<Tensor<2>> {
        self.center
            .teacher_targets(self.centering, teacher_logits, teacher_temp)
    }

    /// The local and global DINO terms, each divided by `total_terms = 2 + 2·n_local`
    /// (global ×2, as upstream's `loss_scales`).
    ///
    /// # Shapes
    /// `student_local`: `[n_local·B, K]` (crop-major) or `None`; `student_global`: `[2B, K]`;
    /// `teacher_probs`: `[2B, K]` in swapped order `[crop1, crop0]`.
    pub fn crop_terms(
        student_local: Option<Tensor<2>>,
        student_global: Tensor<2>,
        teacher_probs: Tensor<2>,
        n_local: usize,
    ) -> Result<DinoTerms> {
        let [two_b, k] = teacher_probs.dims();
        if two_b == 0 || two_b % 2 != 0 || student_global.dims() != [two_b, k] {
            return Err(TrainError::Shape {
                what: "student global logits / teacher targets",
                expected: format!(
                    "both [2B, K] with even 2B ≥ 2 (teacher is {:?})",
                    [two_b, k]
                ),
                got: student_global.dims().to_vec(),
            });
        }
        let b = two_b / 2;
        let total_terms = (2 + 2 * n_local).max(1) as f64;
        let device = teacher_probs.device();
        let local = match (student_local, n_local) {
            (Some(s), n) if n > 0 => {
                if s.dims() != [n * b, k] {
                    return Err(TrainError::Shape {
                        what: "student local logits",
                        expected: format!("[n_local·B, K] = [{}, {k}]", n * b),
                        got: s.dims().to_vec(),
                    });
                }
                let students = s.chunk(n, 0);
                let teachers = teacher_probs.clone().chunk(2, 0);
                cross_entropy_sum(&students, &teachers) / total_terms
            }
            _ => Tensor::zeros([1], &device),
        };
        let global = cross_entropy_sum(&[student_global], &[teacher_probs]) * 2.0 / total_terms;
        Ok(DinoTerms { local, global })
    }
}

/// `Σ_s Σ_t mean_rows(−Σ_k t_k · log_softmax(s/0.1)_k)`: upstream `DINOLoss.forward`.
///
/// # Shapes
/// Every tensor `[N, K]` with the same `N`; returns `[1]`.
pub fn cross_entropy_sum(students: &[Tensor<2>], teachers: &[Tensor<2>]) -> Tensor<1> {
    let device = students[0].device();
    let mut total = Tensor::<1>::zeros([1], &device);
    for s in students {
        let lsm = log_softmax(s.clone() / STUDENT_TEMP, 1);
        for t in teachers {
            let per_row = (t.clone() * lsm.clone()).sum_dim(1); // [N, 1]
            total = total - per_row.mean().reshape([1]);
        }
    }
    total
}
