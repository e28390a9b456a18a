//! Gradient accumulation: two micro-batches of `B` samples against one batch of `2B` (the same
//! samples, crops and iBOT masks, split by `split_batch`) on the tiny model.
//!
//! Tolerances: per parameter tensor, `max |g_acc − g_big| ≤ 1e-5 · max |g_big| + 1e-9` (f32
//! sums in a different order); loss values relative 1e-6; DINO centre statistic abs 1e-6.
//! KoLeo (nearest neighbours within each micro-batch) is *not* a batch mean and is shown to
//! differ; Sinkhorn-Knopp (normalised over each micro-batch's rows) only runs and stays close.

mod common;

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use common::{batch, values};
use panopticon_model::PanopticonConfig;
use panopticon_train::{
    Centering, MetaArchConfig, ParamGroupConfig, SslMetaArch, SslModules, TrainError, split_batch,
};

fn arch(koleo: f64, centering: Centering) -> SslMetaArch {
    let dev = Device::default().autodiff();
    dev.seed(3);
    let mut cfg = MetaArchConfig::new(PanopticonConfig::tiny_test(), 64, 32, 16);
    cfg.koleo_loss_weight = koleo;
    cfg.centering = centering;
    let sched = common::short_schedules(2, 1e-3);
    let rules = ParamGroupConfig::panopticon_stage(2).unwrap();
    SslMetaArch::new(cfg, sched, rules, &dev).unwrap()
}

/// Every parameter's gradient, in visit order.
struct Grads<'a>(&'a GradientsParams, Vec<Vec<f64>>);

impl ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
        if let Some(g) = self.0.get::<D>(p.id) {
            self.1.push(values(g));
        }
    }
}

fn grads_of(student: &SslModules, g: &GradientsParams) -> Vec<Vec<f64>> {
    let mut v = Grads(g, Vec::new());
    burn::module::Module::visit(student, &mut v);
    v.1
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn two_micro_batches_give_the_gradient_of_one_double_batch() {
    let _seeded = common::seeded();
    let big = batch(4, 21);
    assert!(big.masks.n_masked_patches() > 0);
    let micro = split_batch(&big, 2).unwrap();
    assert_eq!(micro.len(), 2);
    assert!(micro.iter().all(|m| m.global.n == 4 && m.local.n == 4));

    let mut a = arch(0.0, Centering::Softmax);
    let (g_big, l_big) = a.forward_backward(std::slice::from_ref(&big), 0).unwrap();
    let mut b = arch(0.0, Centering::Softmax);
    let (g_acc, l_acc) = b.forward_backward(&micro, 0).unwrap();

    for (name, x, y) in [
        ("total", l_acc.total, l_big.total),
        ("dino_local", l_acc.dino_local, l_big.dino_local),
        ("dino_global", l_acc.dino_global, l_big.dino_global),
        ("ibot", l_acc.ibot, l_big.ibot),
    ] {
        let rel = (x - y).abs() / y.abs();
        eprintln!("{name}: accumulated {x} big {y} (rel {rel:e})");
        assert!(rel < 1e-6, "{name}: {x} vs {y}");
    }
    let ga = grads_of(&b.student, &g_acc);
    let gb = grads_of(&a.student, &g_big);
    assert_eq!(ga.len(), gb.len());
    assert!(ga.len() > 20, "gradients for every trainable tensor");
    let mut worst = 0.0f64;
    for (i, (x, y)) in ga.iter().zip(&gb).enumerate() {
        let scale = max_abs(y);
        let err = x
            .iter()
            .zip(y)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
        worst = worst.max(err / scale.max(1e-30));
        assert!(
            err <= 1e-5 * scale + 1e-9,
            "param {i}: |Δg| {err:e}, max |g| {scale:e}"
        );
    }
    eprintln!("worst relative gradient error {worst:e}");

    // The DINO centre statistic is the big batch's row mean.
    let ca = values(b.dino_loss.center.pending().unwrap());
    let cb = values(a.dino_loss.center.pending().unwrap());
    let err = ca
        .iter()
        .zip(&cb)
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    assert!(err < 1e-6, "dino centre statistic |Δ| {err:e}");

    // A full step with accumulation runs and moves the student.
    let before = values(b.student.backbone.blocks[0].attn.qkv.weight.val());
    let mut c = arch(0.0, Centering::Softmax);
    let m = c.train_step_accumulated(&micro, 0).unwrap();
    assert!((m.total - l_big.total).abs() / l_big.total < 1e-6, "{m:?}");
    let after = values(c.student.backbone.blocks[0].attn.qkv.weight.val());
    assert_ne!(before, after);
}

#[test]
fn koleo_and_sinkhorn_are_batch_statistics_and_differ() {
    let _seeded = common::seeded();
    let big = batch(4, 22);
    let micro = split_batch(&big, 2).unwrap();
    let (_, l_big) = arch(0.1, Centering::Softmax)
        .forward_backward(std::slice::from_ref(&big), 0)
        .unwrap();
    let (_, l_acc) = arch(0.1, Centering::Softmax)
        .forward_backward(&micro, 0)
        .unwrap();
    eprintln!("koleo: accumulated {} big {}", l_acc.koleo, l_big.koleo);
    assert!((l_acc.dino_global - l_big.dino_global).abs() / l_big.dino_global < 1e-6);
    // Nearest neighbours among 2 vs 4 vectors: not the same term.
    assert!((l_acc.koleo - l_big.koleo).abs() > 1e-3 * l_big.koleo.abs());

    let (_, s_big) = arch(0.0, Centering::SinkhornKnopp)
        .forward_backward(std::slice::from_ref(&big), 0)
        .unwrap();
    let (_, s_acc) = arch(0.0, Centering::SinkhornKnopp)
        .forward_backward(&micro, 0)
        .unwrap();
    // At init the teacher is nearly uniform, so per-micro-batch SK lands close to the big
    // batch's (6e-7 apart here) but is not the same computation.
    eprintln!(
        "SK dino_global: accumulated {} big {}",
        s_acc.dino_global, s_big.dino_global
    );
    assert!(s_acc.total.is_finite() && s_big.total.is_finite());
    assert!((s_acc.dino_global - s_big.dino_global).abs() < 1e-3 * s_big.dino_global);
}

#[test]
fn split_batch_keeps_rows_and_weights_and_rejects_bad_splits() {
    let big = batch(4, 23);
    let parts = split_batch(&big, 4).unwrap();
    let (c, s) = (big.global.channels, big.global.size);
    let img = c * s * s;
    for (p, part) in parts.iter().enumerate() {
        // Row 0 of the part = crop 0 of sample p; row 1 = crop 1 of sample p (= big row 4 + p).
        assert_eq!(
            part.global.imgs[..img],
            big.global.imgs[p * img..(p + 1) * img]
        );
        assert_eq!(
            part.global.imgs[img..],
            big.global.imgs[(4 + p) * img..(5 + p) * img]
        );
        assert_eq!(part.masks.masks_weight.len(), part.masks.mask_indices.len());
        assert_eq!(part.masks.n_masked_patches(), part.masks.upperbound);
    }
    let m: usize = parts.iter().map(|p| p.masks.n_masked_patches()).sum();
    assert_eq!(m, big.masks.n_masked_patches());
    let w: f64 = parts
        .iter()
        .flat_map(|p| p.masks.masks_weight.iter().map(|&x| x as f64))
        .sum();
    let w_big: f64 = big.masks.masks_weight.iter().map(|&x| x as f64).sum();
    assert!((w - w_big).abs() < 1e-6);

    for bad in [0, 3, 8] {
        let err = split_batch(&big, bad).unwrap_err();
        assert!(matches!(err, TrainError::Shape { .. }), "{err}");
    }
}
