//! Samples/s of `PretrainLoader` (2 workers: read + normalise + `PanopticonAugmentation`
//! at the stage-2 settings, then the crop-major collate with iBOT masks) on each dataset
//! layout at upstream's native sizes, written to a temporary directory first:
//!
//! * SpectralEarth: 4 EnMAP patches, 202 bands × 128 × 128 (float32 GeoTIFF, uncompressed;
//!   upstream stores int16, so reading here moves 2× the bytes).
//! * SatlasPretrain: 4 tiles with Sentinel-2 (TCI + 6 bands, 512 px), Sentinel-1 (2 × 512
//!   px) and Landsat (pan 512, 8 bands 256, thermal 64 px) PNGs, 2 sensors per sample.
//! * FMoW: 4 locations, each with WorldView 8-band views (640 × 512 and 384 × 384 px),
//!   Sentinel-2 13-band views (100 × 100 and 120 × 96 px) and one RGB view (768 × 640 px);
//!   float32 GeoTIFFs (upstream: uint16/uint8) and a Parquet footprint table; default
//!   pre-training settings (2 views, `large_enough` with `max_crop` 256).
//! * MMEarth: 16 rows of `sentinel2` (13 × 128 × 128 uint16), `sentinel1` (8 × 128 × 128
//!   float32, HH/HV no-data as upstream) and `month` in one contiguous HDF5 file, written by
//!   `loader_support/h5.rs`; `MODALITY_MINIMAL_SET1`, NaN channels removed.
//!
//! Run: `cargo bench -p panopticon-data --bench loader`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

mod loader_support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use loader_support::fmow_parquet::{ViewRow, write_fmow_table};
use loader_support::h5::{H5Values, write_h5};
use panopticon_data::augment::PanopticonAugmentation;
use panopticon_data::datasets::{
    FaultyImgsLog, Fmow, FmowConfig, FmowSplit, MMEARTH_S1_BANDS, MMEARTH_S2_BANDS, Mmearth,
    MmearthConfig, MmearthPaths, MmearthRow, PretrainSource, Satlas, SatlasConfig, SpectralEarth,
};
use panopticon_data::loader::{LoaderConfig, PretrainLoader, Sampling};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};
use panopticon_data::readers::Hdf5File;
use panopticon_data::write_geotiff_f32;

const BATCH: usize = 8;

/// Builds a loader when its row starts.
type MakeLoader = Box<dyn FnOnce() -> PretrainLoader>;

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

fn fmow(root: &Path) -> Fmow {
    // (prefix, sensor, bands, height, width) of each view of a location.
    let views: [(&str, &'static str, usize, usize, usize); 5] = [
        ("fmow", "wv23", 8, 640, 512),
        ("fmow", "wv23", 8, 384, 384),
        ("fmow-sentinel", "s2", 13, 100, 100),
        ("fmow-sentinel", "s2", 13, 120, 96),
        ("fmow", "rgb", 3, 768, 640),
    ];
    let mut table: Vec<Vec<ViewRow>> = Vec::new();
    for k in 0..4 {
        let mut row = Vec::new();
        for (v, &(prefix, sensor, c, h, w)) in views.iter().enumerate() {
            let rel = format!("{prefix}/train/loc_{k}/loc_{k}_{v}_{sensor}.tif");
            let max = if sensor == "rgb" { 256 } else { 2000 };
            let data: Vec<f32> = noise(c * h * w, k + v, max).map(|x| x as f32).collect();
            let path = root.join(&rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            write_geotiff_f32(&path, c, h, w, &data, None, None, None).expect("tif");
            row.push((rel, sensor, h as i64, w as i64));
        }
        table.push(row);
    }
    std::fs::create_dir_all(root.join("fmow/metadata_v2")).unwrap();
    let meta = root.join("fmow/metadata_v2/bench.parquet");
    write_fmow_table(&meta, &table);
    let config = FmowConfig {
        split: FmowSplit::Path(meta),
        faulty_imgs_log: FaultyImgsLog::Off,
        ..FmowConfig::default()
    };
    Fmow::open(root, config).expect("FMoW fixture")
}

fn mmearth(root: &Path) -> Mmearth {
    const N: usize = 16;
    const S: usize = 128;
    let base = root.join("data_bench_v001");
    std::fs::create_dir_all(&base).unwrap();
    let paths = MmearthPaths::new(&base).expect("paths");
    let s2: Vec<u16> = noise(N * 13 * S * S, 1, 6000)
        .map(|v| v as u16 + 1)
        .collect();
    // HH/HV (channels 2, 3, 6, 7) missing, as in most MMEarth rows.
    let s1: Vec<f32> = noise(N * 8 * S * S, 2, 3000)
        .enumerate()
        .map(|(i, v)| match (i / (S * S)) % 8 {
            2 | 3 | 6 | 7 => f32::NEG_INFINITY,
            _ => v as f32 / -100.0,
        })
        .collect();
    let month: Vec<f32> = (0..N * 2).map(|i| (i as f32 * 0.3).sin()).collect();
    let row3: Vec<f32> = s2[3 * 13 * S * S..4 * 13 * S * S]
        .iter()
        .map(|&v| f32::from(v))
        .collect();
    write_h5(
        &paths.hdf5,
        &[
            ("sentinel2", vec![N, 13, S, S], H5Values::U16(s2)),
            ("sentinel1", vec![N, 8, S, S], H5Values::F32(s1)),
            ("month", vec![N, 2], H5Values::F32(month)),
        ],
    );
    let stats = |n: usize, mean: f64, std: f64| serde_json::json!({ "mean": vec![mean; n], "std": vec![std; n] });
    let stats = serde_json::json!({
        "sentinel2_l1c": stats(MMEARTH_S2_BANDS.len(), 1500.5, 900.0),
        "sentinel2_l2a": stats(MMEARTH_S2_BANDS.len(), 1400.5, 1000.0),
        "sentinel1": stats(MMEARTH_S1_BANDS.len(), -12.0, 5.0),
        "month": stats(2, 0.0, 0.7),
    });
    std::fs::write(&paths.band_stats, stats.to_string()).unwrap();
    // The hand-written file must read back exactly.
    let h5 = Hdf5File::open(&paths.hdf5).expect("bench HDF5 opens");
    assert_eq!(h5.read_row("sentinel2", 3).expect("row").to_f32(), row3);
    // Metadata rows given directly (the Parquet table is only read at open).
    let rows: Vec<MmearthRow> = (0..N)
        .map(|i| MmearthRow {
            split: Some("train".into()),
            sensor: vec!["sentinel2".into(), "sentinel1_asc".into()],
            hf5_idx: Some(i as i64),
            s2_type: Some(if i % 2 == 0 { "l2a" } else { "l1c" }.into()),
        })
        .collect();
    let meta = paths.parquet.clone();
    Mmearth::from_rows(paths, &rows, &meta, MmearthConfig::default()).expect("MMEarth fixture")
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
    let fm = fmow(&dir.path().join("fmow_root"));
    let mm = mmearth(&dir.path().join("mmearth"));

    let mut group = c.benchmark_group("loader_2_workers_stage2_aug");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(10);
    // Each loader is built just before its run (its workers start prefetching at once) and
    // dropped after it, so the rows do not compete.
    let sources: [(&str, MakeLoader); 4] = [
        ("spectral_earth_202x128x128", Box::new(|| loader(se))),
        ("satlas_2_sensors_native_res", Box::new(|| loader(sat))),
        ("fmow_2_views_wv23_s2_rgb", Box::new(|| loader(fm))),
        ("mmearth_s2_s1_128px", Box::new(|| loader(mm))),
    ];
    for (name, make) in sources {
        let mut l = make();
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
