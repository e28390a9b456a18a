//! `SslMetaArch::train_step` on a synthetic collated batch with the tiny model: finite loss,
//! student moves, teacher moves by exactly the EMA, frozen last layer, loss decreases.

mod common;

use burn::prelude::*;
use common::{batch, values};
use panopticon_model::PanopticonConfig;
use panopticon_train::{MetaArchConfig, ParamGroupConfig, SslMetaArch};

fn arch(lr: f64, koleo: f64) -> SslMetaArch {
    let dev = Device::default().autodiff();
    dev.seed(3);
    let mut cfg = MetaArchConfig::new(PanopticonConfig::tiny_test(), 64, 32, 16);
    cfg.koleo_loss_weight = koleo;
    let sched = common::short_schedules(2, lr);
    let rules = ParamGroupConfig::panopticon_stage(2).unwrap();
    SslMetaArch::new(cfg, sched, rules, &dev).unwrap()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn one_step_moves_student_teacher_by_ema_and_keeps_last_layer_frozen() {
    let _seeded = common::seeded();
    let mut a = arch(1e-3, 0.1);
    let data = batch(2, 11);
    assert!(data.masks.n_masked_patches() > 0);
    let s_blk0 = values(a.student.backbone.blocks[0].attn.qkv.weight.val());
    let s_head0 = values(a.student.dino_head.mlp[0].weight.val());
    let t_blk0 = values(a.teacher.backbone.blocks[0].attn.qkv.weight.val());
    let s_v0 = values(a.student.dino_head.last_layer.weight_v.val());
    let t_v0 = values(a.teacher.dino_head.last_layer.weight_v.val());
    assert_eq!(s_blk0, t_blk0, "teacher starts as a copy of the student");

    let m = a.train_step(&data, 0).unwrap();
    assert!(m.total.is_finite() && m.total > 0.0, "{m:?}");
    assert!(
        m.dino_local > 0.0 && m.dino_global > 0.0 && m.ibot > 0.0,
        "{m:?}"
    );
    assert!(m.koleo.is_finite() && m.koleo != 0.0, "{m:?}");
    assert!(
        m.grad_norm_backbone > 0.0 && m.grad_norm_head > 0.0,
        "{m:?}"
    );

    let s_blk1 = values(a.student.backbone.blocks[0].attn.qkv.weight.val());
    let s_head1 = values(a.student.dino_head.mlp[0].weight.val());
    assert!(max_diff(&s_blk1, &s_blk0) > 1e-6, "backbone trains");
    assert!(max_diff(&s_head1, &s_head0) > 1e-6, "head trains");

    // Teacher = m·teacher + (1 − m)·student_new, nothing else.
    let t_blk1 = values(a.teacher.backbone.blocks[0].attn.qkv.weight.val());
    let mom = m.momentum;
    let expected: Vec<f64> = t_blk0
        .iter()
        .zip(&s_blk1)
        .map(|(t, s)| mom * t + (1.0 - mom) * s)
        .collect();
    assert!(
        max_diff(&t_blk1, &expected) < 1e-6,
        "teacher follows the EMA"
    );
    assert!(max_diff(&t_blk1, &t_blk0) > 0.0, "teacher moved");
    assert!(!a.teacher.backbone.cls_token.val().is_require_grad());

    assert_eq!(
        values(a.student.dino_head.last_layer.weight_v.val()),
        s_v0,
        "last_layer frozen in epoch 0"
    );
    let t_v1 = values(a.teacher.dino_head.last_layer.weight_v.val());
    assert!(
        max_diff(&t_v1, &t_v0) < 1e-7,
        "teacher last layer = EMA of an unchanged student"
    );
    assert!(a.dino_loss.center.has_pending_update());
}

#[test]
fn a_few_steps_on_one_batch_reduce_the_loss() {
    let _seeded = common::seeded();
    let mut a = arch(5e-3, 0.0);
    let data = batch(2, 5);
    let losses: Vec<f64> = (0..6)
        .map(|it| a.train_step(&data, it).unwrap().total)
        .collect();
    eprintln!("losses {losses:?}");
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(
        losses[5] < losses[0] - 1e-3,
        "loss should drop on a fixed batch: {losses:?}"
    );
}

#[test]
fn last_layer_unfreezes_in_epoch_one_and_variants_train() {
    let _seeded = common::seeded();
    // Epoch length 10: iteration 10 is in epoch 1, where `last_layer=1` no longer freezes.
    let mut a = arch(1e-3, 0.0);
    let data = batch(2, 9);
    let v0 = values(a.student.dino_head.last_layer.weight_v.val());
    a.train_step(&data, 10).unwrap();
    let v1 = values(a.student.dino_head.last_layer.weight_v.val());
    assert!(max_diff(&v1, &v0) > 1e-7, "last_layer trains after epoch 0");

    // Separate iBOT head + Sinkhorn-Knopp targets.
    let dev = Device::default().autodiff();
    let mut cfg = MetaArchConfig::new(PanopticonConfig::tiny_test(), 64, 32, 16);
    cfg.ibot_head = Some(cfg.head.clone().with_out_dim(48));
    cfg.centering = panopticon_train::Centering::SinkhornKnopp;
    let sched = common::short_schedules(2, 1e-3);
    let rules = ParamGroupConfig::panopticon_stage(2).unwrap();
    let mut a = SslMetaArch::new(cfg, sched, rules, &dev).unwrap();
    let h0 = values(a.student.ibot_head.as_ref().unwrap().mlp[0].weight.val());
    let m = a.train_step(&data, 0).unwrap();
    assert!(m.total.is_finite() && m.ibot > 0.0, "{m:?}");
    let h1 = values(a.student.ibot_head.as_ref().unwrap().mlp[0].weight.val());
    assert!(max_diff(&h1, &h0) > 1e-6, "the separate iBOT head trains");
    assert!(
        !a.dino_loss.center.has_pending_update(),
        "no centre with SK"
    );
}
