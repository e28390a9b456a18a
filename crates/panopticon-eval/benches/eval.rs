//! kNN scoring and probe-grid training throughput on the default device (Flex CPU here).
//!
//! Sizes are eval-like but scaled so a run takes seconds: kNN with D = 768 (pooling `knn`),
//! probes with B = 4 cached blocks of D = 768 (inputs up to 3840 wide) and the full 64-head grid.

use std::hint::black_box;

use burn::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use panopticon_eval::probe::{ProbeConfig, ProbeFeatures, ProbeSplit};
use panopticon_eval::{Labels, Metric, Split, SplitMix64, knn_scores};

fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| rng.normal() as f32).collect()
}

fn labels(n: usize, c: usize) -> Labels {
    Labels::multiclass(&(0..n as i64).map(|i| i % c as i64).collect::<Vec<_>>(), c).unwrap()
}

fn knn(c: &mut Criterion) {
    let device = Device::default();
    let (n_train, n_test, d) = (10_000, 1_000, 768);
    let train = Split::new(
        "train",
        Tensor::from_data(
            TensorData::new(random(n_train * d, 1), [n_train, d]),
            &device,
        ),
        labels(n_train, 10),
    )
    .unwrap();
    let test = Tensor::<2>::from_data(TensorData::new(random(n_test * d, 2), [n_test, d]), &device);
    let mut g = c.benchmark_group("knn_10k_train_1k_test_d768");
    g.sample_size(10);
    g.bench_function("k_10_20_50", |b| {
        b.iter(|| black_box(knn_scores(&train, &test, &[10, 20, 50], 0.07, 1 << 26).unwrap()))
    });
    g.finish();
}

fn probe(c: &mut Criterion) {
    let device = Device::default();
    let (n, blocks, d) = (1_024, 4, 768);
    let feats = ProbeFeatures::new(
        Tensor::from_data(
            TensorData::new(random(n * blocks * d, 3), [n, blocks, d]),
            &device,
        ),
        Tensor::from_data(TensorData::new(random(n * d, 4), [n, d]), &device),
    )
    .unwrap();
    let split = ProbeSplit::new("train", feats, labels(n, 10)).unwrap();
    let mut cfg = ProbeConfig::classification(1, 256); // 4 iterations x 64 heads
    cfg.metrics = vec![Metric::TOP1_MICRO];
    let mut g = c.benchmark_group("probe_grid_64_heads_1k_samples");
    g.sample_size(10);
    g.bench_function("one_epoch_batch_256", |b| {
        b.iter(|| black_box(cfg.run("bench", &split, &split, None, &device).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, knn, probe);
criterion_main!(benches);
