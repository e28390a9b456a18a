//! The BigEarthNet v2 webdataset and SpectralEarth Corine loaders on the synthetic fixtures
//! in their real layouts (written by scripts/gen_eval_dataset_fixtures.py, which also
//! records what must be found in `expected.json`: sample keys, 19-class targets, the
//! spec's chn_ids and the first sample normalised by torch / numpy), plus multilabel task
//! configs and malformed shards.

use std::path::{Path, PathBuf};

use panopticon_eval::datasets::{BenBands, DatasetKind, EvalDataset, EvalTransform, Targets};
use panopticon_eval::task::{TaskConfig, TaskKind};
use panopticon_eval::{Average, Metric};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/eval/datasets")
}

fn wds() -> PathBuf {
    fixtures().join("benv2/wds")
}

fn expected(name: &str) -> Value {
    let p = fixtures().join(name).join("expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn multi_hot(rows: &Value) -> Vec<f32> {
    rows.as_array().unwrap().iter().flat_map(f32s).collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn benv2_webdataset_samples_targets_ids_and_normalisation() {
    let exp = expected("benv2");
    let size = exp["size"].as_u64().unwrap() as usize;
    let mut worst = 0f32;
    for bands in [BenBands::S1, BenBands::S2, BenBands::All] {
        for split in ["train", "validation", "test"] {
            let e = &exp["splits"][split];
            let ds = EvalDataset::benv2_webdataset(&wds(), bands, split, None).unwrap();
            assert_eq!(ds.kind(), DatasetKind::Benv2Webdataset(bands));
            let keys = e["keys"].as_array().unwrap();
            assert_eq!(ds.len(), keys.len(), "{split}-{}", bands.suffix());
            for (i, key) in keys.iter().enumerate() {
                let want = format!(
                    "{}:{}",
                    e["shards"][i].as_str().unwrap(),
                    key.as_str().unwrap()
                );
                assert_eq!(ds.sample_name(i), want);
                assert!(ds.files()[i].ends_with(format!(
                    "{split}-{}/{}",
                    bands.suffix(),
                    e["shards"][i].as_str().unwrap()
                )));
            }
            assert_eq!(
                ds.targets(),
                &Targets::MultiHot {
                    values: multi_hot(&e["targets"]),
                    num_labels: 19
                }
            );
            assert!(ds.labels().is_empty(), "multilabel: no class indices");
            // chn_ids from the registry equal the spec's table (ben-s1 / ben-s2 / ben-s1s2).
            let ids = f32s(&exp["chn_ids"][bands.suffix()]);
            assert_eq!(ds.chn_ids(), ids.as_slice());
            let img = ds.load(0).unwrap();
            assert_eq!(img.shape, [bands.channels(), size, size]);
            assert_eq!(img.chn_ids, ids);
            let want = f32s(&e["first_normalised"][bands.suffix()]);
            worst = worst.max(max_abs_diff(&img.data, &want));
        }
    }
    // Same f32 operations as torch: (x - mean) / std.
    assert!(worst <= 1e-6, "max |normalised - torch| = {worst}");
    eprintln!("BENv2 max |normalised - torch| = {worst:e}");
}

#[test]
fn benv2_shard_subset_keeps_whole_shards() {
    let all = EvalDataset::benv2_webdataset(&wds(), BenBands::S2, "train", None).unwrap();
    assert_eq!(all.len(), 12);
    let half = EvalDataset::benv2_webdataset(&wds(), BenBands::S2, "train", Some(0.5)).unwrap();
    // floor(3 · 0.5) = 1 shard of 4 samples.
    assert_eq!(half.len(), 4);
    assert!(half.files().iter().all(|f| f == &half.files()[0]));
    let two = EvalDataset::benv2_webdataset(&wds(), BenBands::S2, "train", Some(0.67)).unwrap();
    assert_eq!(two.len(), 8);
    // Deterministic, and the subset's samples keep their targets.
    let again = EvalDataset::benv2_webdataset(&wds(), BenBands::S2, "train", Some(0.67)).unwrap();
    assert_eq!(two.files(), again.files());
    for i in 0..two.len() {
        let j = (0..all.len())
            .find(|&j| all.sample_name(j) == two.sample_name(i))
            .unwrap();
        assert_eq!(two.targets().describe(i), all.targets().describe(j));
    }
    for bad in [0.0, 1.5, f64::NAN] {
        let e = EvalDataset::benv2_webdataset(&wds(), BenBands::S2, "train", Some(bad))
            .unwrap_err()
            .to_string();
        assert!(e.contains("train_subset"), "{e}");
    }
    let e = EvalDataset::open(DatasetKind::Corine, &fixtures(), "train", Some(0.5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("only benv2_webdataset"), "{e}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A copy of `test-s2` under a temporary root, to break.
fn broken_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("test-s2");
    copy_dir(&wds().join("test-s2"), &folder);
    (dir, folder)
}

fn open_err(root: &Path, bands: BenBands) -> String {
    EvalDataset::benv2_webdataset(root, bands, "test", None)
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_webdatasets_are_named_errors() {
    let yaml = |f: &Path| f.join("dataset.yaml");
    // Wrong sensor for the requested bands.
    let (dir, f) = broken_copy();
    let text = std::fs::read_to_string(yaml(&f)).unwrap();
    std::fs::write(yaml(&f), text.replace("sensor: s2", "sensor: s1")).unwrap();
    let e = open_err(dir.path(), BenBands::S2);
    assert!(
        e.contains("dataset.yaml") && e.contains("sensor is `s1`"),
        "{e}"
    );
    // Sample count disagreeing with the yaml.
    std::fs::write(
        yaml(&f),
        text.replace("dataset-000000.tar: 6", "dataset-000000.tar: 5"),
    )
    .unwrap();
    let e = open_err(dir.path(), BenBands::S2);
    assert!(e.contains("holds 6 samples but dataset.yaml says 5"), "{e}");
    // 43 classes (the upstream yamls' number) is not what the shards hold.
    std::fs::write(yaml(&f), text.replace("num_classes: 19", "num_classes: 43")).unwrap();
    assert!(open_err(dir.path(), BenBands::S2).contains("num_classes is 43"));
    std::fs::write(yaml(&f), &text).unwrap();
    // Stats for the wrong number of bands.
    std::fs::copy(wds().join("test-s1/dataset.pt"), f.join("dataset.pt")).unwrap();
    let e = open_err(dir.path(), BenBands::S2);
    assert!(
        e.contains("dataset.pt") && e.contains("2 values but the shards hold 12"),
        "{e}"
    );
    std::fs::remove_file(f.join("dataset.pt")).unwrap();
    assert!(open_err(dir.path(), BenBands::S2).contains("cannot read dataset.pt"));
    copy_dir(&wds().join("test-s2"), &f);
    // A truncated shard.
    let shard = f.join("dataset-000000.tar");
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..700]).unwrap();
    let e = open_err(dir.path(), BenBands::S2);
    assert!(e.contains("dataset-000000.tar"), "{e}");
    // A missing folder names the layout.
    let e = open_err(dir.path(), BenBands::All);
    assert!(
        e.contains("test-all") && e.contains("no such webdataset folder"),
        "{e}"
    );
    assert!(
        BenBands::parse("s3")
            .unwrap_err()
            .to_string()
            .contains("\"s3\"")
    );
}

#[test]
fn corine_targets_ids_and_normalisation() {
    let exp = expected("spectral_earth");
    let root = fixtures().join("spectral_earth");
    let select: Vec<usize> = exp["select"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let t = EvalTransform {
        chn_select: Some(select),
        ..EvalTransform::default()
    };
    for split in ["train", "val", "test"] {
        let e = &exp["splits"][split];
        let ds = EvalDataset::corine(&root, split).unwrap();
        let entries = e["entries"].as_array().unwrap();
        assert_eq!(ds.len(), entries.len());
        for (i, entry) in entries.iter().enumerate() {
            assert!(
                ds.files()[i].ends_with(format!("enmap_corine/enmap/{}", entry.as_str().unwrap()))
            );
        }
        assert_eq!(
            ds.targets(),
            &Targets::MultiHot {
                values: multi_hot(&e["targets"]),
                num_labels: 19
            }
        );
        assert_eq!(ds.chn_ids().len(), 202);
        let img = t.apply(ds.load(0).unwrap()).unwrap();
        assert_eq!(img.shape, [4, 4, 4]);
        // The corine-4c ChnSelect picks these wavelengths (spec §6.6).
        assert_eq!(img.chn_ids, vec![520.0, 1116.0, 2086.0, 2207.0]);
        let want = f32s(&e["first_selected_normalised"]);
        let d = max_abs_diff(&img.data, &want);
        assert!(d <= 1e-6, "{split}: max |normalised - numpy| = {d}");
    }
    let e = EvalDataset::corine(&root, "validation")
        .unwrap_err()
        .to_string();
    assert!(e.contains("split file not found"), "{e}");
}

fn parse(text: &str) -> Result<TaskConfig, String> {
    TaskConfig::parse(text, Path::new("/cfg/t.toml"), "t").map_err(|e| e.to_string())
}

const BEN_KNN: &str = "type = \"knn\"\n[dataset]\nid = \"benv2_webdataset\"\nbands = \"s2\"\n\
                       root = \"/wds\"\ntrain = \"train\"\ntest = \"test\"\n";

#[test]
fn multilabel_task_configs() {
    // kNN defaults to AP micro / macro on a multilabel dataset.
    let c = parse(BEN_KNN).unwrap();
    assert_eq!(c.num_classes, 19);
    assert_eq!(c.dataset, DatasetKind::Benv2Webdataset(BenBands::S2));
    let TaskKind::Knn(k) = &c.kind else { panic!() };
    assert_eq!(k.metrics, vec![Metric::AP_MICRO, Metric::AP_MACRO]);
    // Linear: the multilabel grid (lr 1.0 added) and soft-margin loss.
    let lin = "type = \"linear\"\n[dataset]\nid = \"corine\"\nroot = \"/se\"\ntrain = \"train\"\n\
               val = \"val\"\ntest = \"test\"\n[linear]\nepochs = 2\n\
               metrics = [\"MulLabF1ScoreMacro_micro\", \"MulLabAvergPrec_macro\"]\n";
    let c = parse(lin).unwrap();
    let TaskKind::Linear(p) = &c.kind else {
        panic!()
    };
    assert!(p.multilabel);
    assert_eq!(p.base_lrs.len(), 17);
    assert_eq!(*p.base_lrs.last().unwrap(), 1.0);
    assert_eq!(
        p.metrics,
        vec![
            Metric::F1 {
                average: Average::Micro
            },
            Metric::AP_MACRO
        ]
    );
    // Metric kinds must fit the dataset.
    let e = parse(&format!(
        "{BEN_KNN}[knn]\nmetrics = [\"acc_top-1_micro\"]\n"
    ))
    .unwrap_err();
    assert!(
        e.contains("knn.metrics") && e.contains("the dataset is multilabel"),
        "{e}"
    );
    let sar = "type = \"knn\"\n[dataset]\nid = \"eurosat-sar\"\nroot = \"/e\"\ntrain = \"train\"\n\
               test = \"test\"\n[knn]\nmetrics = [\"MulLabAvergPrec_micro\"]\n";
    assert!(
        parse(sar)
            .unwrap_err()
            .contains("need a multilabel dataset")
    );
    // bands: required for BENv2, refused elsewhere.
    let e = parse(&BEN_KNN.replace("bands = \"s2\"\n", "")).unwrap_err();
    assert!(
        e.contains("dataset.bands") && e.contains("\"s1\", \"s2\" or \"all\""),
        "{e}"
    );
    let e = parse(&sar.replace("root", "bands = \"s2\"\nroot")).unwrap_err();
    assert!(e.contains("only BigEarthNet v2 takes `bands`"), "{e}");
    // The upstream yamls' 43 classes is refused: the targets have 19 labels.
    let e = parse(&BEN_KNN.replace("test = \"test\"\n", "test = \"test\"\nnum_classes = 43\n"))
        .unwrap_err();
    assert!(e.contains("num_classes") && e.contains("19 labels"), "{e}");
    // train_subset: BENv2 only, a fraction.
    let e = parse(&lin.replace("val = \"val\"", "val = \"val\"\ntrain_subset = 0.5")).unwrap_err();
    assert!(
        e.contains("only benv2_webdataset (shards) and geobench.* (samples) take a subset"),
        "{e}"
    );
    let e = parse(&BEN_KNN.replace("test = \"test\"", "test = \"test\"\ntrain_subset = 2.0"))
        .unwrap_err();
    assert!(e.contains("(0, 1]"), "{e}");
    // chn_select is checked against the dataset's band count (202 for Corine).
    let e = parse(&format!("{}[transform]\nchn_select = [202]\n", lin)).unwrap_err();
    assert!(e.contains("0..202"), "{e}");
}

#[test]
fn benv2_raw_folders_metadata_resampling_and_normalisation() {
    let exp = expected("benv2/raw");
    let root = fixtures().join("benv2/raw");
    let pixels: Vec<(usize, usize)> = exp["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_u64().unwrap() as usize,
                p[1].as_u64().unwrap() as usize,
            )
        })
        .collect();
    // Resampled values are rounded to int32; where torch's f64 sum and ours land on either
    // side of a .5 tie (rounding noise) they differ by one unit. Tolerances, in raw units
    // (normalised difference × std): 1 per sampled pixel, 0.05 on the channel mean (≤ 5 %
    // of the pixels off by one).
    let stds: Vec<f32> = [
        panopticon_eval::datasets::BEN_S1_STD.as_slice(),
        panopticon_eval::datasets::BEN_S2_STD.as_slice(),
    ]
    .concat();
    let (mut worst, mut exact, mut sampled) = (0f32, 0usize, 0usize);
    for split in ["train", "validation", "test"] {
        let e = &exp["splits"][split];
        let ds = EvalDataset::benv2_raw(&root, BenBands::All, split).unwrap();
        let ids: Vec<&str> = e["patch_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let names: Vec<&str> = (0..ds.len()).map(|i| ds.sample_name(i)).collect();
        assert_eq!(names, ids, "{split}: metadata rows of this split, in order");
        assert_eq!(
            ds.targets(),
            &Targets::MultiHot {
                values: multi_hot(&e["targets"]),
                num_labels: 19
            }
        );
        // ben-s1s2: SAR ids [-1, -2] although the files are VH, VV (spec quirk 12).
        assert_eq!(&ds.chn_ids()[..3], &[-1.0, -2.0, 442.0]);
        let img = ds.load(0).unwrap();
        assert_eq!(img.shape, [14, 120, 120]);
        let hw = 120 * 120;
        for (c, want) in e["first"].as_array().unwrap().iter().enumerate() {
            let want = f32s(want);
            let plane = &img.data[c * hw..(c + 1) * hw];
            for (k, &(r, q)) in pixels.iter().enumerate() {
                let d = (plane[r * 120 + q] - want[k]).abs() * stds[c];
                worst = worst.max(d);
                exact += usize::from(d < 1e-3);
                sampled += 1;
            }
            let mean = plane.iter().map(|&v| v as f64).sum::<f64>() / hw as f64;
            let d = (mean - want[pixels.len()] as f64).abs() * stds[c] as f64;
            assert!(
                d <= 0.05,
                "{split} channel {c}: mean differs by {d} raw units"
            );
        }
        // S2 only and S1 only read the matching band files.
        let s2 = EvalDataset::benv2_raw(&root, BenBands::S2, split).unwrap();
        assert_eq!(s2.load(0).unwrap().data[..], img.data[2 * hw..]);
        let s1 = EvalDataset::benv2_raw(&root, BenBands::S1, split).unwrap();
        assert_eq!(s1.load(0).unwrap().data[..], img.data[..2 * hw]);
    }
    assert!(
        worst <= 1.0 + 1e-3,
        "max |resampled - torch| = {worst} raw units"
    );
    assert!(
        exact * 10 >= sampled * 9,
        "{exact} of {sampled} sampled pixels exact"
    );
    eprintln!("BENv2 raw: {exact}/{sampled} sampled pixels exact, worst {worst} raw units");
    // A missing band file is named with its metadata row.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("raw");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(root.join("metadata.parquet"), copy.join("metadata.parquet")).unwrap();
    let e = EvalDataset::benv2_raw(&copy, BenBands::S2, "test")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("_B01.tif") && e.contains("does not exist"),
        "{e}"
    );
}
