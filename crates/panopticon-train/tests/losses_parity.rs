//! DINO (softmax centering and Sinkhorn-Knopp), iBOT and KoLeo against the torch references
//! of `scripts/gen_train_fixtures.py`. Losses: ≤ 1e-5 relative; targets/centres: 1e-6 abs.

mod common;

use burn::prelude::*;
use common::*;
use panopticon_train::{Centering, DinoLoss, IbotPatchLoss, koleo_loss};

const LOSS_RTOL: f64 = 1e-5;

fn run_case(case: &serde_json::Value, centering: Centering) {
    let dev = Device::default();
    let k = case["k"].as_u64().unwrap() as usize;
    let b = case["b"].as_u64().unwrap() as usize;
    let nl = case["n_local"].as_u64().unwrap() as usize;
    let mut dino = DinoLoss::new(k, centering, &dev);
    let mut ibot = IbotPatchLoss::new(k, centering, &dev);
    let mut worst = 0.0f64;
    for (step, s) in case["steps"].as_array().unwrap().iter().enumerate() {
        let temp = s["teacher_temp"].as_f64().unwrap();
        let m = s["m"].as_u64().unwrap() as usize;
        let t_cls = tensor(&s["t_cls"], [2 * b, k], &dev);
        let t_probs = dino.teacher_targets(t_cls, temp).unwrap();
        if centering == Centering::Softmax {
            // The centre used at this step includes only the previous batches (delayed update).
            assert_close(
                &format!("step {step} dino centre"),
                &values(dino.center.value()),
                &f64s(&s["dino_center_used"]),
                1e-6,
                0.0,
            );
            assert!(dino.center.has_pending_update());
        }
        assert_close(
            &format!("step {step} dino targets"),
            &values(t_probs.clone()),
            &f64s(&s["t_probs"]),
            1e-6,
            1e-5,
        );
        let terms = DinoLoss::crop_terms(
            Some(tensor(&s["s_local"], [nl * b, k], &dev)),
            tensor(&s["s_global"], [2 * b, k], &dev),
            t_probs,
            nl,
        )
        .unwrap();
        for (name, got, key) in [
            ("local", scalar(terms.local), "dino_local"),
            ("global", scalar(terms.global), "dino_global"),
        ] {
            let want = s[key].as_f64().unwrap();
            let e = rel_err(got, want);
            worst = worst.max(e);
            assert!(
                e <= LOSS_RTOL,
                "step {step} dino {name}: {got} vs {want} (rel {e:e})"
            );
        }

        let tp = ibot
            .teacher_targets(tensor(&s["t_patch"], [m, k], &dev), temp)
            .unwrap();
        if centering == Centering::Softmax {
            assert_close(
                &format!("step {step} ibot centre"),
                &values(ibot.center.value()),
                &f64s(&s["ibot_center_used"]),
                1e-6,
                0.0,
            );
        }
        assert_close(
            &format!("step {step} ibot targets"),
            &values(tp.clone()),
            &f64s(&s["tp_probs"]),
            1e-6,
            1e-5,
        );
        let weights = Tensor::<1>::from_floats(
            f64s(&s["masks_weight"])
                .iter()
                .map(|&x| x as f32)
                .collect::<Vec<_>>()
                .as_slice(),
            &dev,
        );
        let got = scalar(
            IbotPatchLoss::forward_masked(tensor(&s["s_patch"], [m, k], &dev), tp, weights, 2 * b)
                .unwrap(),
        );
        let want = s["ibot"].as_f64().unwrap();
        let e = rel_err(got, want);
        worst = worst.max(e);
        assert!(
            e <= LOSS_RTOL,
            "step {step} ibot: {got} vs {want} (rel {e:e})"
        );
    }
    println!("{centering:?}: worst loss rel err {worst:e}");
}

#[test]
fn dino_ibot_softmax_centering_three_steps() {
    let f = fixture("losses.json");
    let case = &f["dino_ibot"][0];
    assert_eq!(case["centering"], "centering");
    run_case(case, Centering::Softmax);
}

#[test]
fn dino_ibot_sinkhorn_knopp_three_steps() {
    let f = fixture("losses.json");
    let case = &f["dino_ibot"][1];
    assert_eq!(case["centering"], "sinkhorn_knopp");
    run_case(case, Centering::SinkhornKnopp);
}

#[test]
fn koleo_matches_torch() {
    let f = fixture("losses.json");
    let dev = Device::default();
    for (i, c) in f["koleo"].as_array().unwrap().iter().enumerate() {
        let n = c["n"].as_u64().unwrap() as usize;
        let d = c["d"].as_u64().unwrap() as usize;
        let got = scalar(koleo_loss(tensor(&c["x"], [n, d], &dev)).unwrap());
        let want = c["loss"].as_f64().unwrap();
        let e = rel_err(got, want);
        println!("koleo case {i}: {got} vs {want} (rel {e:e})");
        assert!(
            e <= LOSS_RTOL,
            "koleo case {i}: {got} vs {want} (rel {e:e})"
        );
    }
}

#[test]
fn losses_are_differentiable_wrt_student() {
    // CE gradient w.r.t. student logits: (softmax(s/τ) − t)/τ / N per pair; check it is
    // non-zero and finite for every loss (no accidental detach on the student side).
    let dev = Device::default().autodiff();
    let k = 8;
    let s = Tensor::<2>::random([4, k], burn::tensor::Distribution::Default, &dev).require_grad();
    let t = burn::tensor::activation::softmax(
        Tensor::<2>::random([4, k], burn::tensor::Distribution::Default, &dev),
        1,
    );
    let terms = DinoLoss::crop_terms(None, s.clone(), t.clone(), 0).unwrap();
    let w = Tensor::<1>::ones([4], &dev);
    let ib = IbotPatchLoss::forward_masked(s.clone(), t, w, 2).unwrap();
    let ko = koleo_loss(s.clone()).unwrap();
    let grads = (terms.global + ib + ko).backward();
    let g = values(s.grad(&grads).expect("student logits get a gradient"));
    assert!(g.iter().all(|x| x.is_finite()));
    assert!(g.iter().any(|x| x.abs() > 1e-6));
}

#[test]
fn shape_errors_are_reported() {
    let dev = Device::default();
    let mut dino = DinoLoss::new(8, Centering::Softmax, &dev);
    assert!(
        dino.teacher_targets(Tensor::zeros([4, 7], &dev), 0.04)
            .is_err()
    );
    let odd = DinoLoss::crop_terms(
        None,
        Tensor::zeros([3, 8], &dev),
        Tensor::zeros([3, 8], &dev),
        0,
    );
    assert!(odd.is_err());
    let bad_local = DinoLoss::crop_terms(
        Some(Tensor::zeros([5, 8], &dev)),
        Tensor::zeros([4, 8], &dev),
        Tensor::zeros([4, 8], &dev),
        2,
    );
    assert!(bad_local.is_err());
    assert!(koleo_loss(Tensor::zeros([1, 8], &dev)).is_err());
    let ib = IbotPatchLoss::forward_masked(
        Tensor::zeros([3, 8], &dev),
        Tensor::zeros([3, 8], &dev),
        Tensor::zeros([2], &dev),
        2,
    );
    assert!(ib.is_err());
}
