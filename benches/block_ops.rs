//! The operations of one ViT-B/14 block at 224² (N = 257 tokens), in FLOP/s: where a forward's
//! time goes on this machine. Each `Linear` is run with what follows it in the block (bias,
//! GELU, LayerScale + residual), as the frozen model's blocks do.
//!
//! `cargo bench --bench block_ops`.

use burn::nn::LinearConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use panopticon::model::{Epilogue, fused_linear, fused_self_attention};

const N: usize = 257;
const D: usize = 768;
const HEADS: usize = 12;

fn block_ops(c: &mut Criterion) {
    let device = Device::default();
    let normal = Distribution::Normal(0.0, 1.0);
    let mut group = c.benchmark_group("vitb14_block_ops");
    group.sample_size(20);
    for batch in [1usize, 8] {
        let rows = batch * N;
        let x = Tensor::<3>::random([batch, N, D], normal, &device);
        let qkv = Tensor::<3>::random([batch, N, 3 * D], normal, &device);
        let hidden = Tensor::<3>::random([batch, N, 4 * D], normal, &device);
        let gamma = Tensor::<1>::random([D], normal, &device);
        let linears = [
            ("qkv", D, 3 * D, false),
            ("proj", D, D, true),
            ("fc1", D, 4 * D, false),
            ("fc1_gelu", D, 4 * D, false),
            ("fc2", 4 * D, D, true),
        ];
        for (name, d_in, d_out, residual) in linears {
            let layer = LinearConfig::new(d_in, d_out).init(&device);
            let input = if d_in == D { x.clone() } else { hidden.clone() };
            let then = || match (residual, name) {
                (true, _) => Epilogue::Residual {
                    residual: x.clone(),
                    gamma: Some(gamma.clone()),
                },
                (false, "fc1_gelu") => Epilogue::Gelu,
                _ => Epilogue::Plain,
            };
            group.throughput(Throughput::Elements((2 * rows * d_in * d_out) as u64));
            group.bench_with_input(BenchmarkId::new(name, batch), &input, |b, input| {
                b.iter(|| fused_linear(input.clone(), &layer, None, then()).into_data())
            });
        }
        // q·kᵀ and the weighted sum of v.
        group.throughput(Throughput::Elements((4 * batch * N * N * D) as u64));
        group.bench_with_input(BenchmarkId::new("self_attention", batch), &qkv, |b, qkv| {
            b.iter(|| fused_self_attention(qkv.clone(), HEADS).into_data())
        });
    }
    group.finish();
}

criterion_group!(benches, block_ops);
criterion_main!(benches);
