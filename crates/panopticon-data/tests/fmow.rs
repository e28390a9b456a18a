//! FMoW on the tiny dataset written by `scripts/gen_fmow_fixtures.py` (upstream layout,
//! GeoTIFFs by rasterio, footprint table by pyarrow), checked against the values the
//! generator computed independently (`expected.json`: pandas filtering, torchvision
//! normalisation, draw formulas); plus retries, the faulty-images log, bad metadata, and the
//! loader end to end.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use panopticon_data::augment::{AugRng, Draws, PanopticonAugmentation, View};
use panopticon_data::datasets::{
    ConcatDataset, DatasetError, FaultyImgsLog, Fmow, FmowConfig, FmowSensor, FmowSplit,
    ImgSizeFilter, PretrainSource, ViewSelection,
};
use panopticon_data::loader::{LoaderConfig, PretrainLoader, Sampling};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};
use panopticon_data::readers::{ParquetError, ReadError};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/data/fmow")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(root().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("valid json")
}

/// Replays the generator's uniform draws.
struct Replay(Vec<f64>);

impl Draws for Replay {
    fn uniform(&mut self) -> f64 {
        assert!(
            !self.0.is_empty(),
            "more draws consumed than the generator predicted"
        );
        self.0.remove(0)
    }
}

fn replay(v: &Value) -> Replay {
    Replay(
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect(),
    )
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// The generator's configuration in Rust terms; failures go to `log`.
fn config(cfg: &Value, log: &Path) -> FmowConfig {
    let opt = |k: &str| cfg.get(k).map(|v| v.as_u64().unwrap() as usize);
    let mut c = FmowConfig {
        faulty_imgs_log: FaultyImgsLog::At(log.to_path_buf()),
        ..FmowConfig::default()
    };
    if cfg.get("max_crop").is_some() {
        c.max_crop = opt("max_crop");
    }
    c.min_crop = opt("min_crop");
    c.min_img_size = opt("min_img_size");
    c.max_img_size = opt("max_img_size");
    if let Some(m) = opt("num_views") {
        c.num_views = m;
    }
    if let Some(k) = cfg.get("keep_sensors") {
        c.keep_sensors = k
            .as_array()
            .unwrap()
            .iter()
            .map(|s| FmowSensor::parse(s.as_str().unwrap()).unwrap())
            .collect();
    }
    if let Some(d) = cfg.get("relpaths_to_drop") {
        c.relpaths_to_drop = serde_json::from_value(d.clone()).unwrap();
    }
    // The generator's default is upstream's (height only); the port's default is both sides.
    c.img_size_filter = match cfg.get("img_size_filter").and_then(Value::as_str) {
        Some("both_sides") => ImgSizeFilter::BothSides,
        _ => ImgSizeFilter::Height,
    };
    if cfg.get("view_selection").and_then(Value::as_str) == Some("unique") {
        c.view_selection = ViewSelection::Unique;
    }
    c
}

fn crop24(log: &Path) -> Fmow {
    Fmow::open(
        root(),
        config(&expected()["filtered"]["crop24"]["config"], log),
    )
    .expect("opens")
}

/// Compares a loaded view with the generator's summary of its file.
fn check_view(view: &View, want: &Value, rgb: bool, what: &str) {
    assert_eq!(view.images().len(), 1, "{what}: one image per view");
    let img = &view.images()[0];
    let shape = usizes(&want["shape"]);
    let ids: Vec<f32> = if rgb {
        usizes(&want["rgb_chn_ids"])
    } else {
        usizes(&want["chn_ids"])
    }
    .into_iter()
    .map(|v| v as f32)
    .collect();
    assert_eq!(img.chn_ids(), &ids[..], "{what}: chn_ids");
    let [c, h, w] = img.shape();
    let at = |ch: usize, y: usize, x: usize| img.data()[ch * h * w + y * w + x];
    if rgb {
        assert_eq!([c, h, w], [3, shape[1], shape[2]], "{what}: shape");
        for (ch, v) in want["rgb_probe"].as_array().unwrap().iter().enumerate() {
            // Same f32 operations as torchvision: exact.
            assert_eq!(at(ch, 1, 2), v.as_f64().unwrap() as f32, "{what}: rgb {ch}");
        }
        return;
    }
    assert_eq!(vec![c, h, w], shape, "{what}: shape");
    for p in want["probes"].as_array().unwrap() {
        let (ch, y, x) = (
            p[0].as_u64().unwrap() as usize,
            p[1].as_u64().unwrap() as usize,
            p[2].as_u64().unwrap() as usize,
        );
        // (x − mean) / std in f32, the operation order of torchvision's Normalize: exact.
        assert_eq!(
            at(ch, y, x),
            p[3].as_f64().unwrap() as f32,
            "{what}: ({ch},{y},{x})"
        );
    }
    for (b, s) in want["band_sums"].as_array().unwrap().iter().enumerate() {
        let got: f64 = img.channel(b).unwrap().iter().map(|&v| f64::from(v)).sum();
        let want = s.as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{what} band {b}: {got} vs {want}"
        );
    }
}

#[test]
fn filters_match_upstream_subsetting() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("faulty");
    for (name, case) in exp["filtered"].as_object().unwrap() {
        let want = case["locations"].as_array().unwrap();
        let opened = Fmow::open(root(), config(&case["config"], &log));
        if want.is_empty() {
            // Upstream's defaults (max_crop 256) leave nothing of 16–32 px images.
            let err = opened.unwrap_err();
            assert!(matches!(err, DatasetError::Config(_)), "{name}: {err}");
            assert!(err.to_string().contains("passes the filters"), "{err}");
            continue;
        }
        let ds = opened.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ds.len(), want.len(), "{name}: kept rows");
        for (loc, w) in ds.locations().iter().zip(want) {
            assert_eq!(loc.row, w["row"].as_u64().unwrap() as usize, "{name}");
            let paths: Vec<&str> = loc.views.iter().map(|v| v.path.as_str()).collect();
            let want_paths: Vec<&str> = w["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            assert_eq!(paths, want_paths, "{name} row {}", loc.row);
        }
    }
    // The port's default size filter tests both sides: the generator's both-sides rows.
    let mut c = config(&exp["filtered"]["max_size_both"]["config"], &log);
    c.img_size_filter = FmowConfig::default().img_size_filter;
    let rows: Vec<u64> = Fmow::open(root(), c)
        .unwrap()
        .locations()
        .iter()
        .map(|l| l.row as u64)
        .collect();
    let want: Vec<u64> = exp["filtered"]["max_size_both"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, want);
    assert!(!log.exists(), "opening reads no image");
}

#[test]
fn views_match_generator_pixels_and_chn_ids() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    let ds = crop24(&dir.path().join("faulty"));
    let rgb = Fmow::open(
        root(),
        FmowConfig {
            return_rgb: true,
            ..config(
                &exp["filtered"]["crop24"]["config"],
                &dir.path().join("faulty"),
            )
        },
    )
    .unwrap();
    let mut checked = 0;
    for (i, loc) in ds.locations().iter().enumerate() {
        for (pos, v) in loc.views.iter().enumerate() {
            let Some(want) = exp["views"].get(&v.path) else {
                continue; // missing / corrupt / wrong band count: see the error tests
            };
            check_view(&ds.view(i, pos).unwrap(), want, false, &v.path);
            check_view(&rgb.view(i, pos).unwrap(), want, true, &v.path);
            checked += 1;
        }
    }
    // 11 readable files among the kept rows (airport 3, port 3, farm 2, mixed 3), including
    // the band-interleaved WorldView one.
    assert_eq!(checked, 11);
    // Raw values without normalisation.
    let raw = Fmow::open(
        root(),
        FmowConfig {
            normalise: false,
            ..config(
                &exp["filtered"]["crop24"]["config"],
                &dir.path().join("faulty"),
            )
        },
    )
    .unwrap();
    let want = &exp["views"]["fmow/train/airport/airport_0/airport_0_1_ms.tif"];
    let img = &raw.view(0, 1).unwrap().images()[0].clone();
    let p = &want["probes"][1];
    let [_, h, w] = img.shape();
    let (c, y, x) = (
        p[0].as_u64().unwrap() as usize,
        p[1].as_u64().unwrap() as usize,
        p[2].as_u64().unwrap() as usize,
    );
    assert_eq!(
        img.data()[c * h * w + y * w + x],
        p[4].as_f64().unwrap() as f32
    );
}

#[test]
fn replayed_draws_choose_the_generator_views_in_order() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("faulty");
    let large = crop24(&log);
    let unique = Fmow::open(root(), config(&exp["filtered"]["unique"]["config"], &log)).unwrap();
    for case in exp["cases"].as_array().unwrap() {
        let ds = if case["mode"] == "unique" {
            &unique
        } else {
            &large
        };
        let index = case["index"].as_u64().unwrap() as usize;
        let mut draws = replay(&case["draws"]);
        let chosen = ds.choose_views(index, &mut draws).unwrap();
        assert_eq!(chosen, usizes(&case["chosen"]), "{case}");
        assert!(draws.0.is_empty(), "all draws used: {case}");
        // Pairing: view k of a successful load is the chosen position k.
        let loc = &ds.locations()[index];
        if chosen
            .iter()
            .all(|&p| exp["views"].get(&loc.views[p].path).is_some())
        {
            let views = ds.load_with(index, &mut replay(&case["draws"])).unwrap();
            for (v, &p) in views.iter().zip(&chosen) {
                check_view(
                    v,
                    &exp["views"][&loc.views[p].path],
                    false,
                    &loc.views[p].path,
                );
            }
        }
    }
    assert!(!log.exists(), "no failure, no log");
}

#[test]
fn seeded_draws_are_reproducible_and_cover_all_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let ds = crop24(&dir.path().join("faulty"));
    // port_1 (index 1): views 0 and 2 are large enough; any other view may follow.
    let mut pairs = HashSet::new();
    for seed in 0..200 {
        let a = ds
            .choose_views(1, &mut AugRng::for_sample(seed, 1))
            .unwrap();
        let b = ds
            .choose_views(1, &mut AugRng::for_sample(seed, 1))
            .unwrap();
        assert_eq!(a, b);
        assert!(ds.locations()[1].views[a[0]].img_size() >= 24);
        assert_ne!(a[0], a[1]);
        pairs.insert((a[0], a[1]));
    }
    let want: HashSet<_> = [(0, 1), (0, 2), (2, 0), (2, 1)].into_iter().collect();
    assert_eq!(pairs, want);
    // Through the trait with the loader's generator.
    let views = ds.load(1, &mut AugRng::for_sample(3, 1)).unwrap();
    assert_eq!(views.len(), 2);
}

#[test]
fn a_missing_file_is_logged_and_the_draw_retried() {
    let exp = expected();
    let retry = &exp["retry"];
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("faulty_imgs");
    let ds = crop24(&log);
    let index = retry["index"].as_u64().unwrap() as usize;
    let attempts = retry["attempts"].as_array().unwrap();
    assert_eq!(
        attempts.len(),
        2,
        "the generator predicts one failure, then success"
    );
    let views = ds.load_with(index, &mut replay(&retry["draws"])).unwrap();
    let final_pos = usizes(&attempts[1]["chosen"]);
    for (v, &p) in views.iter().zip(&final_pos) {
        let path = &ds.locations()[index].views[p].path;
        check_view(v, &exp["views"][path], false, path);
    }
    let text = std::fs::read_to_string(&log).expect("the failure was logged");
    let failed = root().join(attempts[0]["failed"].as_str().unwrap());
    assert_eq!(text.matches("\n\ntime: ").count(), 1, "{text}");
    assert!(
        text.contains(&format!("file: {}\n", failed.display())),
        "{text}"
    );
    assert!(text.contains("error: cannot read"), "{text}");
}

#[test]
fn exhausted_retries_are_a_typed_error_naming_the_file() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("faulty_imgs");
    let ds = crop24(&log);
    let index = exp["broken_index"].as_u64().unwrap() as usize;
    let err = ds.load(index, &mut AugRng::for_sample(0, 0)).unwrap_err();
    match &err {
        DatasetError::LoadFailed {
            tries: 3,
            last,
            log: Some(l),
            ..
        } => {
            assert_eq!(l, &log);
            assert!(
                matches!(**last, DatasetError::Read(ReadError::Corrupt { .. })),
                "{last}"
            );
        }
        other => panic!("expected LoadFailed, got {other:?}"),
    }
    let broken = exp["broken_file"].as_str().unwrap();
    assert!(err.to_string().contains(broken), "{err}");
    // The only large-enough view is the corrupt one: it is drawn first every time.
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.matches(&format!("file: {}\n", root().join(broken).display()))
            .count(),
        3
    );
    // With the log off, the same error, nothing written.
    let off = Fmow::open(
        root(),
        FmowConfig {
            faulty_imgs_log: FaultyImgsLog::Off,
            ..config(&exp["filtered"]["crop24"]["config"], &log)
        },
    )
    .unwrap();
    assert!(matches!(
        off.load(index, &mut AugRng::for_sample(0, 0)),
        Err(DatasetError::LoadFailed { log: None, .. })
    ));
    // The 4-band file listed as wv23 is a band-count error (one view of broken_5).
    let pos = ds.locations()[index]
        .views
        .iter()
        .position(|v| v.path.ends_with("broken_5_2_ms.tif"))
        .unwrap();
    assert!(matches!(
        ds.view(index, pos),
        Err(DatasetError::BandCount {
            expected: 8,
            got: 4,
            ..
        })
    ));
    assert!(matches!(
        ds.view(99, 0),
        Err(DatasetError::IndexOutOfRange { index: 99, .. })
    ));
}

#[test]
fn bad_metadata_and_settings_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let open = |table: &str| {
        Fmow::open(
            root(),
            FmowConfig {
                split: FmowSplit::Path(format!("fmow/metadata_v2/{table}").into()),
                max_crop: Some(24),
                faulty_imgs_log: FaultyImgsLog::At(dir.path().join("f")),
                ..FmowConfig::default()
            },
        )
    };
    let err = open("bad_not_parquet.parquet").unwrap_err();
    assert!(
        matches!(err, DatasetError::Parquet(ParquetError::Corrupt { .. })),
        "{err:?}"
    );
    assert!(matches!(
        open("no_such_table.parquet"),
        Err(DatasetError::Parquet(ParquetError::Io { .. }))
    ));
    let err = open("bad_missing_column.parquet").unwrap_err();
    assert!(
        matches!(&err, DatasetError::Parquet(ParquetError::MissingColumn { column, .. }) if column == "img_width"),
        "{err:?}"
    );
    assert!(matches!(
        open("bad_types.parquet"),
        Err(DatasetError::Parquet(ParquetError::WrongType {
            got: "string",
            ..
        }))
    ));
    let err = open("bad_lengths.parquet").unwrap_err();
    assert!(
        matches!(err, DatasetError::MetadataRow { row: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("sensor 2"), "{err}");
    let err = open("bad_sensor.parquet").unwrap_err();
    assert!(
        matches!(err, DatasetError::MetadataRow { row: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("modis"), "{err}");

    let bad = |c: FmowConfig| matches!(Fmow::open(root(), c), Err(DatasetError::Config(_)));
    assert!(bad(FmowConfig {
        num_views: 0,
        ..FmowConfig::default()
    }));
    assert!(bad(FmowConfig {
        keep_sensors: vec![],
        ..FmowConfig::default()
    }));
    assert!(bad(FmowConfig {
        max_tries: 0,
        ..FmowConfig::default()
    }));
    assert!(bad(FmowConfig {
        max_crop: None,
        ..FmowConfig::default()
    }));
    // Unique with M = 3 and only 3 sources: rows with all three remain (airport_0, farm_2,
    // broken_5); max_crop None is fine outside large_enough.
    let u3 = Fmow::open(
        root(),
        FmowConfig {
            num_views: 3,
            max_crop: None,
            view_selection: ViewSelection::Unique,
            faulty_imgs_log: FaultyImgsLog::Off,
            ..FmowConfig::default()
        },
    )
    .unwrap();
    let rows: Vec<usize> = u3.locations().iter().map(|l| l.row).collect();
    assert_eq!(rows, vec![0, 2, 5]);
}

#[test]
fn split_and_log_paths_follow_upstream_names() {
    let r = Path::new("/data/datasets");
    assert_eq!(
        FmowSplit::Train.metadata_path(r),
        r.join("fmow/metadata_v2/fmow_iwm_onid_train.parquet")
    );
    assert_eq!(
        FmowSplit::Path("/abs/x.parquet".into()).metadata_path(r),
        PathBuf::from("/abs/x.parquet")
    );
    // The default split is the fixture's table; its log sits next to it.
    let ds = Fmow::open(
        root(),
        FmowConfig {
            max_crop: Some(24),
            ..FmowConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        ds.faulty_log_path().unwrap(),
        root().join("fmow/metadata_v2/fmow_iwm_onid_train_val_savioclean_min42max1024_faulty_imgs")
    );
    assert_eq!(ds.chn_ids(FmowSensor::Rgb), vec![665.0, 547.0, 482.0]);
}

#[test]
fn loader_runs_fmow_and_skips_unloadable_locations() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("faulty");
    let ds = crop24(&log);
    let n = ds.len();
    let concat = ConcatDataset::new(vec![Box::new(ds)]).unwrap();
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
        indices.extend(batch.indices);
    }
    // broken_5 (index 3) always fails; farm_2 (index 2) may fail its three tries.
    let failed: Vec<usize> = loader.failures().iter().map(|f| f.index).collect();
    assert!(failed.contains(&3), "{failed:?}");
    assert_eq!(indices.len() + failed.len(), n);
    assert!(indices.contains(&0) && indices.contains(&1) && indices.contains(&4));
    assert!(log.exists());
}
