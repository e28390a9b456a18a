//! [`split_batch`]: one collated batch as `parts` equal micro-batches (gradient accumulation
//! over a batch that was sampled as a whole, e.g. to compare with the big-batch step).

use panopticon_data::augment::{Collated, CropBatch};
use panopticon_data::masking::IbotMasks;

use crate::error::{Result, TrainError};

/// Splits a crop-major batch of `B` samples into `parts` batches of `B / parts` consecutive
/// samples. Each part keeps its samples' crops (both global crops, every local crop) and
/// their iBOT masks with the **same** per-patch weights; `upperbound` becomes the part's `M`
/// (upstream only uses it to size buffers).
///
/// # Shapes
/// `batch.global`: `[2B, C, S, S]`, `batch.local`: `[n_local·B, …]`, masks `[2B, N]` →
/// each part `[2B/parts, …]`, `[n_local·B/parts, …]`, `[2B/parts, N]`.
pub fn split_batch(batch: &Collated, parts: usize) -> Result<Vec<Collated>> {
    let n_global = batch.global.n;
    let b = n_global / 2;
    let bad = |expected: String| TrainError::Shape {
        what: "batch to split into micro-batches",
        expected,
        got: vec![n_global, batch.local.n, parts],
    };
    if parts == 0 || n_global == 0 || !n_global.is_multiple_of(2) || !b.is_multiple_of(parts) {
        return Err(bad(format!(
            "[2B global rows, n_local·B local rows, parts] with B = {b} a multiple of parts ≥ 1"
        )));
    }
    if !batch.local.n.is_multiple_of(b) || batch.masks.n_images != n_global {
        return Err(bad(
            "local rows a multiple of B and masks for the 2B global crops".into(),
        ));
    }
    let n_local = batch.local.n / b;
    let bp = b / parts;
    (0..parts)
        .map(|p| {
            let samples = p * bp..(p + 1) * bp;
            let rows = |crops: usize| -> Vec<usize> {
                (0..crops)
                    .flat_map(|c| samples.clone().map(move |s| c * b + s))
                    .collect()
            };
            let global_rows = rows(2);
            Ok(Collated {
                global: take_rows(&batch.global, &rows(2)),
                local: take_rows(&batch.local, &rows(n_local)),
                masks: take_masks(&batch.masks, &global_rows)?,
            })
        })
        .collect()
}

fn take_rows(c: &CropBatch, rows: &[usize]) -> CropBatch {
    let img = c.channels * c.size * c.size;
    let ch = c.channels;
    CropBatch {
        n: rows.len(),
        channels: c.channels,
        size: c.size,
        imgs: rows
            .iter()
            .flat_map(|&r| c.imgs[r * img..(r + 1) * img].iter().copied())
            .collect(),
        chn_ids: rows
            .iter()
            .flat_map(|&r| c.chn_ids[r * ch..(r + 1) * ch].iter().copied())
            .collect(),
        spec_masks: rows
            .iter()
            .flat_map(|&r| c.spec_masks[r * ch..(r + 1) * ch].iter().copied())
            .collect(),
    }
}

fn take_masks(m: &IbotMasks, rows: &[usize]) -> Result<IbotMasks> {
    let n = m.n_tokens;
    let mut masks = Vec::with_capacity(rows.len() * n);
    let mut mask_indices = Vec::new();
    let mut masks_weight = Vec::new();
    for (new_row, &r) in rows.iter().enumerate() {
        for t in 0..n {
            let on = m.masks[r * n + t];
            masks.push(on);
            if on {
                // The big batch's indices are ascending: find this patch's weight there.
                let old = (r * n + t) as i64;
                let pos = m
                    .mask_indices
                    .binary_search(&old)
                    .map_err(|_| TrainError::Shape {
                        what: "iBOT masks (mask_indices must list every masked patch, ascending)",
                        expected: format!("flat index {old} in mask_indices"),
                        got: vec![m.mask_indices.len()],
                    })?;
                mask_indices.push((new_row * n + t) as i64);
                let w = m.masks_weight.get(pos).ok_or_else(|| TrainError::Shape {
                    what: "iBOT masks_weight (one weight per masked patch)",
                    expected: format!("[{}]", m.mask_indices.len()),
                    got: vec![m.masks_weight.len()],
                })?;
                masks_weight.push(*w);
            }
        }
    }
    Ok(IbotMasks {
        n_images: rows.len(),
        n_tokens: n,
        upperbound: mask_indices.len(),
        masks,
        mask_indices,
        masks_weight,
    })
}
