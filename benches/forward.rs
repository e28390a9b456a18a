//! ViT-B/14 forward on the CPU backend (random weights, frozen as for inference):
//! 224×224, B ∈ {1, 8}, C ∈ {3, 13, 64, 202}.
//!
//! `cargo bench --bench forward` (set `RAYON_NUM_THREADS` to pin the thread count).

use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use panopticon::{PanopticonConfig, PanopticonInput};

const S2_NM: [f32; 13] = [
    442.7, 492.4, 559.8, 664.6, 704.1, 740.5, 782.8, 832.8, 864.7, 945.1, 1373.5, 1613.7, 2202.4,
];

fn forward(c: &mut Criterion) {
    let device = Device::default();
    let model = PanopticonConfig::vitb14()
        .init(&device)
        .expect("preset is valid")
        .to_frozen();
    let mut group = c.benchmark_group("vitb14_forward_224");
    group.sample_size(10);
    for channels in [3usize, 13, 64, 202] {
        for batch in [1usize, 8] {
            let imgs = Tensor::<4>::random(
                [batch, channels, 224, 224],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let ids: Vec<f32> = (0..channels)
                .map(|i| S2_NM[i % 13] + (i / 13) as f32)
                .collect();
            let input = PanopticonInput::with_shared_ids(imgs, &ids).expect("valid input");
            model.forward(&input).expect("warm-up"); // first call: allocations, pos-embed matrices
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("C{channels}"), format!("B{batch}")),
                &input,
                |b, input| {
                    b.iter(|| {
                        let cls = model.forward(input).expect("forward");
                        std::hint::black_box(cls.into_data())
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
