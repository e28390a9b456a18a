//! `run.precision = "bf16"` on the CPU: Flex reports bf16 arithmetic (`supports_dtype`), so
//! pure bf16 training is allowed there; this is the proof that it trains. Its own test binary
//! with a single test: the float dtype of the process's one Flex device is fixed by the first
//! tensor created on it.
//!
//! Checks: parameters and gradients are bf16; on one fixed batch 6 steps lower the loss (as
//! the f32 test in `meta_arch.rs`); 100 steps of `converge_check.toml` give finite losses
//! whose 20-step mean falls by > 20 % (measured, steps 0–19 → 80–99: f32 6.81 → 3.32, bf16
//! 6.92 → 4.54); switching the locked device back to f32 is a typed error.

mod common;

use common::repo;

use common::batch_unpadded as batch;

use burn::prelude::*;
use burn::tensor::DType;
use panopticon_model::PanopticonConfig;
use panopticon_train::{
    ComputeDtype, MetaArchConfig, ParamGroupConfig, SslMetaArch, TrainConfig, TrainError,
    configure_compute_dtype, train,
};

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn bf16_trains_on_flex() {
    let dev = Device::default().autodiff();
    assert!(dev.supports_dtype(DType::BF16));
    configure_compute_dtype(std::slice::from_ref(&dev), ComputeDtype::Bf16).unwrap();
    // Idempotent; the locked device cannot go back to f32.
    configure_compute_dtype(std::slice::from_ref(&dev), ComputeDtype::Bf16).unwrap();
    let err = configure_compute_dtype(std::slice::from_ref(&dev), ComputeDtype::F32).unwrap_err();
    assert!(matches!(err, TrainError::Config { .. }), "{err}");
    assert!(err.to_string().contains("run.precision"), "{err}");

    // A fixed batch, as tests/meta_arch.rs does in f32: 6 steps lower the loss. (Longer runs
    // on one batch of 2 samples do not keep falling in either precision: the centre catches
    // up with the teacher and the targets flatten.)
    dev.seed(3);
    let mut cfg = MetaArchConfig::new(PanopticonConfig::tiny_test(), 64, 32, 16);
    cfg.koleo_loss_weight = 0.0;
    let sched = common::short_schedules(4, 5e-3);
    let rules = ParamGroupConfig::panopticon_stage(2).unwrap();
    let mut a = SslMetaArch::new(cfg, sched, rules, &dev).unwrap();
    assert_eq!(a.student.backbone.pos_embed.val().dtype(), DType::BF16);
    assert_eq!(a.teacher.backbone.pos_embed.val().dtype(), DType::BF16);
    let data = batch(2, 5);
    let (grads, _) = a.forward_backward(std::slice::from_ref(&data), 0).unwrap();
    let g = grads
        .get::<3>(a.student.backbone.pos_embed.id)
        .expect("pos_embed has a gradient");
    assert_eq!(g.dtype(), DType::BF16);
    let losses: Vec<f64> = (0..6)
        .map(|it| a.train_step(&data, it).unwrap().total)
        .collect();
    eprintln!("bf16 fixed batch: {losses:?}");
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(losses[5] < losses[0] - 1e-2, "{losses:?}");
    assert_eq!(a.student.backbone.pos_embed.val().dtype(), DType::BF16);

    // The loop with `run.precision = "bf16"`: converge_check for 100 steps.
    let dir = tempfile::tempdir().unwrap();
    let mut c = TrainConfig::from_file(repo().join("configs/train/converge_check.toml")).unwrap();
    let ds = repo().join("tests/fixtures/data/datasets");
    c.data.spectral_earth = Some(ds.join("spectral_earth"));
    c.data.satlas_root = Some(ds.join("satlas"));
    c.data.satlas_metadata = Some(ds.join("satlas/metadata_v2/satlas_fixture.jsonl"));
    c.run.output_dir = dir.path().to_path_buf();
    c.run.max_iters = Some(100);
    c.run.precision = ComputeDtype::Bf16;
    let s = {
        let _seeded = common::seeded();
        train(&c, &dev, false, None).unwrap()
    };
    let totals: Vec<f64> = s.steps.iter().map(|m| m.total).collect();
    let windows: Vec<f64> = totals.chunks(20).map(mean).collect();
    eprintln!("bf16 converge_check 20-step means: {windows:?}");
    assert!(totals.iter().all(|l| l.is_finite()));
    assert!(
        windows[4] < 0.8 * windows[0],
        "the loss falls in bf16: {windows:?}"
    );
}
