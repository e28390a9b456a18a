//! Global-norm clipping + per-parameter AdamW (three steps, one unclipped) and the EMA
//! update against torch (`clip_grad_norm_`, `torch.optim.AdamW(foreach=True)`,
//! `torch._foreach_mul_/add_`). Tolerances: norm 1e-5 relative; parameters 2e-6 absolute +
//! 1e-5 relative (f32 and torch's `lerp` vs our `β·m + (1−β)·g`); EMA 1e-6 absolute.

mod common;

use std::collections::HashMap;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use common::*;
use panopticon_train::{AdamW, AdamWConfig, StepHyper, TrainError, clip_grad_norm, ema_update};
use serde_json::Value;

#[derive(Module, Debug)]
struct Ls {
    gamma: Param<Tensor<1>>,
}

/// Four parameters of ranks 1–3 named like the fixture (`weight`, `bias`, `ls.gamma`, `token`).
#[derive(Module, Debug)]
struct Toy {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
    ls: Ls,
    token: Param<Tensor<3>>,
}

fn toy(f: &Value, values: &Value, dev: &Device) -> Toy {
    let shape = |k: &str| -> Vec<usize> {
        f["shapes"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect()
    };
    let w = shape("weight");
    let t = shape("token");
    Toy {
        weight: Param::from_tensor(tensor(&values["weight"], [w[0], w[1]], dev)),
        bias: Param::from_tensor(tensor(&values["bias"], [shape("bias")[0]], dev)),
        ls: Ls {
            gamma: Param::from_tensor(tensor(&values["ls.gamma"], [shape("ls.gamma")[0]], dev)),
        },
        token: Param::from_tensor(tensor(&values["token"], [t[0], t[1], t[2]], dev)),
    }
}

fn flat(m: &Toy) -> HashMap<&'static str, Vec<f64>> {
    HashMap::from([
        ("weight", values(m.weight.val())),
        ("bias", values(m.bias.val())),
        ("ls.gamma", values(m.ls.gamma.val())),
        ("token", values(m.token.val())),
    ])
}

#[test]
fn clip_and_adamw_match_torch_over_three_steps() {
    let f = fixture("optim.json");
    let dev = Device::default().autodiff();
    let mut model = toy(&f, &f["init"], &dev);
    let hyper: HashMap<String, StepHyper> = f["hyper"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = f64s(v);
            (
                k.clone(),
                StepHyper {
                    lr: v[0],
                    weight_decay: v[1],
                },
            )
        })
        .collect();
    let mut optim = AdamW::new(AdamWConfig::default());
    let max_norm = f["max_norm"].as_f64().unwrap();
    let mut worst = 0.0f64;
    for (step, s) in f["steps"].as_array().unwrap().iter().enumerate() {
        // loss = Σ p·g_fixed, so ∂loss/∂p = g_fixed exactly.
        let g = toy(&f, &s["grads"], &dev.clone().inner());
        let loss = (model.weight.val() * g.weight.val().autodiff()).sum()
            + (model.bias.val() * g.bias.val().autodiff()).sum()
            + (model.ls.gamma.val() * g.ls.gamma.val().autodiff()).sum()
            + (model.token.val() * g.token.val().autodiff()).sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let norm = clip_grad_norm(&model, &mut grads, max_norm);
        let want_norm = s["total_norm"].as_f64().unwrap();
        assert!(
            rel_err(norm, want_norm) < 1e-5,
            "step {step}: norm {norm} vs {want_norm}"
        );
        model = optim.step(model, &mut grads, |path| hyper[path]);
        let got = flat(&model);
        for k in ["weight", "bias", "ls.gamma", "token"] {
            let e = assert_close(
                &format!("step {step} {k}"),
                &got[k],
                &f64s(&s["params_after"][k]),
                2e-6,
                1e-5,
            );
            worst = worst.max(e);
        }
        assert!(
            model.weight.val().is_require_grad(),
            "params stay trainable"
        );
    }
    println!("AdamW worst abs err over 3 steps: {worst:e}");
}

#[test]
fn ema_matches_torch_foreach() {
    let f = fixture("optim.json");
    let dev = Device::default();
    let teacher = toy(&f, &f["init"], &dev);
    let student = toy(&f, &f["steps"][2]["params_after"], &dev);
    let m = f["ema"]["momentum"].as_f64().unwrap();
    let teacher = ema_update(teacher, &student, m).unwrap();
    let got = flat(&teacher);
    for k in ["weight", "bias", "ls.gamma", "token"] {
        assert_close(k, &got[k], &f64s(&f["ema"]["teacher_after"][k]), 1e-6, 0.0);
    }
    // The student is only read.
    assert_close(
        "student unchanged",
        &values(student.weight.val()),
        &f64s(&f["steps"][2]["params_after"]["weight"]),
        1e-12, // serde_json float parsing is not always correctly rounded
        0.0,
    );
}

#[derive(Module, Debug)]
struct Other {
    weight: Param<Tensor<2>>,
}

#[test]
fn ema_rejects_mismatched_structures() {
    let dev = Device::default();
    let a = Other {
        weight: Param::from_tensor(Tensor::zeros([2, 3], &dev)),
    };
    let b = Other {
        weight: Param::from_tensor(Tensor::zeros([3, 2], &dev)),
    };
    assert!(matches!(
        ema_update(a, &b, 0.9),
        Err(TrainError::Mismatch { .. })
    ));
}

#[test]
fn clip_is_a_no_op_below_the_threshold_and_frozen_lr_keeps_params() {
    let dev = Device::default().autodiff();
    let p = Other {
        weight: Param::from_tensor(Tensor::<2>::ones([2, 2], &dev) * 0.5),
    };
    let loss = (p.weight.val() * 0.1).sum();
    let mut grads = GradientsParams::from_grads(loss.backward(), &p);
    let n = clip_grad_norm(&p, &mut grads, 3.0);
    assert!((n - 0.2).abs() < 1e-6);
    let mut optim = AdamW::new(AdamWConfig::default());
    let id = p.weight.id;
    let p = optim.step(p, &mut grads, |_| StepHyper {
        lr: 0.0,
        weight_decay: 0.04,
    });
    assert_eq!(values(p.weight.val()), vec![0.5; 4]);
    // Moments still advance at lr 0 (torch semantics).
    assert_eq!(optim.state(id).unwrap().step, 1);
}
