//! Data parallel over replica devices: two replicas on `cpu,cpu` (Flex has one device; two
//! replicas on it are two threads with forked students) against one device with gradient
//! accumulation over the same samples; resume with another device count; `--device` lists.
//!
//! Tolerances: 2 replicas × 1 micro-batch vs 1 device × 2 micro-batches is **bit-exact** over
//! 3 steps (same per-micro-batch graphs; gradients, losses and statistics summed in the same
//! order). 2 × 2 vs 1 × 4 sums `(g0+g1)+(g2+g3)` instead of `((g0+g1)+g2)+g3`: one step's
//! gradients within `1e-5·max|g| + 1e-9` per tensor, loss relative 1e-6, DINO centre
//! statistic abs 1e-6 (measured: 1.1e-7 relative); after 3 AdamW steps (lr 1e-3) parameters
//! within 1e-4 absolute and losses/grad norms relative 1e-4 (measured: 2.8e-5 and 1.1e-5).

mod common;

use common::repo;

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use common::{batch, values};
use panopticon_data::augment::Collated;
use panopticon_model::PanopticonConfig;
use panopticon_model::device::DeviceError;
use panopticon_train::{
    MetaArchConfig, ParamGroupConfig, SslMetaArch, StepMetrics, TrainConfig, TrainError,
    parse_devices, train, train_on,
};

/// The tiny model with KoLeo on (per replica = per micro-batch, so it matches too).
fn arch(replicas: usize) -> SslMetaArch {
    let dev = Device::default().autodiff();
    dev.seed(5);
    let mut cfg = MetaArchConfig::new(PanopticonConfig::tiny_test(), 64, 32, 16);
    cfg.koleo_loss_weight = 0.1;
    let sched = common::short_schedules(2, 1e-3);
    let rules = ParamGroupConfig::panopticon_stage(2).unwrap();
    SslMetaArch::new(cfg, sched, rules, &dev)
        .unwrap()
        .with_devices(&vec![dev; replicas])
        .unwrap()
}

/// Every float parameter of student and teacher, plus both centres (value and pending).
fn state(a: &SslMetaArch) -> Vec<Vec<f64>> {
    struct All(Vec<Vec<f64>>);
    impl ModuleVisitor for All {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            self.0.push(values(p.val()));
        }
    }
    let mut v = All(Vec::new());
    a.student.visit(&mut v);
    a.teacher.visit(&mut v);
    for c in [&a.dino_loss.center, &a.ibot_loss.center] {
        v.0.push(values(c.value()));
        v.0.extend(c.pending().map(values));
    }
    v.0
}

fn losses(m: &StepMetrics) -> [f64; 7] {
    [
        m.total,
        m.dino_local,
        m.dino_global,
        m.koleo,
        m.ibot,
        m.grad_norm_backbone,
        m.grad_norm_head,
    ]
}

/// Runs 3 steps of `per_step` micro-batches of 2 samples on `replicas` devices.
fn run(replicas: usize, per_step: usize) -> (Vec<[f64; 7]>, Vec<Vec<f64>>) {
    let mut a = arch(replicas);
    let mut out = Vec::new();
    for it in 0..3 {
        let micro: Vec<Collated> = (0..per_step)
            .map(|k| batch(2, 100 * it as u64 + 10 * k as u64))
            .collect();
        let m = a.train_step_accumulated(&micro, it).unwrap();
        out.push(losses(&m));
    }
    (out, state(&a))
}

#[test]
fn two_replicas_equal_two_accumulated_micro_batches_bit_for_bit() {
    let _seeded = common::seeded();
    let (l_dp, s_dp) = run(2, 2);
    let (l_acc, s_acc) = {
        let mut a = arch(1);
        let mut out = Vec::new();
        for it in 0..3 {
            let micro: Vec<Collated> = (0..2)
                .map(|k| batch(2, 100 * it as u64 + 10 * k as u64))
                .collect();
            out.push(losses(&a.train_step_accumulated(&micro, it).unwrap()));
        }
        (out, state(&a))
    };
    eprintln!("data parallel {l_dp:?}\naccumulated   {l_acc:?}");
    assert!(l_dp.iter().flatten().all(|x| x.is_finite()));
    assert_eq!(l_dp, l_acc);
    assert_eq!(s_dp.len(), s_acc.len());
    assert!(s_dp.len() > 40, "student, teacher and centres compared");
    for (i, (x, y)) in s_dp.iter().zip(&s_acc).enumerate() {
        assert_eq!(x, y, "tensor {i}");
    }
    // The steps did train: the student moved away from a fresh init.
    assert_ne!(state(&arch(1))[0], s_dp[0]);
}

#[test]
fn replicas_with_accumulation_match_one_device_accumulating_all() {
    let _seeded = common::seeded();
    // One step's gradients: 2 replicas × 2 micro-batches vs 1 device × 4.
    let micro: Vec<Collated> = (0..4).map(|k| batch(2, 7 + 10 * k)).collect();
    let grads = |replicas: usize| {
        let mut a = arch(replicas);
        let (g, l) = a.forward_backward(&micro, 0).unwrap();
        (
            grads_of(&a.student, &g),
            l,
            values(a.dino_loss.center.pending().unwrap()),
        )
    };
    let (g_dp, l_dp, c_dp) = grads(2);
    let (g_acc, l_acc, c_acc) = grads(1);
    assert!(
        (l_dp.total - l_acc.total).abs() <= 1e-6 * l_acc.total,
        "{l_dp:?} {l_acc:?}"
    );
    assert_eq!(g_dp.len(), g_acc.len());
    let mut worst = 0.0f64;
    for (i, (x, y)) in g_dp.iter().zip(&g_acc).enumerate() {
        let (err, scale) = max_diff(x, y);
        worst = worst.max(err / scale.max(1e-30));
        assert!(
            err <= 1e-5 * scale + 1e-9,
            "grad {i}: |Δ| {err:e}, max {scale:e}"
        );
    }
    eprintln!("2×2 vs 1×4 gradients: worst relative difference {worst:e}");
    let (err, _) = max_diff(&c_dp, &c_acc);
    assert!(err <= 1e-6, "DINO centre statistic |Δ| {err:e}");

    // Three steps: the summation order makes the runs drift apart only at f32 noise level.
    let (l_dp, s_dp) = run(2, 4);
    let (l_acc, s_acc) = run(1, 4);
    eprintln!("2×2 {l_dp:?}\n1×4 {l_acc:?}");
    for (x, y) in l_dp.iter().flatten().zip(l_acc.iter().flatten()) {
        assert!((x - y).abs() <= 1e-4 * y.abs(), "{x} vs {y}");
    }
    let mut worst = 0.0f64;
    for (i, (x, y)) in s_dp.iter().zip(&s_acc).enumerate() {
        let (err, _) = max_diff(x, y);
        worst = worst.max(err);
        // AdamW steps near-zero gradient components by ≈ lr·sign(g): f32 noise in such a
        // component moves its parameter by a fraction of lr (1e-3); 1e-4 = 10 % of one step.
        assert!(err <= 1e-4, "tensor {i}: |Δ| {err:e}");
    }
    eprintln!("2×2 vs 1×4 after 3 steps: worst parameter |Δ| {worst:e}");
}

/// Every student gradient, in visit order.
fn grads_of(student: &panopticon_train::SslModules, g: &GradientsParams) -> Vec<Vec<f64>> {
    struct Grads<'a>(&'a GradientsParams, Vec<Vec<f64>>);
    impl ModuleVisitor for Grads<'_> {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
            if let Some(g) = self.0.get::<D>(p.id) {
                self.1.push(values(g));
            }
        }
    }
    let mut v = Grads(g, Vec::new());
    student.visit(&mut v);
    v.1
}

/// `(max |x − y|, max |y|)`.
fn max_diff(x: &[f64], y: &[f64]) -> (f64, f64) {
    let err = x
        .iter()
        .zip(y)
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    (err, y.iter().fold(0.0f64, |m, v| m.max(v.abs())))
}

#[test]
fn uneven_splits_and_replica_errors_are_typed() {
    let _seeded = common::seeded();
    let mut a = arch(2);
    let micro = vec![batch(2, 1), batch(2, 2), batch(2, 3)];
    let err = a.train_step_accumulated(&micro, 0).unwrap_err();
    assert!(matches!(err, TrainError::Config { .. }), "{err}");
    assert!(err.to_string().contains("2 devices"), "{err}");
    // A typed error inside replica 1's thread comes back as that error.
    let mut bad = batch(2, 4);
    bad.global.n = 3;
    let err = a
        .train_step_accumulated(&[batch(2, 1), bad], 0)
        .unwrap_err();
    assert!(matches!(err, TrainError::Shape { .. }), "{err}");
    let Err(other) = arch(1).with_devices(&[]) else {
        panic!("an empty device list is refused");
    };
    assert!(other.to_string().contains("--device"), "{other}");
}

#[test]
fn device_lists_parse_and_bad_ones_are_typed_errors() {
    assert_eq!(parse_devices("cpu").unwrap().len(), 1);
    let two = parse_devices("cpu, cpu").unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0], two[1], "Flex has one device: two replicas share it");
    for (spec, needle) in [
        ("", "entry 0 is empty"),
        ("cpu,,cpu", "entry 1 is empty"),
        ("cpu,", "entry 1 is empty"),
        ("cpu,cuda:0", "mixes the `cpu` and `cuda` backends"),
        ("wgpu,cpu", "mixes the `wgpu` and `cpu` backends"),
    ] {
        let err = parse_devices(spec).unwrap_err();
        assert!(
            matches!(err, TrainError::DeviceList { .. }),
            "{spec}: {err}"
        );
        assert!(err.to_string().contains(needle), "{spec}: {err}");
        assert!(err.to_string().contains("--device"), "{spec}: {err}");
    }
    let err = parse_devices("cpu,tpu").unwrap_err();
    assert!(
        matches!(err, TrainError::DeviceList { .. }),
        "an unknown name is another backend: {err}"
    );
    let err = parse_devices("tpu,tpu").unwrap_err();
    assert!(
        matches!(err, TrainError::Device(DeviceError::Unknown(_))),
        "{err}"
    );
    if !cfg!(feature = "cuda") {
        let err = parse_devices("cuda:0,cuda:1").unwrap_err();
        assert!(
            matches!(
                err,
                TrainError::Device(DeviceError::NotCompiled {
                    feature: "cuda",
                    ..
                })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("--features cuda"), "{err}");
    }
}

/// `configs/train/quick_check.toml` on the bundled fixtures: 1 sample per loader batch.
fn quick(out: &Path, iters: usize) -> TrainConfig {
    let mut c = TrainConfig::from_file(repo().join("configs/train/quick_check.toml")).unwrap();
    let ds = repo().join("tests/fixtures/data/datasets");
    c.data.spectral_earth = Some(ds.join("spectral_earth"));
    c.data.satlas_root = Some(ds.join("satlas"));
    c.data.satlas_metadata = Some(ds.join("satlas/metadata_v2/satlas_fixture.jsonl"));
    c.data.batch_size = 1;
    c.data.n_local = 2;
    c.loss.koleo_weight = 0.0; // KoLeo needs ≥ 2 samples per micro-batch
    c.run.output_dir = out.to_path_buf();
    c.run.max_iters = Some(iters);
    c.run.checkpoint_every = 1;
    c.run.keep_last = 2;
    c
}

#[test]
fn two_device_run_matches_accumulation_resumes_and_refuses_another_device_count() {
    let _seeded = common::seeded();
    let dev = Device::default().autodiff();
    let two = [dev.clone(), dev.clone()];
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // 2 devices × batch 1 against 1 device × accumulation 2: the same samples and losses.
    let dp = train_on(&quick(a.path(), 3), &two, false, None).unwrap();
    let mut acc_cfg = quick(b.path(), 3);
    acc_cfg.optim.gradient_accumulation_steps = 2;
    let acc = train(&acc_cfg, &dev, false, None).unwrap();
    assert_eq!(dp.sample_ids, acc.sample_ids);
    assert_eq!(
        dp.sample_ids[1],
        vec![2, 3],
        "2 devices × 1 sample per step"
    );
    let totals = |s: &panopticon_train::RunSummary| -> Vec<f64> {
        s.steps.iter().map(|m| m.total).collect()
    };
    assert_eq!(totals(&dp), totals(&acc));
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.path().join("checkpoints/ckpt_0000003/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["devices"], 2);
    assert_eq!(state["data"]["sampler_tasks"], 6);

    // Interrupted after 1 step and resumed on 2 devices: bit-identical to the straight run.
    let first = train_on(&quick(c.path(), 3), &two, false, Some(1)).unwrap();
    let rest = train_on(&quick(c.path(), 3), &two, true, None).unwrap();
    assert_eq!(rest.start_iter, 1);
    assert_eq!(rest.sample_ids[0], dp.sample_ids[1]);
    let resumed: Vec<f64> = totals(&first).into_iter().chain(totals(&rest)).collect();
    assert_eq!(resumed, totals(&dp));

    // Resuming the 2-device run on 1 device (or 3) would regroup the samples: refused.
    for n in [1, 3] {
        let err = train_on(&quick(c.path(), 4), &vec![dev.clone(); n], true, None).unwrap_err();
        assert!(
            matches!(
                err,
                TrainError::DeviceCount {
                    checkpoint: 2,
                    requested
                } if requested == n
            ),
            "{err}"
        );
        assert!(err.to_string().contains("--device"), "{err}");
    }
    // A 1-device checkpoint refuses 2 devices the same way.
    let err = train_on(&acc_cfg, &two, true, None).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::DeviceCount {
                checkpoint: 1,
                requested: 2
            }
        ),
        "{err}"
    );
}
