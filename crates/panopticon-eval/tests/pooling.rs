//! Probe inputs from block outputs (spec §6.2 `avgpool` / `cls`).

use burn::prelude::*;
use panopticon_eval::probe::{Pooling, ProbeConfig, ProbeFeatures};

fn host(t: Tensor<2>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

#[test]
fn avgpool_and_cls_follow_create_linear_input() {
    let device = Device::default();
    // 3 blocks, N = 2 samples, 1 cls + 2 patch tokens, D = 2; value = 100·block + 10·token + dim + sample/2.
    let blocks: Vec<Tensor<3>> = (0..3)
        .map(|b| {
            let v: Vec<f32> = (0..2 * 3 * 2)
                .map(|i| {
                    let (s, t, d) = (i / 6, (i / 2) % 3, i % 2);
                    100.0 * b as f32 + 10.0 * t as f32 + d as f32 + s as f32 / 2.0
                })
                .collect();
            Tensor::from_data(TensorData::new(v, [2, 3, 2]), &device)
        })
        .collect();
    let f = ProbeFeatures::from_blocks(&blocks).unwrap();
    assert_eq!((f.len(), f.num_blocks(), f.token_dim()), (2, 3, 2));
    // cls, n = 2: cls of blocks 1 and 2 (oldest first).
    assert_eq!(
        host(f.pooled(2, Pooling::Cls).unwrap())[..4],
        [100.0, 101.0, 200.0, 201.0]
    );
    // avgpool, n = 1: cls of block 2, then mean of its patch tokens (10 and 20 → 15).
    assert_eq!(
        host(f.pooled(1, Pooling::Avgpool).unwrap())[..4],
        [200.0, 201.0, 215.0, 216.0]
    );
    assert_eq!(
        host(f.pooled(1, Pooling::Avgpool).unwrap())[4..],
        [200.5, 201.5, 215.5, 216.5]
    );
    assert_eq!(f.pooled_dim(3, Pooling::Avgpool), 8);
    assert!(f.pooled(4, Pooling::Cls).is_err());
    assert!(ProbeFeatures::from_blocks(&[]).is_err());
    assert!(ProbeFeatures::from_blocks(&[Tensor::zeros([2, 1, 2], &device)]).is_err());
}

#[test]
fn grid_names_and_sizes_follow_upstream() {
    let device = Device::default();
    let f = ProbeFeatures::new(
        Tensor::zeros([3, 4, 8], &device),
        Tensor::zeros([3, 8], &device),
    )
    .unwrap();
    let cls = ProbeConfig::classification(10, 512);
    let heads = cls.init_heads(&f, 10).unwrap();
    assert_eq!(heads.len(), 64);
    assert_eq!(
        heads[0].name,
        "classifier_1_blocks_pooling_avgpool_lr_0_00002"
    );
    assert_eq!(heads[63].name, "classifier_4_blocks_pooling_cls_lr_1_00000");
    assert!((heads[63].lr - 1.0).abs() < 1e-12, "0.5 · 512 / 256");
    assert_eq!(heads[0].weight.len(), 10 * 16);
    assert_eq!(heads[63].weight.len(), 10 * 32);
    let w = &heads[20].weight;
    let std = (w.iter().map(|x| (x * x) as f64).sum::<f64>() / w.len() as f64).sqrt();
    assert!((std - 0.01).abs() < 0.003, "init std {std}");
    assert!(heads.iter().all(|h| h.bias.iter().all(|&b| b == 0.0)));
    assert_eq!(
        ProbeConfig::multilabel(10, 512)
            .init_heads(&f, 19)
            .unwrap()
            .len(),
        68
    );
    assert_eq!(cls.max_iter(1000), 20);
    assert_eq!(ProbeConfig::classification(3, 256).max_iter(1000), 12);
}
