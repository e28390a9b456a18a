//! Linear-probe parity with the PyTorch reference (scripts/gen_eval_knn_probe_fixtures.py):
//! same initial weights, same batch order, torch.optim.SGD + CosineAnnealingLR.

mod common;

use burn::prelude::*;
use panopticon_eval::probe::{Pooling, ProbeConfig, ProbeFeatures, ProbeHead, ProbeSplit};
use panopticon_eval::{Labels, Metric};
use serde_json::Value;

struct Case {
    fx: Value,
    cfg: ProbeConfig,
    heads: Vec<ProbeHead>,
    train: ProbeSplit,
    val: ProbeSplit,
    test: ProbeSplit,
}

fn load(name: &str) -> Case {
    let fx = common::fixture(name);
    let device = Device::default();
    let u = |k: &str| fx[k].as_u64().unwrap() as usize;
    let (nb, d, c) = (u("num_blocks"), u("dim"), u("num_classes"));
    let multilabel = fx["multilabel"].as_bool().unwrap();
    let cls = common::f32s(&fx["cls"]);
    let patch = common::f32s(&fx["patch_mean"]);
    let targets = &fx["targets"];
    let sizes = common::i64s(&fx["splits"]);
    let mut start = 0;
    let mut splits = Vec::new();
    for (name, &n) in ["train", "val", "test"].iter().zip(&sizes) {
        let n = n as usize;
        let feats = ProbeFeatures::new(
            Tensor::from_data(
                TensorData::new(
                    cls[start * nb * d..(start + n) * nb * d].to_vec(),
                    [n, nb, d],
                ),
                &device,
            ),
            Tensor::from_data(
                TensorData::new(patch[start * d..(start + n) * d].to_vec(), [n, d]),
                &device,
            ),
        )
        .unwrap();
        let labels = if multilabel {
            Labels::multilabel(
                common::f32s(targets)[start * c..(start + n) * c].to_vec(),
                c,
            )
            .unwrap()
        } else {
            Labels::multiclass(&common::i64s(targets)[start..start + n], c).unwrap()
        };
        splits.push(ProbeSplit::new(*name, feats, labels).unwrap());
        start += n;
    }
    let mut cfg = if multilabel {
        ProbeConfig::multilabel(u("epochs"), u("batch_size"))
    } else {
        ProbeConfig::classification(u("epochs"), u("batch_size"))
    };
    cfg.metrics = vec![if multilabel {
        Metric::AP_MICRO
    } else {
        Metric::TOP1_MICRO
    }];
    let heads = fx["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| ProbeHead {
            name: h["name"].as_str().unwrap().into(),
            n_blocks: h["n"].as_u64().unwrap() as usize,
            pooling: if h["pooling"] == "avgpool" {
                Pooling::Avgpool
            } else {
                Pooling::Cls
            },
            lr: h["lr"].as_f64().unwrap(),
            weight: common::f32s(&h["weight"]),
            bias: vec![0.0; c],
        })
        .collect();
    let test = splits.pop().unwrap();
    let val = splits.pop().unwrap();
    let train = splits.pop().unwrap();
    Case {
        fx,
        cfg,
        heads,
        train,
        val,
        test,
    }
}

fn check(name: &str) {
    let case = load(name);
    let fresh = case
        .cfg
        .init_heads(case.train.features(), case.train.labels().num_classes())
        .unwrap();
    // Our own grid names and order equal the reference's.
    let names: Vec<_> = fresh.iter().map(|h| h.name.clone()).collect();
    let want: Vec<_> = case.heads.iter().map(|h| h.name.clone()).collect();
    assert_eq!(names, want);
    let report = case
        .cfg
        .run_with_heads(
            "probe",
            case.heads,
            &case.train,
            &case.val,
            Some(&case.test),
            &Device::default(),
        )
        .unwrap();
    let ref_heads = case.fx["heads"].as_array().unwrap();
    let test = report.test_metrics.as_ref().unwrap();
    let (mut max_metric, mut max_w) = (0f64, 0f32);
    for (i, h) in ref_heads.iter().enumerate() {
        let dv = (report.val_metrics[i][0] - h["val"].as_f64().unwrap()).abs();
        let dt = (test[i][0] - h["test"].as_f64().unwrap()).abs();
        max_metric = max_metric.max(dv).max(dt);
        if let Some(w) = h.get("final_weight") {
            let w = common::f32s(w);
            for (a, b) in report.heads[i].weight.iter().zip(&w) {
                max_w = max_w.max((a - b).abs());
            }
        }
    }
    let sel = &report.results.rows[0];
    let ref_sel = case.fx["selected_test"].as_f64().unwrap();
    eprintln!(
        "{name}: selected {} (ref {}), test {:.4} vs ref {:.4}; max |metric diff| over 64+ heads \
         {max_metric:.2e}; max |final weight diff| {max_w:.2e}",
        sel.best_classifier, case.fx["selected"], sel.value, ref_sel
    );
    assert_eq!(
        Some(sel.best_classifier.as_str()),
        case.fx["selected"].as_str()
    );
    // The acceptance bound: reported accuracy / AP within 0.5 points of PyTorch's.
    assert!(
        (sel.value - ref_sel).abs() <= 0.005,
        "{} vs {ref_sel}",
        sel.value
    );
    assert!(max_metric <= 0.005, "some head differs by {max_metric}");
    assert!(max_w < 1e-4, "final weights differ by {max_w}");
}

#[test]
fn classification_probe_grid_matches_pytorch() {
    check("probe.json");
}

#[test]
fn multilabel_probe_grid_matches_pytorch() {
    check("probe_multilabel.json");
}
