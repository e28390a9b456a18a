//! The training loop over the bundled SpectralEarth + Satlas fixtures: config parsing (unknown
//! keys named), metrics.jsonl, checkpoint rotation, teacher snapshot loadable by
//! `Panopticon::from_file`, and resume reproducing an uninterrupted run.

mod common;

use common::repo;

use std::path::{Path, PathBuf};

use burn::prelude::*;
use common::values;
use panopticon_model::Panopticon;
use panopticon_train::checkpoint::last_checkpoint;
use panopticon_train::{SslMetaArch, TrainConfig, TrainError, load_checkpoint, train};

/// `configs/train/quick_check.toml` with absolute fixture paths, a short run and `out`.
fn quick(out: &Path, iters: usize) -> TrainConfig {
    let mut c = TrainConfig::from_file(repo().join("configs/train/quick_check.toml")).unwrap();
    let ds = repo().join("tests/fixtures/data/datasets");
    c.data.spectral_earth = Some(ds.join("spectral_earth"));
    c.data.satlas_root = Some(ds.join("satlas"));
    c.data.satlas_metadata = Some(ds.join("satlas/metadata_v2/satlas_fixture.jsonl"));
    c.data.batch_size = 2;
    c.data.n_local = 2;
    c.run.output_dir = out.to_path_buf();
    c.run.max_iters = Some(iters);
    c.run.checkpoint_every = 2;
    c.run.keep_last = 2;
    c
}

fn metric_lines(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn unknown_config_key_is_an_error_naming_it() {
    let text = std::fs::read_to_string(repo().join("configs/train/quick_check.toml")).unwrap();
    assert!(TrainConfig::from_toml(&text).is_ok());
    let bad = text.replace("clip_grad = 3.0", "clip_grad = 3.0\nclip_gradient = 1.0");
    let err = TrainConfig::from_toml(&bad).unwrap_err();
    assert!(matches!(err, TrainError::Format { .. }), "{err}");
    assert!(err.to_string().contains("clip_gradient"), "{err}");
    let bad = text.replace("[data]", "[dataset]");
    assert!(
        TrainConfig::from_toml(&bad)
            .unwrap_err()
            .to_string()
            .contains("dataset")
    );
}

#[test]
fn loop_logs_checkpoints_and_teacher_snapshot_loads_in_panopticon() {
    let _seeded = common::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = quick(dir.path(), 6);
    let dev = Device::default().autodiff();
    let s = train(&cfg, &dev, false, None).unwrap();
    assert_eq!(s.steps.len(), 6);
    assert!(s.steps.iter().all(|m| m.total.is_finite() && m.total > 0.0));
    let lines = metric_lines(dir.path());
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[5]["iteration"], 5);
    assert!(
        lines
            .iter()
            .all(|l| l["lr"].is_f64() && l["total_loss"].is_f64())
    );

    // Rotation: checkpoints at 2, 4, 6; the newest two are kept.
    let ckpts = dir.path().join("checkpoints");
    let mut names: Vec<String> = std::fs::read_dir(&ckpts)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ckpt_0000004", "ckpt_0000006", "last_checkpoint"]);
    let last = last_checkpoint(&ckpts).unwrap().unwrap();
    assert!(last.ends_with("ckpt_0000006"));

    // The teacher snapshot loads strictly into a plain Panopticon...
    let inference = Device::default();
    let (teacher, _report) = Panopticon::from_file(
        &cfg.backbone().unwrap(),
        last.join("teacher_backbone.bpk"),
        &inference,
    )
    .unwrap();
    // ...with the same weights the full-state loader restores.
    let mut arch = SslMetaArch::new(
        cfg.meta_arch(0).unwrap(),
        cfg.schedules().unwrap(),
        cfg.rules().unwrap(),
        &dev,
    )
    .unwrap();
    let fresh = values(arch.teacher.backbone.pos_embed.val());
    let state = load_checkpoint(&mut arch, &last).unwrap();
    assert_eq!(state.iteration, 6);
    let restored = values(arch.teacher.backbone.pos_embed.val());
    assert_ne!(restored, fresh);
    assert_eq!(values(teacher.pos_embed.val()), restored);
    assert_ne!(
        values(arch.student.backbone.pos_embed.val()),
        restored,
        "teacher is an EMA, not the student"
    );
    assert!(arch.optim.num_states() > 0);
    assert!(
        arch.dino_loss
            .center
            .value()
            .abs()
            .sum()
            .into_scalar::<f64>()
            > 0.0
    );
}

#[test]
fn resume_reproduces_the_uninterrupted_run() {
    let _seeded = common::seeded();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let dev = Device::default().autodiff();
    let full = train(&quick(a.path(), 6), &dev, false, None).unwrap();
    let first = train(&quick(b.path(), 6), &dev, false, Some(3)).unwrap();
    assert_eq!(first.steps.len(), 3);
    let rest = train(&quick(b.path(), 6), &dev, true, None).unwrap();
    assert_eq!(rest.start_iter, 3);
    let resumed: Vec<f64> = first
        .steps
        .iter()
        .chain(&rest.steps)
        .map(|m| m.total)
        .collect();
    let straight: Vec<f64> = full.steps.iter().map(|m| m.total).collect();
    eprintln!("straight {straight:?}\nresumed  {resumed:?}");
    // Same batches, same state: bit-identical on CPU.
    assert_eq!(straight, resumed);
    assert_eq!(metric_lines(b.path()).len(), 6);
    // ...because the resumed sampler was skipped ahead to the same samples.
    let resumed_ids: Vec<Vec<u64>> = first
        .sample_ids
        .iter()
        .chain(&rest.sample_ids)
        .cloned()
        .collect();
    assert_eq!(full.sample_ids, resumed_ids);
    assert_eq!(rest.sample_ids[0], full.sample_ids[3]);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(b.path().join("checkpoints/ckpt_0000006/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["data"]["sampler_tasks"], 12, "6 steps × batch 2");
    assert_eq!(state["data"]["batches"], 6);

    // Resuming with another seed would silently change the data order: refused.
    let mut other = quick(b.path(), 8);
    other.run.seed += 1;
    let err = train(&other, &dev, true, None).unwrap_err();
    assert!(err.to_string().contains("run.seed"), "{err}");
}

#[test]
fn accumulated_run_resumes_bit_identically_with_the_same_samples() {
    let _seeded = common::seeded();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let dev = Device::default().autodiff();
    let cfg = |out: &Path| {
        let mut c = quick(out, 4);
        c.data.batch_size = 1;
        c.optim.gradient_accumulation_steps = 2;
        c.loss.koleo_weight = 0.0; // KoLeo needs ≥ 2 samples per micro-batch
        c
    };
    let full = train(&cfg(a.path()), &dev, false, None).unwrap();
    // Two loader batches of one sample per step: 8 distinct consecutive sample numbers.
    let flat: Vec<u64> = full.sample_ids.iter().flatten().copied().collect();
    assert_eq!(flat, (0..8).collect::<Vec<u64>>());
    let first = train(&cfg(b.path()), &dev, false, Some(1)).unwrap();
    let rest = train(&cfg(b.path()), &dev, true, None).unwrap();
    assert_eq!(rest.start_iter, 1);
    assert_eq!(rest.sample_ids[0], vec![2, 3]);
    let resumed: Vec<f64> = first
        .steps
        .iter()
        .chain(&rest.steps)
        .map(|m| m.total)
        .collect();
    let straight: Vec<f64> = full.steps.iter().map(|m| m.total).collect();
    assert_eq!(straight, resumed);
}

/// FMoW (with its stage-2 tiling subset) and MMEarth feed training through `[data]`, each
/// alone and concatenated; the effective config is saved in the run.
#[test]
fn fmow_and_mmearth_train_through_the_data_section() {
    let _seeded = common::seeded();
    let fx = repo().join("tests/fixtures/data");
    for (fmow, mmearth) in [(true, false), (false, true), (true, true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = quick(dir.path(), 2);
        cfg.data.spectral_earth = None;
        cfg.data.satlas_root = None;
        cfg.data.satlas_metadata = None;
        if fmow {
            cfg.data.fmow_root = Some(fx.join("fmow"));
            cfg.data.fmow_max_crop = Some(24);
            cfg.data.fmow_subset = Some(40);
        }
        if mmearth {
            cfg.data.mmearth = Some(fx.join("mmearth/data_tiny_v001"));
        }
        cfg.data.global_size = 16;
        cfg.data.local_size = 8;
        let dev = Device::default().autodiff();
        let s = train(&cfg, &dev, false, None)
            .unwrap_or_else(|e| panic!("fmow {fmow} mmearth {mmearth}: {e}"));
        assert_eq!(s.steps.len(), 2);
        assert!(s.steps.iter().all(|m| m.total.is_finite()));
        let saved = TrainConfig::from_file(dir.path().join("config.toml")).unwrap();
        assert_eq!(saved, cfg);
    }
}

#[test]
fn set_overrides_apply_typed_values_and_name_bad_keys() {
    let path = repo().join("configs/train/quick_check.toml");
    let sets = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let c = TrainConfig::from_file_with(
        &path,
        &sets(&[
            "optim.lr=1e-3",
            "run.output_dir=runs/override",
            "data.global_channels=[2, 3]",
            "data.fmow_root=\"data\"",
        ]),
    )
    .unwrap();
    assert_eq!(c.optim.lr, 1e-3);
    assert_eq!(c.run.output_dir, PathBuf::from("runs/override"));
    assert_eq!(c.data.global_channels, [2, 3]);
    assert_eq!(c.data.fmow_root, Some(PathBuf::from("data")));
    for (bad, needle) in [
        ("optim.learning_rate=1", "learning_rate"),
        ("optimiser.lr=1", "optimiser"),
        ("optim.lr=fast", "lr"),
        ("optim.lr", "section.key=value"),
    ] {
        let err = TrainConfig::from_file_with(&path, &sets(&[bad])).unwrap_err();
        assert!(err.to_string().contains(needle), "{bad}: {err}");
    }
}
