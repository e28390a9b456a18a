//! `panopticon embed --manifest` with STAC manifests (tiny model): an ItemCollection (.json)
//! and the same items as stac-geoparquet (.parquet, written by the `stac-geoparquet` package:
//! scripts/gen_stac_manifest_fixtures.py). Item ids are the STAC ids, shards partition them,
//! a rerun redoes only missing items, both manifests give the same bytes, and each item equals
//! its scene in `panopticon embed items.json` (relative hrefs resolved against the manifest).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use panopticon::scale::{FailureLog, Manifest, Shard};
use panopticon::tensor_io::read_safetensors;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/data/stac/manifest")
        .join(name)
}

fn embed(args: &[&str]) -> Output {
    tiny_embed()
        .args(["--tile", "56", "--quiet"])
        .args(args)
        .output()
        .unwrap()
}

/// `embed --manifest MANIFEST --out OUT --format safetensors [--shard SHARD]`.
fn run_items(manifest: &Path, out: &Path, shard: Option<&str>) -> Output {
    let mut args = vec![
        "--manifest",
        p(manifest),
        "--out",
        p(out),
        "--format",
        "safetensors",
    ];
    if let Some(s) = shard {
        args.extend(["--shard", s]);
    }
    embed(&args)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ids() -> Vec<String> {
    (0..8).map(|i| format!("LC08_sample_{i:02}")).collect()
}

/// The non-hidden names in `dir`, sorted.
fn outputs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn cls(path: &Path) -> Vec<f32> {
    read_safetensors(path).unwrap()["cls"]
        .clone()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn both_manifest_kinds_list_the_stac_items_by_id() {
    for name in ["items.json", "items.parquet"] {
        let m = Manifest::read(&fixture(name)).unwrap();
        let got: Vec<&str> = m.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(got, ids(), "{name}");
        assert!(m.is_stac());
        // Shards of the item ids: every id in exactly one share.
        for n in [1u64, 2, 3, 5] {
            let mut seen = BTreeSet::new();
            for k in 0..n {
                for it in m.select(Shard { index: k, count: n }, None).unwrap() {
                    assert!(seen.insert(it.id.clone()), "{name}: {} twice", it.id);
                }
            }
            assert_eq!(seen.len(), 8, "{name}, {n} shards");
        }
    }
}

#[test]
fn sharded_runs_resume_and_equal_embedding_the_collection() {
    let dir = tempfile::tempdir().unwrap();
    let collection = fixture("items.json");
    let out = dir.path().join("out");
    // Three shards, one process each, as three workers would run them.
    let mut per_shard = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let o = run_items(&collection, &out, Some(&shard));
        assert!(o.status.success(), "{}", stderr(&o));
        let summary = stderr(&o);
        let done: usize = summary
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("summary: "))
            .and_then(|l| l.split(", ").next())
            .and_then(|l| l.split(": ").nth(1))
            .and_then(|l| l.strip_suffix(" done"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no summary in: {summary}"));
        per_shard.push(done);
    }
    assert_eq!(per_shard.iter().sum::<usize>(), 8, "{per_shard:?}");
    let names: Vec<String> = ids().iter().map(|i| format!("{i}.safetensors")).collect();
    assert_eq!(outputs(&out), names);

    // Each item equals its scene of `embed items.json` (eight scenes in one file, in order).
    let whole = dir.path().join("whole.safetensors");
    let o = embed(&[p(&collection), "-o", p(&whole)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = cls(&whole);
    let per_item: Vec<Vec<f32>> = names.iter().map(|n| cls(&out.join(n))).collect();
    let rows = per_item[0].len();
    assert!(rows > 0 && all.len() == 8 * rows, "{} vs {rows}", all.len());
    for (i, got) in per_item.iter().enumerate() {
        assert_eq!(got, &all[i * rows..(i + 1) * rows], "item {i}");
    }
    // The items differ (each lacks another band): the comparison is not vacuous.
    assert_ne!(per_item[0], per_item[1]);

    // Resume: two items lost, one write cut short; a rerun redoes exactly those two.
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(out.join(n)).unwrap())
        .collect();
    std::fs::remove_file(out.join(&names[2])).unwrap();
    std::fs::remove_file(out.join(&names[5])).unwrap();
    std::fs::write(out.join(format!(".{}.999.partial", names[5])), b"half").unwrap();
    let o = run_items(&collection, &out, None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("summary: 8 items: 2 done, 6 skipped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(outputs(&out), names, "temp files left");
    for (n, b) in names.iter().zip(&before) {
        assert!(&std::fs::read(out.join(n)).unwrap() == b, "{n} changed");
    }

    // The stac-geoparquet manifest of the same items, two shards: the same bytes.
    let from_parquet = dir.path().join("parquet");
    for k in 0..2 {
        let shard = format!("{k}/2");
        let o = run_items(&fixture("items.parquet"), &from_parquet, Some(&shard));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(outputs(&from_parquet), names);
    for (n, b) in names.iter().zip(&before) {
        assert!(
            &std::fs::read(from_parquet.join(n)).unwrap() == b,
            "{n}: parquet manifest differs from the ItemCollection"
        );
    }
    // And its rerun has nothing to do.
    let o = run_items(&fixture("items.parquet"), &from_parquet, None);
    assert!(
        stderr(&o).contains("summary: 8 items: 0 done, 8 skipped"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn parquet_items_name_their_item_in_the_path_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = embed(&[
        "--manifest",
        p(&fixture("items.parquet")),
        "--out",
        p(&out),
        "--items",
        "LC08_sample_07",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    use arrow_array::cast::AsArray;
    let file = std::fs::File::open(out.join("LC08_sample_07.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let paths = batch.column_by_name("path").unwrap().as_string::<i32>();
        for path in paths.iter() {
            let path = path.unwrap();
            assert!(path.ends_with("items.parquet#LC08_sample_07"), "{path}");
            rows += 1;
        }
    }
    assert_eq!(rows, 9, "168 px at tile 56: 3 × 3 tiles");
}

/// Fails with exit status 1 and one line holding every needle.
fn fails(args: &[&str], needles: &[&str]) {
    let o = embed(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
}

#[test]
fn bad_stac_manifests_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = p(&out);
    let collection: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("items.json")).unwrap()).unwrap();
    let write = |name: &str, features: Vec<serde_json::Value>| {
        let path = dir.path().join(name);
        let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
        std::fs::write(&path, fc.to_string()).unwrap();
        path
    };
    let f = collection["features"].as_array().unwrap();
    let dup = write("dup.json", vec![f[0].clone(), f[1].clone(), f[0].clone()]);
    fails(
        &["--manifest", p(&dup), "--out", out_s],
        &["items 1 and 3 both have id `LC08_sample_00`"],
    );
    let mut slash = f[0].clone();
    slash["id"] = "a/b".into();
    let slash = write("slash.json", vec![slash]);
    fails(
        &["--manifest", p(&slash), "--out", out_s],
        &["item 1: id `a/b` cannot name an output file"],
    );
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, r#"{"type": "Catalog", "id": "c", "links": []}"#).unwrap();
    fails(
        &["--manifest", p(&catalog), "--out", out_s],
        &["not a STAC Item or ItemCollection"],
    );
    let not_parquet = dir.path().join("m.parquet");
    std::fs::write(&not_parquet, b"id\nLC08\n").unwrap();
    fails(
        &["--manifest", p(&not_parquet), "--out", out_s],
        &["cannot read it as stac-geoparquet"],
    );
    fails(
        &[
            "--manifest",
            p(&fixture("items.json")),
            "--out",
            out_s,
            "--sensor",
            "landsat8_9",
            "--bands",
            "B4",
        ],
        &["--assets"],
    );
    assert!(!out.exists(), "a refused run created its output directory");
}

#[test]
fn an_item_with_a_missing_asset_file_is_logged_and_the_rest_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let collection: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("items.json")).unwrap()).unwrap();
    // A copy of the collection next to the fixture folder's hrefs would not resolve: make the
    // hrefs absolute, and break one.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/stac");
    let mut features = collection["features"].as_array().unwrap()[..3].to_vec();
    for f in &mut features {
        for asset in f["assets"].as_object_mut().unwrap().values_mut() {
            let name = asset["href"].as_str().unwrap().rsplit('/').next().unwrap();
            asset["href"] = samples.join(name).to_str().unwrap().into();
        }
    }
    features[1]["assets"]["red"]["href"] = "/nonexistent/red.tif".into();
    let manifest = dir.path().join("three.json");
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(&manifest, fc.to_string()).unwrap();
    let out = dir.path().join("out");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let failures = FailureLog::in_dir(&out).read().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].id, "LC08_sample_01");
    assert!(failures[0].reason.contains("red"), "{}", failures[0].reason);
    assert!(out.join("LC08_sample_00.parquet").is_file());
    assert!(out.join("LC08_sample_02.parquet").is_file());
}
