//! ViT-B/14's MLP activation, exact GELU on `[B·257, 3072]`: Burn's own (scalar `erff` on Flex)
//! against `panopticon::model::exact_gelu` (vectorised, multi-threaded on Flex).
//!
//! `cargo bench --bench activations`.

use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn gelu(c: &mut Criterion) {
    let device = Device::default();
    let mut group = c.benchmark_group("gelu_vitb14_mlp");
    group.sample_size(20);
    for batch in [1usize, 8] {
        let x = Tensor::<2>::random([batch * 257, 3072], Distribution::Normal(0.0, 1.0), &device);
        group.throughput(Throughput::Elements((batch * 257 * 3072) as u64));
        // `x * 1.0` hands each call a fresh, unshared buffer, as the MLP's fc1 output is.
        group.bench_with_input(BenchmarkId::new("burn", batch), &x, |b, x| {
            b.iter(|| burn::tensor::activation::gelu(x.clone() * 1.0).into_data())
        });
        group.bench_with_input(BenchmarkId::new("panopticon", batch), &x, |b, x| {
            b.iter(|| panopticon::model::exact_gelu(x.clone() * 1.0).into_data())
        });
        group.bench_with_input(BenchmarkId::new("copy_only", batch), &x, |b, x| {
            b.iter(|| (x.clone() * 1.0).into_data())
        });
    }
    group.finish();
}

criterion_group!(benches, gelu);
criterion_main!(benches);
