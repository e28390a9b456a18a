//! kNN parity with the PyTorch reference (scripts/gen_eval_knn_probe_fixtures.py).

mod common;

use burn::prelude::*;
use panopticon_eval::{KSelection, KnnConfig, Labels, Metric, Split, knn_scores};
use serde_json::Value;

fn split(name: &str, v: &Value, dim: usize, labels: Labels, device: &Device) -> Split {
    let f = common::f32s(&v["features"]);
    let n = f.len() / dim;
    Split::new(
        name,
        Tensor::from_data(TensorData::new(f, [n, dim]), device),
        labels,
    )
    .unwrap()
}

fn setup() -> (Value, Split, Split, Split, Vec<usize>, f32) {
    let fx = common::fixture("knn.json");
    let device = Device::default();
    let d = fx["dim"].as_u64().unwrap() as usize;
    let c = fx["num_classes"].as_u64().unwrap() as usize;
    let lab = |s: &str| Labels::multiclass(&common::i64s(&fx[s]["labels"]), c).unwrap();
    let train = split("train", &fx["train"], d, lab("train"), &device);
    let val = split("val", &fx["val"], d, lab("val"), &device);
    let test = split("test", &fx["test"], d, lab("test"), &device);
    let ks = common::i64s(&fx["ks"])
        .iter()
        .map(|&k| k as usize)
        .collect();
    let t = fx["temperature"].as_f64().unwrap() as f32;
    (fx, train, val, test, ks, t)
}

#[test]
fn scores_and_predictions_match_reference() {
    let (fx, train, val, test, ks, t) = setup();
    let c = train.labels().num_classes();
    let mut max_err = 0f32;
    for (name, s) in [("val", &val), ("test", &test)] {
        // A tiny chunk bound forces several chunks: results must not depend on chunking.
        let scores = knn_scores(&train, s.features(), &ks, t, 7 * 300).unwrap();
        for (k, got) in ks.iter().zip(&scores) {
            let want = common::f32s(&fx[name]["scores"][k.to_string()]);
            assert_eq!(got.len(), want.len());
            for (a, b) in got.iter().zip(&want) {
                max_err = max_err.max((a - b).abs());
            }
            let preds = common::i64s(&fx[name]["predictions"][k.to_string()]);
            for (r, &p) in preds.iter().enumerate() {
                let row = &got[r * c..(r + 1) * c];
                let top = panopticon_eval::metrics::top_k_indices(row, 1)[0];
                assert_eq!(top as i64, p, "{name} k={k} sample {r}");
            }
        }
    }
    assert!(max_err < 1e-5, "max |score - reference| = {max_err}");
    eprintln!("kNN max |score - reference| = {max_err:e}");
}

#[test]
fn metrics_and_k_selection_match_reference() {
    let (fx, train, val, test, ks, t) = setup();
    let cfg = KnnConfig {
        ks: ks.clone(),
        temperature: t,
        ..KnnConfig::default()
    };
    let report = cfg.run("knn", &train, Some(&val), &test).unwrap();
    for (k, values) in &report.test_per_k {
        let micro = fx["test"]["acc_top-1_micro"][k.to_string()]
            .as_f64()
            .unwrap();
        let macro_ = fx["test"]["acc_top-1_macro"][k.to_string()]
            .as_f64()
            .unwrap();
        assert!(
            (values[0] - micro).abs() < 1e-6,
            "k={k}: {} vs {micro}",
            values[0]
        );
        assert!(
            (values[1] - macro_).abs() < 1e-6,
            "k={k}: {} vs {macro_}",
            values[1]
        );
    }
    // Honest selection: the k best on val by the first metric (first k on ties).
    let val_acc: Vec<f64> = ks
        .iter()
        .map(|k| {
            fx["val"]["acc_top-1_micro"][k.to_string()]
                .as_f64()
                .unwrap()
        })
        .collect();
    let best = (0..ks.len()).fold(0, |b, i| if val_acc[i] > val_acc[b] { i } else { b });
    assert_eq!(report.selected_k, Some(ks[best]));
    let row = &report.results.rows[0];
    assert_eq!(row.best_classifier, format!("knn_k_{}", ks[best]));
    // Official mode: best over k on test.
    let official = KnnConfig {
        k_selection: KSelection::BestOnTest,
        ..cfg
    }
    .run("knn", &train, None, &test)
    .unwrap();
    let best_test = ks
        .iter()
        .map(|k| {
            fx["test"]["acc_top-1_micro"][k.to_string()]
                .as_f64()
                .unwrap()
        })
        .fold(f64::MIN, f64::max);
    assert!((official.results.rows[0].value - best_test).abs() < 1e-6);
    assert_eq!(official.selected_k, None);
}

#[test]
fn multilabel_variant_matches_reference() {
    let fx = common::fixture("knn.json");
    let device = Device::default();
    let d = fx["dim"].as_u64().unwrap() as usize;
    let ml = &fx["multilabel"];
    let l = ml["num_labels"].as_u64().unwrap() as usize;
    let train = split(
        "train",
        &fx["train"],
        d,
        Labels::multilabel(common::f32s(&ml["train_targets"]), l).unwrap(),
        &device,
    );
    let test = split(
        "test",
        &fx["test"],
        d,
        Labels::multilabel(common::f32s(&ml["test_targets"]), l).unwrap(),
        &device,
    );
    let ks: Vec<usize> = common::i64s(&fx["ks"])
        .iter()
        .map(|&k| k as usize)
        .collect();
    let scores = knn_scores(&train, test.features(), &ks, 0.07, 1 << 20).unwrap();
    for (k, got) in ks.iter().zip(&scores) {
        let want = common::f32s(&ml["scores"][k.to_string()]);
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(err < 1e-5, "k={k}: max err {err}");
        let ap = Metric::AP_MICRO.compute(got, test.labels()).unwrap();
        let want_ap = ml["ap_micro"][k.to_string()].as_f64().unwrap();
        assert!((ap - want_ap).abs() < 1e-5, "k={k}: AP {ap} vs {want_ap}");
    }
}

#[test]
fn several_k_without_validation_is_a_typed_error() {
    let (_, train, _, test, _, _) = setup();
    let cfg = KnnConfig {
        ks: vec![10, 20],
        ..KnnConfig::default()
    };
    let err = cfg.run("knn", &train, None, &test).unwrap_err();
    assert!(err.to_string().contains("validation"), "{err}");
    let too_big = KnnConfig {
        ks: vec![301],
        ..KnnConfig::default()
    };
    assert!(too_big.run("knn", &train, None, &test).is_err());
}
