//! Metric parity with torchmetrics 0.10.3 (fixtures from scripts/gen_eval_metric_fixtures.py).

mod common;

use panopticon_eval::{Average, Labels, Metric};

const TOL: f64 = 1e-6;

fn metric_of(key: &str) -> Metric {
    let average = if key.ends_with("micro") {
        Average::Micro
    } else {
        Average::Macro
    };
    if let Some(rest) = key.strip_prefix("acc_top-") {
        let top_k = rest.split('_').next().unwrap().parse().unwrap();
        Metric::Accuracy { top_k, average }
    } else if key.starts_with("MulLabAvergPrec") {
        Metric::AveragePrecision { average }
    } else {
        Metric::F1 { average }
    }
}

fn check(case: &serde_json::Value, labels: &Labels) -> usize {
    let scores = common::f32s(&case["scores"]);
    let mut n = 0;
    for (key, want) in case["expected"].as_object().unwrap() {
        let metric = metric_of(key);
        assert_eq!(&metric.key(), key, "key spelling");
        let got = metric.compute(&scores, labels).unwrap();
        match want.as_f64() {
            Some(w) => assert!(
                (got - w).abs() <= TOL,
                "{} {key}: got {got}, torchmetrics {w}",
                case["name"]
            ),
            None => assert!(
                got.is_nan(),
                "{} {key}: got {got}, torchmetrics NaN",
                case["name"]
            ),
        }
        n += 1;
    }
    n
}

#[test]
fn multiclass_accuracy_matches_torchmetrics() {
    let fx = common::fixture("metrics.json");
    let mut n = 0;
    for case in fx["multiclass"].as_array().unwrap() {
        let c = case["num_classes"].as_u64().unwrap() as usize;
        let labels = Labels::multiclass(&common::i64s(&case["targets"]), c).unwrap();
        n += check(case, &labels);
    }
    assert!(n >= 14, "only {n} values checked");
}

#[test]
fn multilabel_ap_and_f1_match_torchmetrics() {
    let fx = common::fixture("metrics.json");
    let mut n = 0;
    for case in fx["multilabel"].as_array().unwrap() {
        let l = case["num_labels"].as_u64().unwrap() as usize;
        let labels = Labels::multilabel(common::f32s(&case["targets"]), l).unwrap();
        n += check(case, &labels);
    }
    assert_eq!(n, 20);
}

#[test]
fn macro_accuracy_counts_absent_classes_like_0_10_3() {
    // Targets {0, 1} of 4 classes: recalls 1, 0.5, 0, 0 → 0.375 (torchmetrics 0.10.3).
    let scores = [0.9, 0.1, 0.0, 0.0, 0.1, 0.9, 0.0, 0.0, 0.8, 0.2, 0.0, 0.0];
    let labels = Labels::multiclass(&[0, 1, 1], 4).unwrap();
    let v = Metric::TOP1_MACRO.compute(&scores, &labels).unwrap();
    assert!((v - 0.375).abs() < 1e-12, "{v}");
}

#[test]
fn metric_kind_and_shape_errors() {
    let mc = Labels::multiclass(&[0, 1], 2).unwrap();
    let err = Metric::AP_MICRO.compute(&[0.0; 4], &mc).unwrap_err();
    assert!(err.to_string().contains("multilabel"), "{err}");
    let err = Metric::TOP1_MICRO.compute(&[0.0; 3], &mc).unwrap_err();
    assert!(err.to_string().contains("expected 4, got 3"), "{err}");
    let top3 = Metric::Accuracy {
        top_k: 3,
        average: Average::Micro,
    };
    assert!(top3.compute(&[0.0; 4], &mc).is_err());
}
