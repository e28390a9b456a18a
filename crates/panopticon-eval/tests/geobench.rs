//! The GeoBench loader on the synthetic m-so2sat fixture (per-sample HDF5 files with a
//! pickled attribute dict, default_partition.json, band_stats.json), written by
//! scripts/gen_eval_dataset_fixtures.py with h5py: split lists, labels, the 18 → 12 band
//! selection with its chn_ids, normalisation (numpy, f32) and malformed task folders.

use std::path::{Path, PathBuf};

use panopticon_eval::datasets::{DatasetKind, EvalDataset, GeoBenchTask, Targets};
use panopticon_eval::task::TaskConfig;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/eval/datasets/geobench/classification_v1.0/m-so2sat")
}

fn expected() -> Value {
    let p = root().join("../../expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn so2sat_splits_labels_band_selection_and_normalisation() {
    let exp = expected();
    let ids: Vec<f32> = exp["chn_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    for (split, key) in [("train", "train"), ("val", "valid"), ("test", "test")] {
        let e = &exp["splits"][key];
        let ds = EvalDataset::geobench(&root(), GeoBenchTask::So2sat, split).unwrap();
        assert_eq!(ds.kind(), DatasetKind::GeoBench(GeoBenchTask::So2sat));
        let names = e["names"].as_array().unwrap();
        assert_eq!(ds.len(), names.len());
        for (i, n) in names.iter().enumerate() {
            assert!(ds.files()[i].ends_with(format!("{}.hdf5", n.as_str().unwrap())));
        }
        let labels: Vec<i64> = e["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(ds.targets(), &Targets::Classes(labels.clone()));
        assert_eq!(ds.labels(), labels.as_slice());
        // 18 registry bands, 12 kept: VH real, VV real and the S2 bands (spec §5.9).
        assert_eq!(ds.chn_ids(), ids.as_slice());
        let img = ds.load(0).unwrap();
        assert_eq!(img.shape, [12, 4, 4]);
        assert_eq!(img.chn_ids, ids);
        let want: Vec<f32> = e["first_normalised"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let d = img
            .data
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(d <= 1e-5, "{split}: max |normalised - numpy| = {d}");
    }
}

fn copy_task() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("m-so2sat");
    std::fs::create_dir(&to).unwrap();
    for e in std::fs::read_dir(root()).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    (dir, to)
}

fn err(root: &Path, split: &str) -> String {
    EvalDataset::geobench(root, GeoBenchTask::So2sat, split)
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_task_folders_are_named_errors() {
    let (_dir, t) = copy_task();
    assert!(err(&t, "validation").contains("no `validation` list"));
    // A band without statistics.
    let stats = std::fs::read_to_string(t.join("band_stats.json")).unwrap();
    std::fs::write(
        t.join("band_stats.json"),
        stats.replace("\"04 - Red\"", "\"04 - Rouge\""),
    )
    .unwrap();
    let e = err(&t, "test");
    assert!(
        e.contains("band_stats.json") && e.contains("`04 - Red`"),
        "{e}"
    );
    std::fs::write(t.join("band_stats.json"), &stats).unwrap();
    // A listed sample that is missing.
    let part = std::fs::read_to_string(t.join("default_partition.json")).unwrap();
    std::fs::write(
        t.join("default_partition.json"),
        part.replacen("\"id_", "\"gone_", 1),
    )
    .unwrap();
    let e = err(&t, "train");
    assert!(e.contains("gone_") && e.contains("does not exist"), "{e}");
    // Not an HDF5 file.
    std::fs::write(t.join("default_partition.json"), &part).unwrap();
    let first = t.join("id_00001.hdf5");
    std::fs::write(&first, b"not hdf5").unwrap();
    assert!(err(&t, "train").contains("id_00001.hdf5"));
    assert!(GeoBenchTask::parse("m-cashew-plantation").is_none());
}

#[test]
fn geobench_task_ids_parse() {
    let text = "type = \"knn\"\n[dataset]\nid = \"geobench.m-so2sat\"\nroot = \"/gb\"\n\
                train = \"train\"\ntest = \"test\"\n";
    let c = TaskConfig::parse(text, Path::new("/cfg/t.toml"), "t").unwrap();
    assert_eq!(c.dataset, DatasetKind::GeoBench(GeoBenchTask::So2sat));
    assert_eq!(c.num_classes, 17);
    let e = TaskConfig::parse(
        &text.replace("m-so2sat", "m-nope"),
        Path::new("/cfg/t.toml"),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("geobench.m-nope") && e.contains("geobench.{m-eurosat"),
        "{e}"
    );
    // chn_select is checked against the 12 bands kept.
    let e = TaskConfig::parse(
        &format!("{text}[transform]\nchn_select = [12]\n"),
        Path::new("/cfg/t.toml"),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("0..12"), "{e}");
}
