//! Samples/s of `PretrainLoader` (2 workers: read + normalise + `PanopticonAugmentation`
//! at the stage-2 settings, then the crop-major collate with iBOT masks) on each dataset
//! layout at upstream's native sizes, written to a temporary directory first:
//!
//! * SpectralEarth: 4 EnMAP patches, 202 bands × 128 × 128 (float32 GeoTIFF, uncompressed;
//!   upstream stores int16, so reading here moves 2× the bytes).
//! * SatlasPretrain: 4 tiles with Sentinel-2 (TCI + 6 bands, 512 px), Sentinel-1 (2 × 512
//!   px) and Landsat (pan 512, 8 bands 256, thermal 64 px) PNGs, 2 sensors per sample.
//!
//! Run: `cargo bench -p panopticon-data --bench loader`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use panopticon_data::augment::PanopticonAugmentation;
use panopticon_data::datasets::{PretrainSource, Satlas, SatlasConfig, SpectralEarth};
use panopticon_data::loader::{LoaderConfig, PretrainLoader, Sampling};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};
use panopticon_data::write_geotiff_f32;

const BATCH: usize = 8;

fn noise(n: usize, salt: usize, max: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |i| (i.wrapping_add(salt).wrapping_mul(2_654_435_761) >> 9) % max)
}

fn write_gray_png(path: &Path, size: usize, channels: usize, salt: usize) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let file = BufWriter::new(File::create(path).expect("create png"));
    let mut enc = png::Encoder::new(file, size as u32, size as u32);
    enc.set_color(if channels == 3 {
        png::ColorType::Rgb
    } else {
        png::ColorType::Grayscale
    });
    enc.set_depth(png::BitDepth::Eight);
    let bytes: Vec<u8> = noise(size * size * channels, salt, 256)
        .map(|v| v as u8)
        .collect();
    let mut w = enc.write_header().expect("png header");
    w.write_image_data(&bytes).expect("png data");
}

fn spectral_earth(root: &Path) -> SpectralEarth {
    let mut split = String::new();
    for k in 0..4 {
        let rel = format!("tile/patch_{k}.tif");
        let data: Vec<f32> = noise(202 * 128 * 128, k, 12000).map(|v| v as f32).collect();
        let path = root.join("enmap").join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_geotiff_f32(&path, 202, 128, 128, &data, None, None, None).expect("tif");
        split.push_str(&rel);
        split.push('\n');
    }
    std::fs::create_dir_all(root.join("splits/enmap")).unwrap();
    std::fs::write(root.join("splits/enmap/train.txt"), split).unwrap();
    SpectralEarth::open(root).expect("SpectralEarth fixture")
}

fn satlas(root: &Path) -> Satlas {
    let mut meta = String::new();
    for k in 0..4 {
        let id = format!("tile_{k}");
        for stem in ["tci", "b05", "b06", "b07", "b08", "b11", "b12"] {
            let c = if stem == "tci" { 3 } else { 1 };
            write_gray_png(
                &root.join(format!("sentinel2/s2/{stem}/{id}.png")),
                512,
                c,
                k,
            );
        }
        for stem in ["vv", "vh"] {
            write_gray_png(
                &root.join(format!("sentinel1/t1/{stem}/{id}.png")),
                512,
                1,
                k,
            );
        }
        for b in 1..=11 {
            let size = match b {
                8 => 512,
                10 | 11 => 64,
                _ => 256,
            };
            write_gray_png(
                &root.join(format!("landsat/t2/b{b}/{id}.png")),
                size,
                1,
                k + b,
            );
        }
        meta.push_str(&format!(
            "{{\"id\": \"{id}\", \"s2_dir\": \"s2\", \"sensor\": [\"s2\", \"s1\", \"landsat\"], \
             \"time\": [null, \"t1\", \"t2\"]}}\n"
        ));
    }
    std::fs::write(root.join("meta.jsonl"), meta).unwrap();
    Satlas::open(root, root.join("meta.jsonl"), SatlasConfig::default()).expect("Satlas fixture")
}

fn loader<S: PretrainSource + 'static>(source: S) -> PretrainLoader {
    PretrainLoader::new(
        source,
        PanopticonAugmentation::new(Default::default()).expect("stage-2 config"),
        LoaderConfig {
            workers: 2,
            prefetch: 2 * BATCH,
            batch_size: BATCH,
            sampling: Sampling::Infinite {
                seed: 0,
                advance: 0,
            },
            ..LoaderConfig::default()
        },
        IbotMaskConfig::default(),
        MaskingGenerator::for_grid(16).expect("grid"),
    )
    .expect("loader")
}

fn bench_loader(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let se = spectral_earth(&dir.path().join("spectral_earth"));
    let sat = satlas(&dir.path().join("satlas"));

    let mut group = c.benchmark_group("loader_2_workers_stage2_aug");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    for (name, mut l) in [
        ("spectral_earth_202x128x128", loader(se)),
        ("satlas_2_sensors_native_res", loader(sat)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let batch = l.next_batch().expect("batch").expect("infinite");
                std::hint::black_box(batch.collated.global.imgs.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_loader);
criterion_main!(benches);
