//! MMEarth against an independent numpy re-implementation of upstream `MMEarth.__getitem__` +
//! `MMEarthWrapper` on a tiny synthetic dataset in the exact on-disk layout
//! (`scripts/gen_mmearth_fixtures.py`: h5py, pyarrow, json). Normalised values must be
//! bit-identical (tolerance 0: both sides compute `(x − mean)/std` in f64 and cast to f32);
//! kept channels and chn_ids must be equal.

use std::path::{Path, PathBuf};

use panopticon_data::augment::{
    AugRng, CropSetConfig, PanopticonAugmentation, PanopticonAugmentationConfig,
};
use panopticon_data::datasets::{
    DatasetError, Mmearth, MmearthConfig, MmearthModalities, MmearthSensor, MmearthSplit,
    PretrainSource, read_rows_parquet,
};
use panopticon_data::loader::{LoaderConfig, PretrainLoader, Sampling};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/mmearth")
}

fn base() -> PathBuf {
    root().join("data_tiny_v001")
}

fn expected() -> (Value, Vec<u8>) {
    let json = std::fs::read_to_string(root().join("expected.json")).unwrap();
    let blob = std::fs::read(root().join("expected.bin")).unwrap();
    (serde_json::from_str(&json).unwrap(), blob)
}

fn open(split: MmearthSplit) -> Mmearth {
    Mmearth::open(
        base(),
        MmearthConfig {
            split,
            ..MmearthConfig::default()
        },
    )
    .unwrap()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn ids(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap() as f32)
        .collect()
}

/// Compares every sample of `split` with the numpy reference; returns how many views matched.
fn check_split(split: MmearthSplit, name: &str) -> usize {
    let (exp, blob) = expected();
    let ds = open(split);
    let samples = exp["splits"][name].as_array().unwrap();
    assert_eq!(ds.len(), samples.len(), "{name}");
    let mut views = 0;
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(ds.rows()[i].hf5_idx as u64, s["hf5_idx"].as_u64().unwrap());
        if let Some(sensor) = s.get("empty_sensor") {
            let err = ds.view(i, MmearthSensor::Sentinel1).unwrap_err();
            assert!(matches!(err, DatasetError::EmptyView { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.contains(sensor.as_str().unwrap()) && msg.contains("row 6"),
                "{msg}"
            );
            continue;
        }
        for (key, sensor) in [
            ("sentinel2", MmearthSensor::Sentinel2),
            ("sentinel1", MmearthSensor::Sentinel1),
        ] {
            let e = &s[key];
            let img = ds.view(i, sensor).unwrap();
            let shape: Vec<usize> = serde_json::from_value(e["shape"].clone()).unwrap();
            assert_eq!(img.shape().to_vec(), shape, "{name}[{i}] {key}");
            assert_eq!(img.chn_ids(), ids(&e["chn_ids"]), "{name}[{i}] {key}");
            let (o, n) = (
                e["offset"].as_u64().unwrap() as usize,
                e["nbytes"].as_u64().unwrap() as usize,
            );
            let want = f32s(&blob[o..o + n]);
            let same = img
                .data()
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(
                same && want.len() == img.data().len(),
                "{name}[{i}] {key}: values differ"
            );
            views += 1;
        }
    }
    views
}

#[test]
fn train_split_equals_numpy_reference_bit_for_bit() {
    assert_eq!(check_split(MmearthSplit::Train, "train"), 10);
}

#[test]
fn eval_and_all_splits_equal_numpy_reference() {
    assert_eq!(check_split(MmearthSplit::Eval, "eval"), 2);
    assert_eq!(check_split(MmearthSplit::All, "all"), 12);
}

#[test]
fn quirks_b8a_ids_and_post_normalisation_no_data() {
    let (exp, _) = expected();
    let ds = open(MmearthSplit::Train);
    // Stored channel 7 is B8A but gets 827 (B08's id), channel 8 is B8 and gets 864.
    let s2 = ds.view(0, MmearthSensor::Sentinel2).unwrap();
    assert_eq!(&s2.chn_ids()[7..9], &[827.0, 864.0]);
    // Row t1 (hf5 2, L2A): a raw value equal to the band-3 mean normalises to exactly 0 and
    // is taken for no-data, so band 3 (id 664) is dropped.
    let t1 = &exp["splits"]["train"][1];
    assert_eq!(t1["id"], "t1");
    let s2 = ds.view(1, MmearthSensor::Sentinel2).unwrap();
    assert_eq!(s2.channels(), 12);
    assert!(!s2.chn_ids().contains(&664.0));
    // Missing polarisations (−inf) drop whole channels: t4 keeps asc VV/VH only.
    let s1 = ds.view(2, MmearthSensor::Sentinel1).unwrap();
    assert_eq!(s1.chn_ids(), &[-5.0, -6.0]);
}

#[test]
fn without_nan_removal_all_channels_stay() {
    let ds = Mmearth::open(
        base(),
        MmearthConfig {
            remove_nans: false,
            ..MmearthConfig::default()
        },
    )
    .unwrap();
    let s1 = ds.view(0, MmearthSensor::Sentinel1).unwrap();
    assert_eq!(s1.channels(), 8);
    assert_eq!(
        s1.chn_ids(),
        &[-5.0, -6.0, -7.0, -8.0, -9.0, -10.0, -11.0, -12.0]
    );
    let plane = s1.height() * s1.width();
    let nan_channels: Vec<usize> = (0..8)
        .filter(|&c| {
            s1.data()[c * plane..(c + 1) * plane]
                .iter()
                .any(|v| v.is_nan())
        })
        .collect();
    assert_eq!(nan_channels, [3, 6, 7]); // t0: asc HV and desc HH/HV missing
}

#[test]
fn load_returns_both_sensors_in_a_seeded_random_order() {
    let ds = open(MmearthSplit::Train);
    let first_ids = |seed| -> Vec<f32> {
        let views = ds.load(3, &mut AugRng::for_sample(seed, 3)).unwrap();
        assert_eq!(views.len(), 2);
        views.iter().map(|v| v.images()[0].chn_ids()[0]).collect()
    };
    let mut orders = std::collections::HashSet::new();
    for seed in 0..40 {
        let order = first_ids(seed);
        assert_eq!(order, first_ids(seed), "same seed, same order");
        let mut sorted = order.clone();
        sorted.sort_by(f32::total_cmp);
        assert_eq!(sorted, [-5.0, 442.0]);
        orders.insert(order[0] as i32);
    }
    assert_eq!(orders.len(), 2, "both orders occur");
    assert!(ds.load(5, &mut AugRng::seed_from_u64(0)).is_err());
}

#[test]
fn single_modality_sets_give_one_view() {
    assert_eq!(
        MmearthModalities::parse("MODALITY_MINIMAL_SET1"),
        Some(MmearthModalities::MinimalSet1)
    );
    assert_eq!(MmearthModalities::parse("MODALITY_FULL"), None);
    for (set, first) in [
        (MmearthModalities::S1, -5.0),
        (MmearthModalities::S2, 442.0),
    ] {
        let ds = Mmearth::open(
            base(),
            MmearthConfig {
                modalities: set,
                ..MmearthConfig::default()
            },
        )
        .unwrap();
        let views = ds.load(0, &mut AugRng::seed_from_u64(1)).unwrap();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].images()[0].chn_ids()[0], first);
    }
}

#[test]
fn integer_and_float_index_columns_read_the_same() {
    let float = read_rows_parquet(&base().join("data_tiny_v001.parquet")).unwrap();
    let int = read_rows_parquet(&root().join("int_index.parquet")).unwrap();
    assert_eq!(float.len(), 9);
    assert_eq!(float[6].hf5_idx, None); // NaN in the float column
    let without_nan: Vec<_> = float
        .iter()
        .filter(|r| r.hf5_idx.is_some())
        .cloned()
        .collect();
    assert_eq!(without_nan, int);
    assert_eq!(
        int[1].sensor,
        ["sentinel2", "sentinel1_asc", "sentinel1_desc", "aster"]
    );
}

#[test]
fn pretrain_loader_consumes_mmearth() {
    let mut c = PanopticonAugmentationConfig::stage2();
    c.global = CropSetConfig {
        size: 8,
        spectral_size: (2, 4),
        ..c.global
    };
    c.local = CropSetConfig {
        size: 4,
        spectral_size: (1, 2),
        number: 2,
        ..c.local
    };
    let mut loader = PretrainLoader::new(
        open(MmearthSplit::Train),
        PanopticonAugmentation::new(c).unwrap(),
        LoaderConfig {
            workers: 2,
            batch_size: 2,
            seed: 3,
            log_failures: false,
            sampling: Sampling::Infinite {
                seed: 1,
                advance: 0,
            },
            ..LoaderConfig::default()
        },
        IbotMaskConfig::default(),
        MaskingGenerator::for_grid(2).unwrap(),
    )
    .unwrap();
    for _ in 0..3 {
        let batch = loader.next_batch().unwrap().unwrap();
        assert_eq!(batch.indices.len(), 2);
        assert!(batch.indices.iter().all(|&i| i < 5));
    }
    assert!(loader.failures().is_empty());
}

#[test]
fn bad_layouts_are_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // Missing folder: the metadata table is read first.
    let err = Mmearth::open(tmp.path().join("data_x_v001"), MmearthConfig::default()).unwrap_err();
    assert!(
        matches!(err, DatasetError::Parquet(_)) && err.to_string().contains("data_x_v001.parquet")
    );
    // 12 Sentinel-2 bands instead of 13.
    let err = Mmearth::open(root().join("bad_v001"), MmearthConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            DatasetError::BandCount {
                expected: 13,
                got: 12,
                ..
            }
        ),
        "{err:?}"
    );
    // A copy with broken stats: zero std, then a missing key.
    let copy = tmp.path().join("data_tiny_v001");
    std::fs::create_dir(&copy).unwrap();
    for f in ["data_tiny_v001.h5", "data_tiny_v001.parquet"] {
        std::fs::copy(base().join(f), copy.join(f)).unwrap();
    }
    let stats_path = copy.join("data_tiny_v001_band_stats.json");
    let mut stats: Value = serde_json::from_str(
        &std::fs::read_to_string(base().join("data_tiny_v001_band_stats.json")).unwrap(),
    )
    .unwrap();
    stats["sentinel1"]["std"][2] = 0.0.into();
    std::fs::write(&stats_path, stats.to_string()).unwrap();
    let err = Mmearth::open(&copy, MmearthConfig::default()).unwrap_err();
    assert!(matches!(err, DatasetError::Stats { .. }), "{err:?}");
    assert!(
        err.to_string().contains("`sentinel1` std of band 2"),
        "{err}"
    );
    stats.as_object_mut().unwrap().remove("sentinel2_l2a");
    std::fs::write(&stats_path, stats.to_string()).unwrap();
    let err = Mmearth::open(&copy, MmearthConfig::default()).unwrap_err();
    assert!(
        err.to_string().contains("no entry `sentinel2_l2a`"),
        "{err}"
    );
    std::fs::write(&stats_path, "[1, 2]").unwrap();
    assert!(matches!(
        Mmearth::open(&copy, MmearthConfig::default()).unwrap_err(),
        DatasetError::Stats { .. }
    ));
}

#[test]
fn rows_past_the_arrays_are_refused_at_open() {
    let mut rows = read_rows_parquet(&base().join("data_tiny_v001.parquet")).unwrap();
    rows[4].hf5_idx = Some(7); // the arrays have 7 rows (0..6)
    let paths = panopticon_data::datasets::MmearthPaths::new(&base()).unwrap();
    let err = Mmearth::from_rows(
        paths,
        &rows,
        Path::new("meta.parquet"),
        MmearthConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, DatasetError::MetadataRow { row: 4, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("`hf5_idx` 7 is past the 7 rows"),
        "{err}"
    );
}
