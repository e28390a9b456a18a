//! The ViT-B/14 Panopticon patch embedding alone (random weights, 224×224, B = 1): the folded
//! channel attention of the frozen model against the trainable model's literal one, over
//! channel counts.
//!
//! `cargo bench --bench patch_embed`. The literal path runs only up to 13 channels here (at 202
//! channels it needs ≈1.2 TFLOP and several GiB per image).

use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use panopticon::{PanopticonConfig, PanopticonInput};

fn channel_ids(c: usize) -> Vec<f32> {
    // EnMAP-like: evenly spaced from 420 to 2450 nm.
    (0..c)
        .map(|i| 420.0 + 2030.0 * i as f32 / (c.max(2) - 1) as f32)
        .collect()
}

fn patch_embed(c: &mut Criterion) {
    let device = Device::default();
    let literal = PanopticonConfig::vitb14()
        .init(&device)
        .expect("preset is valid");
    let folded = literal.to_frozen();
    let mut group = c.benchmark_group("vitb14_patch_embed_224_B1");
    group.sample_size(10);
    for channels in [3usize, 13, 64, 202] {
        let imgs = Tensor::<4>::random(
            [1, channels, 224, 224],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let input =
            PanopticonInput::with_shared_ids(imgs, &channel_ids(channels)).expect("valid input");
        group.throughput(Throughput::Elements(1));
        folded.embed_patches(&input).expect("warm-up");
        group.bench_with_input(
            BenchmarkId::new("folded", format!("C{channels}")),
            &input,
            |b, input| {
                b.iter(|| {
                    let x = folded.embed_patches(input).expect("embed");
                    std::hint::black_box(x.into_data())
                })
            },
        );
        if channels <= 13 {
            group.bench_with_input(
                BenchmarkId::new("literal", format!("C{channels}")),
                &input,
                |b, input| {
                    b.iter(|| {
                        let x = literal.embed_patches(input).expect("embed");
                        std::hint::black_box(x.into_data())
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, patch_embed);
criterion_main!(benches);
