//! Shared test helpers: fixture loading and tolerance checks.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::prelude::*;
use serde_json::Value;

/// Parsed `tests/fixtures/train/<name>` of the workspace.
pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/train")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is valid JSON")
}

/// A JSON array of numbers as f64.
pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("array expected, got {v}"))
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// A JSON array as an f32 tensor of the given shape.
pub fn tensor<const D: usize>(v: &Value, shape: [usize; D], device: &Device) -> Tensor<D> {
    let data: Vec<f32> = f64s(v).into_iter().map(|x| x as f32).collect();
    Tensor::<1>::from_floats(data.as_slice(), device).reshape(shape)
}

/// All values of a tensor as f64.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("f64 data")
}

/// A scalar tensor as f64.
pub fn scalar(t: Tensor<1>) -> f64 {
    values(t)[0]
}

/// Asserts `|got − want| ≤ atol + rtol·|want|` element-wise; returns the max abs error.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], atol: f64, rtol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut max_err = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        max_err = max_err.max(err);
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{i}]: got {g}, want {w} (|err| {err:e}, atol {atol:e}, rtol {rtol:e})"
        );
    }
    max_err
}

/// Relative error of a scalar.
pub fn rel_err(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-30)
}

/// Burn's seeded RNG is process-global: runs in parallel test threads would draw from the
/// same stream, so the tests that seed and initialise models hold this lock.
pub fn seeded() -> std::sync::MutexGuard<'static, ()> {
    static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SEEDED.lock().unwrap_or_else(|e| e.into_inner())
}

/// `B` samples: 2 global 32×32 crops of 3 optical channels (the last one spec-masked, as
/// padding), 2 local 16×16 crops, iBOT masks on the 4×4 grid; deterministic in `seed`.
pub fn batch(b: usize, seed: u64) -> panopticon_data::augment::Collated {
    synthetic_batch(b, seed, true)
}

/// [`batch`] without the padded channel.
pub fn batch_unpadded(b: usize, seed: u64) -> panopticon_data::augment::Collated {
    synthetic_batch(b, seed, false)
}

fn synthetic_batch(b: usize, seed: u64, pad_last: bool) -> panopticon_data::augment::Collated {
    use panopticon_data::augment::{AugRng, Collated, CropBatch, Draws};
    use panopticon_data::masking::{IbotMaskConfig, IbotMasks, MaskingGenerator};
    let mut rng = AugRng::seed_from_u64(seed);
    let mut crops = |n: usize, c: usize, s: usize| {
        let imgs = (0..n * c * s * s)
            .map(|_| rng.uniform() as f32 * 2.0 - 1.0)
            .collect();
        let ids = [490.0, 560.0, 665.0, 842.0];
        CropBatch {
            n,
            channels: c,
            size: s,
            imgs,
            chn_ids: (0..n * c).map(|i| ids[i % c]).collect(),
            spec_masks: (0..n * c)
                .map(|i| pad_last && c > 2 && i % c == c - 1)
                .collect(),
        }
    };
    let global = crops(2 * b, 3, 32);
    let local = crops(2 * b, 2, 16);
    let masks = IbotMasks::sample(
        2 * b,
        &IbotMaskConfig::default(),
        &MaskingGenerator::for_grid(4).unwrap(),
        &mut AugRng::seed_from_u64(seed + 1),
    )
    .unwrap();
    Collated {
        global,
        local,
        masks,
    }
}

/// The workspace root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Stage schedules at `lr` over `epochs` of 10 iterations, without LR warm-up (so a few steps
/// already move the weights) and with a 1-epoch teacher-temperature warm-up.
pub fn short_schedules(epochs: usize, lr: f64) -> panopticon_train::Schedules {
    panopticon_train::Schedules::new(&panopticon_train::ScheduleConfig {
        epochs,
        epoch_length: 10,
        warmup_epochs: 0,
        warmup_teacher_temp_epochs: 1,
        ..panopticon_train::ScheduleConfig::panopticon_stage(lr)
    })
    .unwrap()
}
