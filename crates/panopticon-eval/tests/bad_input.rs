//! Bad input must give clear typed errors, never panics.

use burn::prelude::*;
use panopticon_eval::probe::{ProbeConfig, ProbeFeatures, ProbeSplit};
use panopticon_eval::{EvalError, KnnConfig, Labels, Metric, Split};

fn feats(n: usize, d: usize, device: &Device) -> Tensor<2> {
    let v: Vec<f32> = (0..n * d).map(|i| (i % 7) as f32 - 3.0).collect();
    Tensor::from_data(TensorData::new(v, [n, d]), device)
}

#[test]
fn class_count_disagreeing_with_labels() {
    let err = Labels::multiclass(&[0, 1, 2, 5], 3).unwrap_err();
    assert!(matches!(
        err,
        EvalError::ClassOutOfRange {
            label: 5,
            sample: 3,
            num_classes: 3
        }
    ));
    assert!(err.to_string().contains("number of classes"), "{err}");
    assert!(matches!(
        Labels::multiclass(&[-1], 3),
        Err(EvalError::ClassOutOfRange { .. })
    ));
    assert!(matches!(
        Labels::multiclass(&[0], 0),
        Err(EvalError::Config { .. })
    ));
    assert!(matches!(
        Labels::multilabel(vec![0.0, 1.0, 2.0, 0.0], 2),
        Err(EvalError::InvalidTarget {
            sample: 1,
            label: 0,
            ..
        })
    ));
    assert!(matches!(
        Labels::multilabel(vec![0.0; 5], 2),
        Err(EvalError::RaggedTargets {
            len: 5,
            num_labels: 2
        })
    ));
    // Splits whose class counts disagree cannot be combined.
    let device = Device::default();
    let train = Split::new(
        "train",
        feats(4, 3, &device),
        Labels::multiclass(&[0, 1, 0, 1], 2).unwrap(),
    )
    .unwrap();
    let test = Split::new(
        "test",
        feats(2, 3, &device),
        Labels::multiclass(&[0, 2], 3).unwrap(),
    )
    .unwrap();
    let err = KnnConfig {
        ks: vec![2],
        ..KnnConfig::default()
    }
    .run("t", &train, None, &test)
    .unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::Shape {
                expected: 2,
                got: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn empty_split() {
    let device = Device::default();
    let empty = Tensor::<2>::zeros([0, 4], &device);
    let err = Split::new("val", empty, Labels::multiclass(&[], 3).unwrap()).unwrap_err();
    assert!(
        matches!(&err, EvalError::EmptySplit { split } if split == "val"),
        "{err}"
    );
    let pf = ProbeFeatures::new(
        Tensor::zeros([0, 1, 4], &device),
        Tensor::zeros([0, 4], &device),
    )
    .unwrap();
    let err = ProbeSplit::new("train", pf, Labels::multiclass(&[], 3).unwrap()).unwrap_err();
    assert!(matches!(err, EvalError::EmptySplit { .. }));
}

#[test]
fn mismatched_feature_and_label_lengths() {
    let device = Device::default();
    let err = Split::new(
        "train",
        feats(5, 3, &device),
        Labels::multiclass(&[0, 1, 2], 3).unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::LengthMismatch {
                features: 5,
                labels: 3,
                ..
            }
        ),
        "{err}"
    );
    let pf = ProbeFeatures::new(
        Tensor::zeros([4, 1, 3], &device),
        Tensor::zeros([4, 3], &device),
    )
    .unwrap();
    let err = ProbeSplit::new("test", pf, Labels::multiclass(&[0, 1], 2).unwrap()).unwrap_err();
    assert!(matches!(
        err,
        EvalError::LengthMismatch {
            features: 4,
            labels: 2,
            ..
        }
    ));
    assert!(
        ProbeFeatures::new(
            Tensor::zeros([4, 1, 3], &device),
            Tensor::zeros([3, 3], &device)
        )
        .is_err()
    );
    // Query width differs from the training width.
    let train = Split::new(
        "train",
        feats(4, 3, &device),
        Labels::multiclass(&[0, 1, 0, 1], 2).unwrap(),
    )
    .unwrap();
    let test = Split::new(
        "test",
        feats(2, 5, &device),
        Labels::multiclass(&[0, 1], 2).unwrap(),
    )
    .unwrap();
    let err = KnnConfig {
        ks: vec![2],
        ..KnnConfig::default()
    }
    .run("t", &train, None, &test)
    .unwrap_err();
    assert!(
        matches!(
            err,
            EvalError::Shape {
                expected: 3,
                got: 5,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn nan_and_inf_features() {
    let device = Device::default();
    let mut v = vec![0.5f32; 12];
    v[7] = f32::NAN; // sample 2 of [4, 3]
    let x = Tensor::from_data(TensorData::new(v.clone(), [4, 3]), &device);
    let err = Split::new("test", x, Labels::multiclass(&[0, 1, 0, 1], 2).unwrap()).unwrap_err();
    assert!(
        matches!(&err, EvalError::NonFiniteFeature { sample: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("NaN"));
    v[7] = 0.0;
    v[10] = f32::INFINITY;
    let pf = ProbeFeatures::new(
        Tensor::from_data(TensorData::new(v, [4, 1, 3]), &device),
        Tensor::zeros([4, 3], &device),
    )
    .unwrap();
    let err =
        ProbeSplit::new("train", pf, Labels::multiclass(&[0, 1, 0, 1], 2).unwrap()).unwrap_err();
    assert!(
        matches!(err, EvalError::NonFiniteFeature { sample: 3, .. }),
        "{err}"
    );
}

#[test]
fn bad_configs_and_kind_mismatches() {
    let device = Device::default();
    let pf = |n| {
        ProbeFeatures::new(
            Tensor::ones([n, 2, 3], &device),
            Tensor::ones([n, 3], &device),
        )
        .unwrap()
    };
    let ps = ProbeSplit::new(
        "train",
        pf(4),
        Labels::multiclass(&[0, 1, 0, 1], 2).unwrap(),
    )
    .unwrap();
    let mut cfg = ProbeConfig::classification(1, 2);
    cfg.metrics = vec![Metric::TOP1_MICRO];
    // n_last_blocks 4 > the 2 cached blocks.
    let err = cfg.run("t", &ps, &ps, None, &device).unwrap_err();
    assert!(
        matches!(&err, EvalError::Config { field, .. } if field == "n_last_blocks"),
        "{err}"
    );
    cfg.n_last_blocks = vec![1, 2];
    cfg.metrics = vec![Metric::AP_MICRO];
    assert!(matches!(
        cfg.run("t", &ps, &ps, None, &device),
        Err(EvalError::KindMismatch { .. })
    ));
    cfg.metrics = vec![Metric::TOP1_MICRO];
    let ml = ProbeSplit::new(
        "val",
        pf(2),
        Labels::multilabel(vec![0.0, 1.0, 1.0, 0.0], 2).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        cfg.run("t", &ps, &ml, None, &device),
        Err(EvalError::KindMismatch { .. })
    ));
    cfg.batch_size = 0;
    assert!(matches!(
        cfg.run("t", &ps, &ps, None, &device),
        Err(EvalError::Config { .. })
    ));
    let train = Split::new(
        "train",
        feats(4, 3, &device),
        Labels::multiclass(&[0, 1, 0, 1], 2).unwrap(),
    )
    .unwrap();
    for bad in [
        KnnConfig {
            ks: vec![],
            ..KnnConfig::default()
        },
        KnnConfig {
            ks: vec![0],
            ..KnnConfig::default()
        },
        KnnConfig {
            ks: vec![2],
            temperature: 0.0,
            ..KnnConfig::default()
        },
        KnnConfig {
            ks: vec![2],
            metrics: vec![],
            ..KnnConfig::default()
        },
    ] {
        assert!(
            matches!(
                bad.run("t", &train, None, &train),
                Err(EvalError::Config { .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn inputs_are_not_mutated() {
    let device = Device::default();
    let x = feats(6, 3, &device);
    let before = x.to_data();
    let train = Split::new(
        "train",
        x.clone(),
        Labels::multiclass(&[0, 1, 0, 1, 0, 1], 2).unwrap(),
    )
    .unwrap();
    KnnConfig {
        ks: vec![3],
        ..KnnConfig::default()
    }
    .run("t", &train, None, &train)
    .unwrap();
    assert_eq!(x.to_data(), before);
    assert_eq!(train.features().to_data(), before);
}
