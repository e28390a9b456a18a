//! Samples/s of `PanopticonAugmentation` at the stage-2 crop settings (spec §3.13/§4.2:
//! 2 global 224-px crops with 4..13 channels, 4 local 98-px crops with 1..4 channels), one
//! thread, for a Sentinel-2 + Sentinel-1 sample (MMEarth-like, 128 px) and a 202-band EnMAP
//! sample (SpectralEarth, 128 px). Also the iBOT mask sampling of a 75-sample batch.
//!
//! Run: `cargo bench -p panopticon-data --bench augment`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use panopticon_data::augment::{AugRng, Image, PanopticonAugmentation, View};
use panopticon_data::masking::{IbotMaskConfig, IbotMasks, MaskingGenerator};

/// A standardised-looking `[C, H, W]` image (deterministic pseudo-noise).
fn image(ids: Vec<f32>, h: usize, w: usize) -> Image {
    let c = ids.len();
    let data = (0..c * h * w)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    Image::new(data, [c, h, w], ids).expect("valid bench image")
}

fn bench_augment(c: &mut Criterion) {
    let aug = PanopticonAugmentation::new(Default::default()).expect("stage-2 config");
    let s2_ids = vec![
        442.0, 492.0, 559.0, 664.0, 704.0, 740.0, 782.0, 832.0, 864.0, 945.0, 1373.0, 1613.0,
        2202.0,
    ];
    let s2_s1 = vec![
        View::single(image(s2_ids, 128, 128)),
        View::single(image(vec![-1.0, -2.0], 128, 128)),
    ];
    let enmap_ids = (0..202).map(|i| 420.0 + 10.0 * i as f32).collect();
    let enmap = vec![View::single(image(enmap_ids, 128, 128))];

    let mut group = c.benchmark_group("panopticon_augmentation_stage2");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    for (name, sample) in [
        ("s2_13band+s1_128px", &s2_s1),
        ("enmap_202band_128px", &enmap),
    ] {
        let mut index = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                index += 1;
                let mut rng = AugRng::for_sample(21, index);
                black_box(aug.apply(black_box(sample), &mut rng).expect("augment"))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("ibot_masks");
    let generator = MaskingGenerator::for_grid(16).expect("grid");
    group.throughput(Throughput::Elements(75));
    group.bench_function("batch75", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            let mut rng = AugRng::seed_from_u64(seed);
            black_box(
                IbotMasks::sample(150, &IbotMaskConfig::default(), &generator, &mut rng)
                    .expect("masks"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_augment);
criterion_main!(benches);
