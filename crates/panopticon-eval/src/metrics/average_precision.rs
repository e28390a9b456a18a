//! `MultilabelAveragePrecision(average)` of torchmetrics 0.10.3 (exact thresholds).

use super::{Average, probabilities};

/// Average precision of one binary problem: `Σ_n (R_n − R_{n−1}) P_n` over the distinct
/// score thresholds, highest first (no interpolation; equals scikit-learn's
/// `average_precision_score`). Tied scores form one threshold. NaN when there is no positive.
///
/// # Shapes
/// `scores`, `targets`: `[N]`; targets are 0 or 1.
pub fn binary_average_precision(scores: &[f32], targets: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = targets.iter().filter(|&&t| t).count();
    if positives == 0 {
        return f64::NAN;
    }
    let (mut tp, mut seen, mut ap, mut prev_recall) = (0usize, 0usize, 0.0f64, 0.0f64);
    for (i, &j) in order.iter().enumerate() {
        seen += 1;
        tp += usize::from(targets[j]);
        let last_of_threshold = order
            .get(i + 1)
            .is_none_or(|&next| scores[next] != scores[j]);
        if last_of_threshold {
            let recall = tp as f64 / positives as f64;
            ap += (recall - prev_recall) * (tp as f64 / seen as f64);
            prev_recall = recall;
        }
    }
    ap
}

/// Multilabel average precision.
///
/// Scores go through a sigmoid unless all lie in `[0, 1]` (torchmetrics' formatting).
/// Pairs whose target is NaN (unknown) are left out. Micro pools all remaining (sample,
/// label) pairs into one binary problem; macro averages the per-label AP over the labels that
/// have a positive (the others give NaN and are dropped, as torchmetrics does; NaN if none).
///
/// # Shapes
/// `scores`, `targets`: `[N, num_labels]` row-major.
pub fn multilabel_average_precision(
    scores: &[f32],
    targets: &[f32],
    num_labels: usize,
    average: Average,
) -> f64 {
    let probs = probabilities(scores);
    let known = |i: &usize| !targets[*i].is_nan();
    match average {
        Average::Micro => {
            let idx: Vec<usize> = (0..targets.len()).filter(known).collect();
            let s: Vec<f32> = idx.iter().map(|&i| probs[i]).collect();
            let t: Vec<bool> = idx.iter().map(|&i| targets[i] == 1.0).collect();
            binary_average_precision(&s, &t)
        }
        Average::Macro => {
            let aps: Vec<f64> = (0..num_labels)
                .map(|l| {
                    let idx: Vec<usize> = (l..targets.len())
                        .step_by(num_labels)
                        .filter(known)
                        .collect();
                    let s: Vec<f32> = idx.iter().map(|&i| probs[i]).collect();
                    let t: Vec<bool> = idx.iter().map(|&i| targets[i] == 1.0).collect();
                    binary_average_precision(&s, &t)
                })
                .filter(|ap| !ap.is_nan())
                .collect();
            if aps.is_empty() {
                f64::NAN
            } else {
                aps.iter().sum::<f64>() / aps.len() as f64
            }
        }
    }
}
