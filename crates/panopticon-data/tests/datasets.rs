//! SpectralEarth, Corine and Satlas on the tiny datasets written by
//! `scripts/gen_dataset_fixtures.py` (exact upstream layouts), checked against the values
//! the generator computed independently (`expected.json`); plus bad data, composition and
//! the loader end to end.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use panopticon_data::augment::{AugRng, PanopticonAugmentation, View};
use panopticon_data::datasets::{
    ConcatDataset, CorineDataset, DatasetError, PretrainSource, Satlas, SatlasConfig, SatlasSensor,
    SpectralEarth, Subset, SubsetSize, corine_43_to_19, corine_code_to_43, subset_indices,
};
use panopticon_data::loader::{LoaderConfig, PretrainLoader, Sampling};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};
use panopticon_data::readers::ReadError;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/datasets")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(root().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("valid json")
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: got {g}, want {w}");
    }
}

/// Compares a `[202, 8, 8]` image with the generator's summary.
fn check_enmap(data: &[f32], shape: [usize; 3], want: &Value, what: &str) {
    let want_shape: Vec<usize> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(shape.to_vec(), want_shape, "{what}: shape");
    let [c, h, w] = shape;
    let px = |y: usize, x: usize| {
        (0..c)
            .map(|b| data[b * h * w + y * w + x])
            .collect::<Vec<_>>()
    };
    // float32 with upstream's operation order: equal up to the last bit or two.
    assert_close(&px(0, 0), &f32s(&want["pixel_0_0"]), 1e-6, what);
    assert_close(&px(5, 7), &f32s(&want["pixel_5_7"]), 1e-6, what);
    let sums: Vec<f32> = data
        .chunks(h * w)
        .map(|b| b.iter().map(|&v| f64::from(v)).sum::<f64>() as f32)
        .collect();
    assert_close(&sums, &f32s(&want["band_sums"]), 1e-4, what);
}

#[test]
fn spectral_earth_matches_generator() {
    let exp = &expected()["spectral_earth"];
    let ds = SpectralEarth::open(root().join("spectral_earth")).expect("opens");
    // CRLF and the trailing blank line are tolerated: three entries.
    assert_eq!(ds.len(), 3);
    let want_ids = f32s(&exp["chn_ids"]);
    for (i, want) in exp["samples"].as_array().unwrap().iter().enumerate() {
        let img = ds.image(i).expect("loads");
        assert_eq!(img.chn_ids(), &want_ids[..]);
        check_enmap(img.data(), img.shape(), want, &format!("sample {i}"));
    }
    // Duplicate EnMAP ids kept (quirk 22).
    assert_eq!(want_ids.iter().filter(|&&v| v == 911.0).count(), 2);
    // As a pre-training source: one view with one 202-channel image.
    let views = ds.load(0, &mut AugRng::for_sample(0, 0)).unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].total_channels(), 202);
    // Clamp edges: -32768 → 0, 10000 → 1 before standardising.
    let img = ds.image(0).unwrap();
    let m = panopticon_data::datasets::ENMAP_MEAN;
    let s = panopticon_data::datasets::ENMAP_STD;
    assert_eq!(img.channel(0).unwrap()[0], (0.0 - m[0]) / s[0]);
    assert_eq!(img.channel(1).unwrap()[0], (1.0 - m[1]) / s[1]);
    // Without normalisation: raw values.
    let raw = ds.clone().without_normalisation().image(0).unwrap();
    assert_eq!(raw.channel(0).unwrap()[0], -32768.0);
}

#[test]
fn spectral_earth_bad_data_is_typed() {
    let se = root().join("spectral_earth");
    let split = |name: &str| se.join("splits/enmap").join(name);
    assert!(matches!(
        SpectralEarth::from_split_file(&se, &split("empty.txt")),
        Err(DatasetError::EmptySplit { .. })
    ));
    let err = SpectralEarth::from_split_file(&se, &split("no_such_split.txt")).unwrap_err();
    assert!(matches!(err, DatasetError::Io { .. }));
    assert!(err.to_string().contains("no_such_split.txt"));

    let ds = SpectralEarth::from_split_file(&se, &split("bad_missing.txt")).unwrap();
    assert!(ds.image(0).is_ok());
    let err = ds.image(1).unwrap_err();
    assert!(
        matches!(err, DatasetError::Read(ReadError::Io { .. })),
        "{err}"
    );
    assert!(
        err.to_string().contains("tile_z/does_not_exist.tif"),
        "{err}"
    );
    assert!(matches!(
        ds.image(2),
        Err(DatasetError::IndexOutOfRange { index: 2, len: 2 })
    ));

    let ds = SpectralEarth::from_split_file(&se, &split("bad_bands.txt")).unwrap();
    match ds.image(0) {
        Err(
            e @ DatasetError::BandCount {
                expected: 202,
                got: 5,
                ..
            },
        ) => {
            assert!(e.to_string().contains("five_bands.tif"))
        }
        other => panic!("expected BandCount, got {other:?}"),
    }
}

#[test]
fn corine_multilabel_targets_match_generator() {
    let exp = &expected()["corine"];
    let ds = CorineDataset::open(root().join("spectral_earth"), "train").expect("opens");
    assert_eq!(ds.len(), 2);
    for (i, want) in exp["samples"].as_array().unwrap().iter().enumerate() {
        let s = ds.get(i).expect("loads");
        let target: Vec<i64> = want["target"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(s.target.to_vec(), target, "sample {i}");
        check_enmap(
            s.image.data(),
            s.image.shape(),
            &want["image"],
            "corine image",
        );
    }
    // Sample 0 uses 111, 112 (both → 0), 122/999 (removed), 311 (→ 8), 333 (→ 31 → 11).
    let t0 = ds.get(0).unwrap().target;
    let on: Vec<usize> = (0..19).filter(|&c| t0[c] == 1).collect();
    assert!(on.iter().all(|c| [0, 8, 11].contains(c)), "{on:?}");

    let bad = CorineDataset::open(root().join("spectral_earth"), "val").unwrap();
    match bad.get(0) {
        Err(e @ DatasetError::UnknownLabelCode { code: 777, .. }) => {
            assert!(e.to_string().contains("c_bad/patch.tif"))
        }
        other => panic!("expected UnknownLabelCode, got {other:?}"),
    }
    assert!(matches!(
        CorineDataset::open(root().join("spectral_earth"), "holdout"),
        Err(DatasetError::Config(_))
    ));
    // The test split does not exist in the fixture.
    assert!(matches!(
        CorineDataset::open(root().join("spectral_earth"), "test"),
        Err(DatasetError::Io { .. })
    ));
}

#[test]
fn corine_tables_follow_the_spec() {
    assert_eq!(corine_code_to_43(111), Some(0));
    assert_eq!(corine_code_to_43(333), Some(31));
    assert_eq!(corine_code_to_43(999), Some(43));
    assert_eq!(corine_code_to_43(110), None);
    assert_eq!(corine_43_to_19(31), Some(11));
    assert_eq!(corine_43_to_19(43), None);
    // Every class index the 43-table produces (except "removed") lands in 0..19, and all 19
    // classes are reachable.
    let codes = [
        111, 112, 121, 211, 212, 213, 221, 222, 223, 231, 241, 242, 243, 244, 311, 312, 313, 321,
        322, 323, 324, 331, 333, 411, 412, 421, 422, 511, 512, 521, 522, 523,
    ];
    let reached: HashSet<usize> = codes
        .iter()
        .map(|&c| corine_43_to_19(corine_code_to_43(c).unwrap()).unwrap())
        .collect();
    assert_eq!(reached, (0..19).collect());
}

fn satlas() -> Satlas {
    Satlas::open(
        root().join("satlas"),
        root().join("satlas/metadata_v2/satlas_fixture.jsonl"),
        SatlasConfig::default(),
    )
    .expect("opens")
}

fn check_view(view: &View, want: &Value, what: &str) {
    let bands = want["bands"].as_array().unwrap();
    assert_eq!(
        view.images().len(),
        bands.len(),
        "{what}: one image per band"
    );
    for (img, b) in view.images().iter().zip(bands) {
        let shape: Vec<usize> = b["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let band = b["band"].as_str().unwrap();
        assert_eq!(img.shape().to_vec(), shape, "{what} {band}");
        assert_eq!(
            img.chn_ids(),
            &[b["chn_id"].as_f64().unwrap() as f32],
            "{what} {band}"
        );
        assert_close(
            img.data(),
            &f32s(&b["values"]),
            1e-6,
            &format!("{what} {band}"),
        );
    }
}

#[test]
fn satlas_views_match_generator() {
    let exp = &expected()["satlas"];
    let ds = satlas();
    assert_eq!(ds.len(), 3);
    for (r, row_views) in exp["views"].as_array().unwrap().iter().enumerate() {
        for (pos, want) in row_views.as_array().unwrap().iter().enumerate() {
            let view = ds.view(r, pos).expect("loads");
            check_view(&view, want, &format!("row {r} acquisition {pos}"));
        }
    }
    // Multi-resolution Landsat: pan 16 px, thermal 2 px, the rest 8 px.
    let landsat = ds.view(0, 2).unwrap();
    let sizes: Vec<usize> = landsat.images().iter().map(|i| i.height()).collect();
    assert_eq!(sizes, vec![8, 8, 8, 8, 8, 8, 8, 16, 8, 2, 2]);
}

#[test]
fn satlas_pairs_are_distinct_seeded_and_cover_all_pairs() {
    let exp = &expected()["satlas"];
    let ds = satlas();
    let mut pairs = HashSet::new();
    for seed in 0..64 {
        let mut rng = AugRng::for_sample(seed, 0);
        let chosen = ds.choose_views(0, &mut rng.clone()).unwrap();
        let views = ds.load(0, &mut rng).unwrap();
        assert_eq!(chosen.len(), 2);
        assert_ne!(chosen[0], chosen[1]);
        for (v, &pos) in views.iter().zip(&chosen) {
            check_view(v, &exp["views"][0][pos], "paired view");
        }
        pairs.insert((chosen[0], chosen[1]));
    }
    // 3 acquisitions → 6 ordered pairs, all drawn.
    assert_eq!(pairs.len(), 6);
    // Only Sentinel-1 kept: tile_c has two S1 acquisitions, the others too few.
    let s1 = Satlas::open(
        root().join("satlas"),
        root().join("satlas/metadata_v2/satlas_fixture.jsonl"),
        SatlasConfig {
            keep_sensors: vec![SatlasSensor::S1],
            ..SatlasConfig::default()
        },
    )
    .unwrap();
    let mut rng = AugRng::for_sample(1, 2);
    let mut chosen = s1.choose_views(2, &mut rng).unwrap();
    chosen.sort();
    assert_eq!(chosen, vec![0, 2]);
    assert!(matches!(
        s1.load(0, &mut rng),
        Err(DatasetError::TooFewViews {
            have: 1,
            need: 2,
            ..
        })
    ));
}

#[test]
fn satlas_bad_data_is_typed() {
    let sat = root().join("satlas");
    let bad = Satlas::open(
        &sat,
        sat.join("metadata_v2/satlas_bad.jsonl"),
        SatlasConfig::default(),
    )
    .unwrap();
    let mut rng = AugRng::for_sample(0, 0);
    assert!(matches!(
        bad.load(0, &mut rng),
        Err(DatasetError::TooFewViews {
            have: 1,
            need: 2,
            ..
        })
    ));
    match bad.view(1, 0) {
        Err(
            e @ DatasetError::BandCount {
                expected: 3,
                got: 1,
                ..
            },
        ) => {
            assert!(e.to_string().contains("tci/bad_tci.png"), "{e}")
        }
        other => panic!("expected BandCount, got {other:?}"),
    }
    assert!(
        bad.view(1, 1).is_ok(),
        "the S1 acquisition of the row is fine"
    );
    let err = bad.view(2, 1).unwrap_err();
    assert!(matches!(err, DatasetError::Read(ReadError::Io { .. })));
    assert!(err.to_string().contains("b5/bad_missing.png"), "{err}");
    let err = bad.load(3, &mut rng).unwrap_err();
    assert!(err.to_string().contains("nowhere.png"), "{err}");

    assert!(matches!(
        Satlas::open(
            &sat,
            sat.join("metadata_v2/satlas_empty.jsonl"),
            SatlasConfig::default()
        ),
        Err(DatasetError::EmptySplit { .. })
    ));
    assert!(matches!(
        Satlas::open(
            &sat,
            sat.join("metadata_v2/missing.jsonl"),
            SatlasConfig::default()
        ),
        Err(DatasetError::Io { .. })
    ));
    // Malformed metadata: a line that is not a row, or a row with an unknown sensor.
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("{\"id\": \"x\"}\n", "line 1"),
        (
            "{\"id\": \"x\", \"sensor\": [\"s2\", \"modis\"], \"time\": [null, null]}\n",
            "modis",
        ),
        (
            "{\"id\": \"x\", \"sensor\": [\"s2\"], \"time\": [null, null]}\n",
            "`time` has 2",
        ),
    ] {
        let p = dir.path().join("m.jsonl");
        std::fs::write(&p, text).unwrap();
        let err = Satlas::open(&sat, &p, SatlasConfig::default()).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[test]
fn subset_and_concat_follow_spec_5_8() {
    // Fraction: floor(f·n) distinct indices; count < n: that many; count >= n: tiling.
    let f = subset_indices(10, SubsetSize::Fraction(0.35), 1).unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(f.iter().collect::<HashSet<_>>().len(), 3);
    assert!(f.iter().all(|&i| i < 10));
    assert_eq!(
        f,
        subset_indices(10, SubsetSize::Fraction(0.35), 1).unwrap()
    );
    assert_ne!(
        subset_indices(100, SubsetSize::Count(10), 1).unwrap(),
        subset_indices(100, SubsetSize::Count(10), 2).unwrap()
    );
    assert_eq!(
        subset_indices(3, SubsetSize::Count(8), 9).unwrap(),
        vec![0, 1, 2, 0, 1, 2, 0, 1]
    );
    assert_eq!(
        subset_indices(3, SubsetSize::Count(3), 9).unwrap(),
        vec![0, 1, 2]
    );
    for bad in [
        SubsetSize::Fraction(0.0),
        SubsetSize::Fraction(1.5),
        SubsetSize::Fraction(0.01),
        SubsetSize::Count(0),
    ] {
        assert!(subset_indices(10, bad, 0).is_err(), "{bad:?}");
    }

    let se = SpectralEarth::open(root().join("spectral_earth")).unwrap();
    let concat = ConcatDataset::new(vec![Box::new(se.clone()), Box::new(satlas())]).unwrap();
    assert_eq!(concat.len(), 6);
    assert_eq!(concat.locate(2), Some((0, 2)));
    assert_eq!(concat.locate(3), Some((1, 0)));
    assert_eq!(concat.locate(6), None);
    let mut rng = AugRng::for_sample(0, 0);
    assert_eq!(concat.load(1, &mut rng).unwrap()[0].total_channels(), 202);
    assert_eq!(concat.load(4, &mut rng).unwrap().len(), 2);
    assert!(matches!(
        concat.load(6, &mut rng),
        Err(DatasetError::IndexOutOfRange { .. })
    ));

    let tiled = Subset::new(se, SubsetSize::Count(7), 0).unwrap();
    assert_eq!(tiled.len(), 7);
    assert_eq!(tiled.path_of(4), tiled.path_of(1));
}

#[test]
fn loader_runs_both_layouts_and_skips_bad_rows() {
    let sat = root().join("satlas");
    let bad = Satlas::open(
        &sat,
        sat.join("metadata_v2/satlas_bad.jsonl"),
        SatlasConfig::default(),
    )
    .unwrap();
    let se = SpectralEarth::open(root().join("spectral_earth")).unwrap();
    // 3 SpectralEarth + 3 Satlas + 4 bad Satlas rows.
    let concat = ConcatDataset::new(vec![Box::new(se), Box::new(satlas()), Box::new(bad)]).unwrap();
    let mut loader = PretrainLoader::new(
        concat,
        PanopticonAugmentation::new(Default::default()).unwrap(),
        LoaderConfig {
            workers: 2,
            prefetch: 4,
            batch_size: 2,
            sampling: Sampling::Sequential,
            log_failures: false,
            ..LoaderConfig::default()
        },
        IbotMaskConfig::default(),
        MaskingGenerator::for_grid(16).unwrap(),
    )
    .unwrap();
    let mut indices = Vec::new();
    while let Some(batch) = loader.next_batch().unwrap() {
        let g = &batch.collated.global;
        assert_eq!((g.channels, g.size), (13, 224));
        assert_eq!(g.n, 2 * batch.indices.len());
        indices.extend(batch.indices);
    }
    assert_eq!(indices, vec![0, 1, 2, 3, 4, 5]);
    let failed: Vec<usize> = loader.failures().iter().map(|f| f.index).collect();
    assert_eq!(failed, vec![6, 7, 8, 9]);
}
