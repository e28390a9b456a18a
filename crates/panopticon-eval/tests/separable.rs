//! Self-check on a genuinely separable synthetic dataset: kNN and the probe grid must both
//! exceed 90 % top-1 accuracy (seeded, so the check is reproducible).

use burn::prelude::*;
use panopticon_eval::probe::{ProbeConfig, ProbeFeatures, ProbeSplit};
use panopticon_eval::{KnnConfig, Labels, Metric, Split, SplitMix64};

const C: usize = 5;
const D: usize = 16;

/// Class c lives around `4·e_c` (unit-variance noise): well separated, not trivially.
fn data(n: usize, seed: u64) -> (Vec<f32>, Vec<i64>) {
    let mut rng = SplitMix64::new(seed);
    let mut x = Vec::with_capacity(n * D);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % C;
        y.push(c as i64);
        for j in 0..D {
            x.push((if j == c { 4.0 } else { 0.0 } + rng.normal()) as f32);
        }
    }
    (x, y)
}

fn split(name: &str, n: usize, seed: u64, device: &Device) -> Split {
    let (x, y) = data(n, seed);
    let labels = Labels::multiclass(&y, C).unwrap();
    Split::new(
        name,
        Tensor::from_data(TensorData::new(x, [n, D]), device),
        labels,
    )
    .unwrap()
}

#[test]
fn knn_and_probe_separate_synthetic_classes() {
    let device = Device::default();
    let (train, val, test) = (
        split("train", 400, 1, &device),
        split("val", 100, 2, &device),
        split("test", 200, 3, &device),
    );
    let knn = KnnConfig {
        ks: vec![10, 20],
        ..KnnConfig::default()
    }
    .run("synthetic_knn", &train, Some(&val), &test)
    .unwrap();
    let knn_acc = knn.results.rows[0].value;
    assert!(knn_acc > 0.9, "kNN top-1 {knn_acc}");

    // Probe input: one "block" whose cls token is the feature and whose patch mean is noise.
    let probe_split = |s: &Split, seed: u64| {
        let n = s.len();
        let mut rng = SplitMix64::new(seed);
        let noise: Vec<f32> = (0..n * D).map(|_| rng.normal() as f32).collect();
        let feats = ProbeFeatures::new(
            s.features().clone().reshape([n, 1, D]),
            Tensor::from_data(TensorData::new(noise, [n, D]), &device),
        )
        .unwrap();
        ProbeSplit::new(s.name(), feats, s.labels().clone()).unwrap()
    };
    let mut cfg = ProbeConfig::classification(10, 64);
    cfg.n_last_blocks = vec![1];
    cfg.metrics = vec![Metric::TOP1_MICRO, Metric::TOP1_MACRO];
    let report = cfg
        .run(
            "synthetic_lin",
            &probe_split(&train, 7),
            &probe_split(&val, 8),
            Some(&probe_split(&test, 9)),
            &device,
        )
        .unwrap();
    assert_eq!(report.heads.len(), 2 * 16);
    let probe_acc = report.results.rows[0].value;
    assert!(probe_acc > 0.9, "probe top-1 {probe_acc}");
    // The smallest learning rates barely move N(0, 0.01²) heads: selection must matter.
    let worst = report.val_metrics.iter().map(|m| m[0]).fold(1.0, f64::min);
    assert!(
        worst < probe_acc,
        "every head equally good ({worst}): selection untested"
    );
    eprintln!(
        "synthetic: kNN {knn_acc:.4} (k={:?}), probe {probe_acc:.4} ({})",
        knn.selected_k, report.results.rows[0].best_classifier
    );
}

#[test]
fn probe_training_is_reproducible_and_seeded() {
    let device = Device::default();
    let train = split("train", 120, 4, &device);
    let n = train.len();
    let feats = ProbeFeatures::new(
        train.features().clone().reshape([n, 1, D]),
        train.features().clone(),
    )
    .unwrap();
    let ps = ProbeSplit::new("train", feats, train.labels().clone()).unwrap();
    let mut cfg = ProbeConfig::classification(2, 32);
    cfg.n_last_blocks = vec![1];
    cfg.base_lrs = vec![0.1];
    cfg.metrics = vec![Metric::TOP1_MICRO];
    let a = cfg.run("a", &ps, &ps, None, &device).unwrap();
    let b = cfg.run("b", &ps, &ps, None, &device).unwrap();
    assert_eq!(a.heads, b.heads);
    assert!(
        a.results.rows.is_empty(),
        "no test split → no result rows (upstream)"
    );
    cfg.init_seed = 1;
    let c = cfg.run("c", &ps, &ps, None, &device).unwrap();
    assert_ne!(a.heads[0].weight, c.heads[0].weight);
}
