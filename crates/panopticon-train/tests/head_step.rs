//! One DINO training step on a real `DinoHead`: loss → backward → per-sub-module clipping →
//! AdamW with the Panopticon parameter rules addressed through Burn paths → teacher EMA.

mod common;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use common::*;
use panopticon_model::DinoHeadConfig;
use panopticon_train::{
    AdamW, AdamWConfig, Centering, DinoLoss, FreezeEpoch, ParamGroupConfig, clip_grad_norm,
    ema_update, torch_param_name,
};

#[test]
fn frozen_last_layer_stays_put_while_the_mlp_trains_and_the_teacher_follows() {
    let dev = Device::default().autodiff();
    dev.seed(7);
    let cfg = DinoHeadConfig::new(16)
        .with_out_dim(32)
        .with_hidden_dim(24)
        .with_bottleneck_dim(8);
    let mut student = cfg.init(&dev).unwrap();
    let mut teacher = student.valid();
    let mut loss_fn = DinoLoss::new(32, Centering::Softmax, &dev);
    // quick_check-like lengths without LR warm-up, so three steps move the weights.
    let sched = common::short_schedules(2, 1e-3);
    let rules = ParamGroupConfig::panopticon_stage(12).unwrap();
    let mut optim = AdamW::new(AdamWConfig::default());

    let v0 = values(student.last_layer.weight_v.val());
    let w0 = values(student.mlp[0].weight.val());
    let t0 = values(teacher.mlp[0].weight.val());
    let b = 4;
    let mut norms = Vec::new();
    for it in 0..3 {
        let x_t = Tensor::<2>::random(
            [2 * b, 16],
            Distribution::Normal(0.0, 1.0),
            &dev.clone().inner(),
        );
        let x_s = Tensor::<2>::random([2 * b, 16], Distribution::Normal(0.0, 1.0), &dev);
        let t_logits = teacher.forward(x_t);
        let probs = loss_fn
            .teacher_targets(t_logits, sched.teacher_temp.at(it))
            .unwrap()
            .autodiff();
        let terms = DinoLoss::crop_terms(None, student.forward(x_s), probs, 0).unwrap();
        let mut grads = GradientsParams::from_grads(terms.global.backward(), &student);
        norms.push(clip_grad_norm(&student, &mut grads, 3.0));
        student = optim.step(student, &mut grads, |path| {
            let rule = rules.rule(&torch_param_name("dino_head", path));
            sched.step_hyper(&rule, it, FreezeEpoch::PerIteration)
        });
        teacher = ema_update(teacher, &student, sched.momentum.at(it)).unwrap();
    }
    assert!(norms.iter().all(|n| n.is_finite() && *n > 0.0), "{norms:?}");
    assert_eq!(
        values(student.last_layer.weight_v.val()),
        v0,
        "last_layer frozen in epoch 0"
    );
    let w1 = values(student.mlp[0].weight.val());
    let t1 = values(teacher.mlp[0].weight.val());
    let moved = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    assert!(moved(&w1, &w0) > 1e-5, "the student MLP trains");
    let t_moved = moved(&t1, &t0);
    assert!(
        t_moved > 0.0 && t_moved < moved(&w1, &w0),
        "teacher follows slowly ({t_moved:e})"
    );
    assert!(loss_fn.center.has_pending_update());
    assert!(student.mlp[0].weight.val().is_require_grad());
}
