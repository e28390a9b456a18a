//! `MultilabelF1Score(average)` of torchmetrics 0.10.3 at threshold 0.5.

use super::{Average, probabilities, safe_divide};

/// Multilabel F1 at threshold 0.5.
///
/// A pair is predicted positive when its probability is `> 0.5`, where scores go through a
/// sigmoid unless all lie in `[0, 1]`. Pairs with a NaN (unknown) target are left out. Micro:
/// `2TP / (2TP + FP + FN)` over pooled counts; macro: the unweighted mean of per-label F1
/// over all labels (0 for a label with `2TP + FP + FN = 0`).
///
/// # Shapes
/// `scores`, `targets`: `[N, num_labels]` row-major.
pub fn multilabel_f1(scores: &[f32], targets: &[f32], num_labels: usize, average: Average) -> f64 {
    let probs = probabilities(scores);
    let mut tp = vec![0usize; num_labels];
    let mut fp = vec![0usize; num_labels];
    let mut fn_ = vec![0usize; num_labels];
    for (i, (&p, &t)) in probs.iter().zip(targets).enumerate() {
        let l = i % num_labels;
        if t.is_nan() {
            continue;
        }
        match (p > 0.5, t == 1.0) {
            (true, true) => tp[l] += 1,
            (true, false) => fp[l] += 1,
            (false, true) => fn_[l] += 1,
            (false, false) => {}
        }
    }
    let f1 =
        |tp: usize, fp: usize, fn_: usize| safe_divide(2.0 * tp as f64, (2 * tp + fp + fn_) as f64);
    match average {
        Average::Micro => f1(tp.iter().sum(), fp.iter().sum(), fn_.iter().sum()),
        Average::Macro => {
            (0..num_labels)
                .map(|l| f1(tp[l], fp[l], fn_[l]))
                .sum::<f64>()
                / num_labels as f64
        }
    }
}
