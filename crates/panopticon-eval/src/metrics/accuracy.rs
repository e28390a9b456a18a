//! `MulticlassAccuracy(top_k, average)` of torchmetrics 0.10.3.

use super::{Average, safe_divide};
use crate::error::{EvalError, Result};

/// Indices of the `k` highest scores of `row`, highest first; ties go to the lower index.
///
/// For `k = 1` this is torch's `argmax` rule, which torchmetrics uses. For `k > 1`
/// torchmetrics calls `torch.topk`, whose choice among scores tied at the k-th place is
/// implementation-defined (CPU torch 2.x picks `{1, 2}` of `[0.5, 0.5, 0.5, 0.1]`), so only
/// such exact boundary ties can differ from torchmetrics.
pub fn top_k_indices(row: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..row.len()).collect();
    idx.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// Multiclass top-k accuracy.
///
/// Micro: fraction of samples whose target is among the `top_k` highest scores. Macro:
/// per-class recall `tp / (tp + fn)` (0 for a class without samples), averaged over **all**
/// `num_classes` classes, as torchmetrics 0.10.3 does.
///
/// # Shapes
/// `scores`: `[N, num_classes]` row-major; `targets`: `[N]`.
pub fn multiclass_accuracy(
    scores: &[f32],
    targets: &[usize],
    num_classes: usize,
    top_k: usize,
    average: Average,
) -> Result<f64> {
    if top_k == 0 || top_k > num_classes {
        return Err(EvalError::Config {
            field: "top_k".into(),
            value: top_k.to_string(),
            reason: format!("must be in 1..={num_classes} (the number of classes)"),
        });
    }
    let mut tp = vec![0usize; num_classes];
    let mut support = vec![0usize; num_classes];
    for (row, &t) in scores.chunks_exact(num_classes).zip(targets) {
        support[t] += 1;
        if top_k_indices(row, top_k).contains(&t) {
            tp[t] += 1;
        }
    }
    Ok(match average {
        Average::Micro => safe_divide(
            tp.iter().sum::<usize>() as f64,
            support.iter().sum::<usize>() as f64,
        ),
        Average::Macro => {
            let recall: f64 = tp
                .iter()
                .zip(&support)
                .map(|(&t, &s)| safe_divide(t as f64, s as f64))
                .sum();
            recall / num_classes as f64
        }
    })
}
