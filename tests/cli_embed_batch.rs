//! `panopticon embed --manifest … --out DIR` with the tiny model: shards partition the
//! manifest, a run killed with SIGKILL resumes to the same bytes as an uninterrupted run,
//! failed items are logged with exit status 3, bad invocations fail with one line, manifests
//! may name ids explicitly, and `embed collect` gathers the items into one table or one per
//! CRS (`cli_embed_batch/collect.rs`).

#[path = "cli_embed_batch/collect.rs"]
mod collect;
mod common;
#[path = "cli_embed_batch/recipes.rs"]
mod recipes;
#[path = "cli_embed_batch/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use panopticon::data::write_geotiff_f32;
use panopticon::scale::{FailureLog, Manifest, Shard};
use support::*;

const TILE: [&str; 2] = ["--tile", "32"];

#[test]
fn shards_of_n_partition_the_manifest() {
    let text: String = (0..500)
        .map(|i| format!("tiles/T{i:04}_2024.tif\n"))
        .collect();
    let m = Manifest::parse(Path::new("m.txt"), &text, Path::new("/data")).unwrap();
    let all: BTreeSet<&str> = m.items.iter().map(|i| i.id.as_str()).collect();
    for n in [1u64, 2, 3, 7, 16, 499, 1000] {
        let mut union = BTreeSet::new();
        let mut sizes = Vec::new();
        for k in 0..n {
            let share = m.select(Shard { index: k, count: n }, None).unwrap();
            sizes.push(share.len());
            for item in share {
                assert!(
                    union.insert(item.id.as_str()),
                    "{} in two shards of {n}",
                    item.id
                );
            }
        }
        assert_eq!(union, all, "shards of {n} miss items");
        if n <= 16 {
            // The hash spreads: no shard is empty or holds more than twice its share.
            let fair = 500 / n as usize;
            assert!(
                sizes.iter().all(|&s| s > 0 && s <= 2 * fair + 5),
                "{n}: {sizes:?}"
            );
        }
    }
    // Pinned, so the share of an id never changes between versions (and the Python driver
    // agrees: scale/ray/test_ray.py checks the same values).
    let shard_of = |id: &str, n: u64| (0..n).find(|&k| Shard { index: k, count: n }.contains(id));
    assert_eq!(panopticon::scale::fnv1a64(b"T32TQM"), 0x0d229025e58f71b8);
    assert_eq!(shard_of("T32TQM", 4), Some(0));
    let firsts: Vec<u64> = m.items[..5]
        .iter()
        .map(|i| shard_of(&i.id, 7).unwrap())
        .collect();
    assert_eq!(firsts, [6, 1, 1, 0, 4]);
}

#[test]
fn dry_run_shards_cover_the_manifest_without_loading_weights() {
    let dir = tempfile::tempdir().unwrap();
    // Dry runs only look at names: empty files will do.
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    let mut text = String::new();
    for i in 0..40 {
        std::fs::write(dir.path().join(format!("in/x{i}.tif")), b"").unwrap();
        text.push_str(&format!("in/x{i}.tif\n"));
    }
    let manifest = dir.path().join("m.txt");
    std::fs::write(&manifest, text).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("x3.parquet"), b"done before").unwrap();
    std::fs::write(out.join(".x4.parquet.999.partial"), b"half").unwrap();
    let mut seen = Vec::new();
    for k in 0..3 {
        let shard = format!("{k}/3");
        let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
            .args([
                "embed",
                "--weights",
                "/nonexistent/weights.pth",
                "--sensor",
                "sentinel2_l1c",
            ])
            .args([
                "--manifest",
                p(&manifest),
                "--out",
                p(&out),
                "--shard",
                &shard,
                "--dry-run",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        for line in String::from_utf8(o.stdout).unwrap().lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let want = match f[1] {
                "x3" => "done",
                "x4" => "partial",
                _ => "todo",
            };
            assert_eq!(f[0], want, "{line}");
            assert!(f[2].ends_with(&format!("in/{}.tif", f[1])), "{line}");
            seen.push(f[1].to_string());
        }
    }
    seen.sort();
    let mut all: Vec<String> = (0..40).map(|i| format!("x{i}")).collect();
    all.sort();
    assert_eq!(seen, all);
    // Nothing was touched.
    assert_eq!(listing(&out), [".x4.parquet.999.partial", "x3.parquet"]);
}

#[test]
fn a_killed_run_resumes_to_the_bytes_of_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 8, 128);
    let whole = dir.path().join("whole");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&whole), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let names: Vec<String> = (0..8).map(|i| format!("s{i:02}.parquet")).collect();
    assert_eq!(listing(&whole), names);

    let resumed = dir.path().join("resumed");
    let mut child = embed_cmd(&["--manifest", p(&manifest), "--out", p(&resumed), "--quiet"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // SIGKILL as soon as the first item is finished: no chance to clean up.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !resumed.join("s00.parquet").exists() {
        assert!(Instant::now() < deadline, "no item finished in 120 s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = listing(&resumed)
        .iter()
        .filter(|n| !n.starts_with('.'))
        .count();
    assert!(
        finished < 8,
        "the run ended before the kill; make the items bigger"
    );
    // A write cut short by a crash leaves its temp file; plant one if the kill left none.
    std::fs::write(resumed.join(".s07.parquet.4194303.partial"), b"half a file").unwrap();

    let o = embed(&["--manifest", p(&manifest), "--out", p(&resumed)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = stderr(&o);
    let summary = log.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!(
            "summary: 8 items: {} done, {finished} skipped (already there), 0 failed",
            8 - finished
        )),
        "{log}"
    );
    // Every item exactly once, no temp files, the same bytes as the uninterrupted run.
    assert_eq!(listing(&resumed), names);
    for n in &names {
        let (a, b) = (
            std::fs::read(whole.join(n)).unwrap(),
            std::fs::read(resumed.join(n)).unwrap(),
        );
        assert!(a == b, "{n} differs from the uninterrupted run");
    }
    // A third run has nothing to do and loads no weights.
    let o = embed(&["--manifest", p(&manifest), "--out", p(&resumed)]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("summary: 8 items: 0 done, 8 skipped"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn failed_items_are_logged_and_the_exit_status_is_3() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 3, 32);
    std::fs::write(dir.path().join("in/broken.tif"), b"not a tiff").unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap() + "in/broken.tif\n";
    std::fs::write(&manifest, text).unwrap();
    let out = dir.path().join("out");
    for run in 0..2 {
        let o = embed(&["--manifest", p(&manifest), "--out", p(&out), "--quiet"]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let last = stderr(&o).lines().last().unwrap().to_string();
        assert!(last.starts_with("error: 1 of "), "{last}");
        assert!(last.contains("failures.jsonl"), "{last}");
        let log = FailureLog::in_dir(&out).read().unwrap();
        assert_eq!(log.len(), run + 1, "one line per failed attempt");
        let f = &log[run];
        assert_eq!(f.id, "broken");
        assert!(f.input.ends_with("in/broken.tif"), "{}", f.input);
        assert!(f.reason.contains("broken.tif"), "{}", f.reason);
        assert!(f.time.ends_with('Z') && f.time.len() == 20, "{}", f.time);
    }
    assert_eq!(
        listing(&out),
        [
            "failures.jsonl",
            "s00.parquet",
            "s01.parquet",
            "s02.parquet"
        ]
    );
}

#[test]
fn a_full_disk_fails_the_item_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 2, 64);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // RLIMIT_FSIZE (8 KiB) with SIGXFSZ ignored: writes past it fail with EFBIG, as on a full
    // disk; the dense maps (~12 KiB) do not fit, the failure log lines do.
    let bin = env!("CARGO_BIN_EXE_panopticon");
    let weights = tiny_dir().join("weights.pth");
    let script = format!(
        "trap '' XFSZ; ulimit -f 8; exec '{bin}' embed --weights '{}' --config tiny-test \
         --sensor sentinel2_l1c --tile 32 --dense --format safetensors --quiet \
         --manifest '{}' --out '{}'",
        weights.display(),
        manifest.display(),
        out.display()
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let log = FailureLog::in_dir(&out).read().unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter().all(|f| f.reason.contains("too large")),
        "{log:?}"
    );
    assert_eq!(listing(&out), ["failures.jsonl"]);
    // With room again, the rerun finishes them.
    let o = embed(&[
        "--manifest",
        p(&manifest),
        "--out",
        p(&out),
        "--dense",
        "--format",
        "safetensors",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        listing(&out),
        ["failures.jsonl", "s00.safetensors", "s01.safetensors"]
    );
}

/// Fails with status 1 and one `error:` line mentioning `needle`, creating no output.
fn fails(args: &[&str], needle: &str) {
    let o = embed(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: {err}"
    );
}

#[test]
fn bad_invocations_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 2, 32);
    let m = p(&manifest);
    let out = dir.path().join("out");
    let o = p(&out);
    let bad = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };

    let missing = bad("missing.txt", "in/s00.tif\nin/nope.tif\n");
    fails(
        &["--manifest", p(&missing), "--out", o],
        "line 2: cannot read",
    );
    let dup = bad("dup.txt", "in/s00.tif\n# again\nin/../in/s00.tif\n");
    fails(
        &["--manifest", p(&dup), "--out", o],
        "lines 1 and 3 both give item id `s00`",
    );
    let dup_ids = bad(
        "dup-ids.txt",
        "a\tin/s00.tif\nb\tin/s01.tif\na\tin/s01.tif\n",
    );
    fails(
        &["--manifest", p(&dup_ids), "--out", o],
        "lines 1 and 3 both give item id `a`",
    );
    let bad_id = bad("bad-id.txt", ".a\tin/s00.tif\n");
    fails(&["--manifest", p(&bad_id), "--out", o], "line 1: ");
    std::fs::write(dir.path().join("in/notes.docx"), b"x").unwrap();
    let docx = bad("docx.txt", "in/s00.tif\nin/notes.docx\n");
    fails(&["--manifest", p(&docx), "--out", o], "line 2: ");
    let empty = bad("empty.txt", "# nothing\n\n");
    fails(&["--manifest", p(&empty), "--out", o], "no inputs");
    fails(
        &["--manifest", "nope.txt", "--out", o],
        "cannot read manifest nope.txt",
    );
    fails(
        &["--manifest", m, "--out", o, "--shard", "3/2"],
        "--shard 3/2: K is 0-based",
    );
    fails(
        &["--manifest", m, "--out", o, "--shard", "0/0"],
        "--shard 0/0: the shard count",
    );
    fails(
        &["--manifest", m, "--out", o, "--shard", "1of2"],
        "expected K/N",
    );
    fails(
        &["--manifest", m, "--out", o, "--items", "s00,zz"],
        "--items zz: no such item",
    );
    fails(
        &["--manifest", m, "--out", o, "--layers", "0"],
        "--format safetensors",
    );
    assert!(!out.exists(), "a failed start created the output directory");

    let file = bad("a-file", "");
    fails(
        &["--manifest", m, "--out", p(&file)],
        "exists and is not a directory",
    );
    let under_file = file.join("sub");
    fails(
        &["--manifest", m, "--out", p(&under_file)],
        "cannot create the directory",
    );
    // Root ignores permission bits; a read-only mount stops everyone.
    fails(
        &["--manifest", m, "--out", "/proc/panopticon-out"],
        "--out /proc/panopticon-out",
    );

    // clap's own checks: an unknown --format value, --shard without --manifest.
    let o = embed(&["--manifest", m, "--out", o, "--format", "hdf5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value 'hdf5' for '--format"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn zarr_items_are_stores_written_whole_and_resumed() {
    use panopticon::embed::output::read_zarr_features;
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 3, 64);
    let out = dir.path().join("out");
    let args = [
        "--manifest",
        p(&manifest),
        "--out",
        p(&out),
        "--format",
        "zarr",
    ];
    let o = embed(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let names = ["s00.zarr", "s01.zarr", "s02.zarr"];
    assert_eq!(listing(&out), names);
    // Each store is what `embed s01.tif -o s01.zarr` writes.
    let single = dir.path().join("single.zarr");
    let o = embed(&[p(&dir.path().join("in/s01.tif")), "-o", p(&single)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (
        read_zarr_features(&out.join("s01.zarr")).unwrap(),
        read_zarr_features(&single).unwrap(),
    );
    assert_eq!((a.shape.clone(), &a.values), (b.shape.clone(), &b.values));
    assert_eq!(a.attributes, b.attributes);
    let before = read_zarr_features(&out.join("s02.zarr")).unwrap();

    // A store lost and another cut short mid-build (its temp directory holds chunks but no
    // rename happened): the rerun redoes those two only and leaves no temp directory.
    std::fs::remove_dir_all(out.join("s00.zarr")).unwrap();
    std::fs::remove_dir_all(out.join("s02.zarr")).unwrap();
    let half = out.join(".s02.zarr.4194303.partial");
    std::fs::create_dir_all(half.join("features/c/0")).unwrap();
    std::fs::write(half.join("zarr.json"), b"{}").unwrap();
    let o = embed(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("summary: 3 items: 2 done, 1 skipped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(listing(&out), names);
    let after = read_zarr_features(&out.join("s02.zarr")).unwrap();
    assert_eq!(after.values, before.values);
    // A dry run sees every store as done.
    let o = embed(&[&args[..], &["--dry-run"]].concat());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("done\t")).count(),
        3,
        "{stdout}"
    );
}

#[test]
fn s3_out_uploads_each_item_once_and_resumes_from_the_listing() {
    use common::range_server::RangeServer;
    let server = RangeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 4, 32);
    let local = dir.path().join("local");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&local), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Items are staged under TMPDIR before their upload.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |extra: &[&str]| {
        embed_cmd(&[&["--manifest", p(&manifest), "--quiet"], extra].concat())
            .env("AWS_ENDPOINT_URL", &server.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
            .env("TMPDIR", &tmp)
            .output()
            .unwrap()
    };
    let out = ["--out", "s3://bucket/runs/emb"];
    let puts = |server: &RangeServer| -> Vec<String> {
        let mut v: Vec<String> = (server.log().into_iter())
            .filter(|r| r.method == "PUT")
            .map(|r| r.path.trim_end_matches('?').to_string())
            .collect();
        v.sort();
        v
    };
    let object = |i: usize| format!("/bucket/runs/emb/s{i:02}.parquet");

    let o = run(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(puts(&server), (0..4).map(object).collect::<Vec<_>>());
    for i in 0..4 {
        let want = std::fs::read(local.join(format!("s{i:02}.parquet"))).unwrap();
        assert!(server.get(&object(i)).unwrap() == want, "s{i:02} differs");
    }
    assert!(
        listing(&tmp).is_empty(),
        "staging left: {:?}",
        listing(&tmp)
    );

    // A rerun lists the prefix and uploads nothing; a lost object is redone with one PUT.
    server.clear_log();
    let o = run(&out);
    assert!(
        stderr(&o).contains("summary: 4 items: 0 done, 4 skipped"),
        "{}",
        stderr(&o)
    );
    assert!(puts(&server).is_empty());
    assert!(server.log().iter().any(|r| r.path.contains("list-type=2")));
    server.remove(&object(2));
    server.clear_log();
    let o = run(&out);
    assert!(
        stderr(&o).contains("summary: 4 items: 1 done, 3 skipped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(puts(&server), [object(2)]);
    // The dry run reads the same listing.
    let o = run(&[&out[..], &["--dry-run"]].concat());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("done\t")).count(),
        4
    );

    // A failed item: exit status 3, its reason uploaded next to the items.
    std::fs::write(dir.path().join("in/broken.tif"), b"not a tiff").unwrap();
    let text = std::fs::read_to_string(&manifest).unwrap() + "in/broken.tif\n";
    std::fs::write(&manifest, text).unwrap();
    let o = run(&out);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("s3://bucket/runs/emb/failures."),
        "{}",
        stderr(&o)
    );
    let logs: Vec<String> = (server.paths().into_iter())
        .filter(|p| p.starts_with("/bucket/runs/emb/failures.") && p.ends_with(".jsonl"))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let log = String::from_utf8(server.get(&logs[0]).unwrap()).unwrap();
    assert!(log.contains("\"id\":\"broken\""), "{log}");
    assert!(listing(&tmp).is_empty());

    // Zarr items are directories: refused before anything runs.
    let o = run(&[&out[..], &["--format", "zarr"]].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("one PUT"), "{}", stderr(&o));
}

#[test]
fn explicit_ids_tell_files_of_one_name_apart() {
    // Per-tile folders that all hold a `B04.tif`, as many archives are laid out.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# id<TAB>path\n");
    for (i, tile) in ["T32TLS", "T32TMS", "T32TNS"].iter().enumerate() {
        let folder = dir.path().join(tile);
        std::fs::create_dir(&folder).unwrap();
        scene(&folder.join("B04.tif"), 32, 32, i);
        text.push_str(&format!("{tile}_B04\t{tile}/B04.tif\n"));
    }
    let out = dir.path().join("out");
    let by_name = dir.path().join("by-name.txt");
    std::fs::write(&by_name, "T32TLS/B04.tif\nT32TMS/B04.tif\n").unwrap();
    fails(
        &["--manifest", p(&by_name), "--out", p(&out)],
        "lines 1 and 2 both give item id `B04`",
    );
    let manifest = dir.path().join("manifest.txt");
    std::fs::write(&manifest, text).unwrap();
    let o = embed(&["--manifest", p(&manifest), "--out", p(&out), "--dry-run"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    let want = format!(
        "todo\tT32TLS_B04\t{}",
        dir.path().join("T32TLS/B04.tif").display()
    );
    assert_eq!(first, want, "{stdout}");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&out), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        listing(&out),
        [
            "T32TLS_B04.parquet",
            "T32TMS_B04.parquet",
            "T32TNS_B04.parquet"
        ]
    );
    // The same bytes as the item run on its own, and the id decides the shard.
    let one = dir.path().join("one");
    let o = embed(&[
        "--manifest",
        p(&manifest),
        "--out",
        p(&one),
        "--items",
        "T32TMS_B04",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(one.join("T32TMS_B04.parquet")).unwrap()
            == std::fs::read(out.join("T32TMS_B04.parquet")).unwrap()
    );
    let m = Manifest::read(&manifest).unwrap();
    let shard: Shard = "1/2".parse().unwrap();
    let ids: Vec<&str> = (m.select(shard, None).unwrap().into_iter())
        .map(|it| it.id.as_str())
        .collect();
    let want: Vec<&str> = (m.items.iter())
        .map(|it| it.id.as_str())
        .filter(|id| panopticon::scale::fnv1a64(id.as_bytes()) % 2 == 1)
        .collect();
    assert_eq!(ids, want);
}

/// `--pca K` in a batch run: one basis for the run, fitted on a sample of the whole manifest
/// (not of the shard), so two shards fitting it apart get the same bytes; it is kept as
/// OUT/pca_basis.safetensors, reused by later shards and reruns, and named by its sha256 in
/// every item; the summary says what PCA and float16 cost.
#[test]
fn batch_pca_fits_one_basis_for_the_run_whatever_the_shard() {
    use panopticon::embed::output::read_zarr_features;
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 6, 48);
    let m = p(&manifest);
    let pca = ["--format", "zarr", "--pca", "4", "--pca-sample", "3"];
    let run = |out: &Path, extra: &[&str]| {
        let o = embed(&[&["--manifest", m, "--out", p(out)], &pca[..], extra].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    // Each shard alone in its own directory fits the basis itself: the same bytes.
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let err = run(&a, &["--shard", "0/2", "--dtype", "f16"]);
    assert!(
        err.contains("fitting 4 components on 3 sample item(s)"),
        "{err}"
    );
    // The PCA error includes the float16 rounding of the components.
    let summary = err.lines().last().unwrap();
    assert!(
        summary.contains("; PCA (4 components) relative RMS error ≤ 0."),
        "{summary}"
    );
    let f16 = dir.path().join("f16");
    let o = embed(&[
        "--manifest",
        m,
        "--out",
        p(&f16),
        "--dtype",
        "f16",
        "--items",
        "s00,s03",
    ]);
    let summary = stderr(&o).lines().last().unwrap().to_string();
    assert!(summary.starts_with("summary: 2 items: 2 done"), "{summary}");
    assert!(
        summary.contains("; float16 relative RMS error ≤ "),
        "{summary}"
    );
    run(&b, &["--shard", "1/2"]);
    let basis = std::fs::read(a.join("pca_basis.safetensors")).unwrap();
    assert!(basis == std::fs::read(b.join("pca_basis.safetensors")).unwrap());
    let sha = common::fake_hub::sha256_hex(&basis);

    // In one directory: the second shard reuses the first's basis; every item names it.
    let both = dir.path().join("both");
    run(&both, &["--shard", "0/2"]);
    let err = run(&both, &["--shard", "1/2"]);
    assert!(err.contains("using the run's basis"), "{err}");
    assert!(!err.contains("fitting"), "{err}");
    assert!(basis == std::fs::read(both.join("pca_basis.safetensors")).unwrap());
    let items: Vec<String> = (0..6).map(|i| format!("s{i:02}.zarr")).collect();
    let mut want = items.clone();
    want.push("pca_basis.safetensors".into());
    want.sort();
    assert_eq!(listing(&both), want);
    for item in &items {
        let z = read_zarr_features(&both.join(item)).unwrap();
        assert_eq!(z.shape[0], 4);
        assert_eq!(z.attributes["pca_basis_sha256"], sha.as_str(), "{item}");
    }
    // An item's components are what projecting onto the run's basis gives.
    let single = dir.path().join("single.zarr");
    let basis_file = both.join("pca_basis.safetensors");
    let o = embed(&[
        p(&dir.path().join("in/s04.tif")),
        "--pca-basis",
        p(&basis_file),
        "-o",
        p(&single),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (x, y) = (
        read_zarr_features(&both.join("s04.zarr")).unwrap(),
        read_zarr_features(&single).unwrap(),
    );
    assert_eq!(x.values, y.values);

    // A rerun with another K finds the run's basis and refuses to mix.
    std::fs::remove_dir_all(both.join("s02.zarr")).unwrap();
    let o = embed(&[
        "--manifest",
        m,
        "--out",
        p(&both),
        "--format",
        "zarr",
        "--pca",
        "6",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.lines().last().unwrap().contains("has K = 4"), "{err}");
    // With --pca-basis of another basis, too; with the run's own, the item is redone.
    let other = dir.path().join("other.safetensors");
    let mut b2 = panopticon::embed::output::PcaBasis::read(&basis_file).unwrap();
    b2.mean[0] += 1.0;
    std::fs::write(&other, b2.to_bytes()).unwrap();
    let o = embed(&[
        "--manifest",
        m,
        "--out",
        p(&both),
        "--format",
        "zarr",
        "--pca-basis",
        p(&other),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("would mix bases"), "{}", stderr(&o));
    let o = embed(&[
        "--manifest",
        m,
        "--out",
        p(&both),
        "--format",
        "zarr",
        "--pca-basis",
        p(&basis_file),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("summary: 6 items: 1 done, 5 skipped"),
        "{}",
        stderr(&o)
    );
}

/// `--pca` combinations that cannot work are refused in one line before weights load or the
/// output directory is made.
#[test]
fn batch_pca_refuses_bad_combinations_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 2, 32);
    let m = p(&manifest);
    let out = dir.path().join("out");
    let o = p(&out);
    for (args, needle) in [
        (&["--pca", "4"][..], "--format tif or zarr"),
        (
            &["--pca", "4", "--format", "parquet"],
            "--format tif or zarr",
        ),
        (&["--pca", "4", "--format", "npy"], "--format tif or zarr"),
        (&["--pca", "4", "--format", "safetensors"], "with --dense"),
        (&["--pca", "0", "--format", "zarr"], "--pca 0"),
        (
            &["--pca", "4", "--format", "tif", "--pca-sample", "0"],
            "--pca-sample 0",
        ),
        (
            &["--pca-basis", "nope.safetensors", "--format", "tif"],
            "nope.safetensors",
        ),
    ] {
        let mut all = vec!["--manifest", m, "--out", o];
        all.extend(args);
        fails(&all, needle);
        assert!(!out.exists(), "{args:?} made the output directory");
    }
    // K above D is known once the model is loaded: still one line, no item written.
    let o = embed(&[
        "--manifest",
        m,
        "--out",
        o,
        "--format",
        "zarr",
        "--pca",
        "49",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).lines().last().unwrap().contains("D = 48"),
        "{}",
        stderr(&o)
    );
    assert!(listing(&out).is_empty(), "{:?}", listing(&out));
}

/// A `.tif` item with `--pca` is two files (the map and its basis sidecar): both reach S3,
/// the sidecar first, next to the run's basis; a rerun skips the items.
#[test]
fn s3_tif_items_upload_their_pca_sidecar_too() {
    use common::range_server::RangeServer;
    let server = RangeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 3, 32);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = || {
        embed_cmd(&[
            "--manifest",
            p(&manifest),
            "--quiet",
            "--format",
            "tif",
            "--pca",
            "3",
        ])
        .args(["--out", "s3://bucket/runs/pca"])
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("TMPDIR", &tmp)
        .output()
        .unwrap()
    };
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    let puts: Vec<String> = (server.log().into_iter())
        .filter(|r| r.method == "PUT")
        .map(|r| {
            r.path
                .trim_end_matches('?')
                .trim_start_matches("/bucket/runs/pca/")
                .to_string()
        })
        .collect();
    let mut want = vec!["pca_basis.safetensors".to_string()];
    for i in 0..3 {
        want.push(format!("s{i:02}.tif.pca.safetensors"));
        want.push(format!("s{i:02}.tif"));
    }
    assert_eq!(puts, want, "sidecar before its item, each once");
    let basis = server
        .get("/bucket/runs/pca/pca_basis.safetensors")
        .unwrap();
    for i in 0..3 {
        let side = server.get(&format!("/bucket/runs/pca/s{i:02}.tif.pca.safetensors"));
        assert!(
            side.unwrap() == basis,
            "s{i:02}'s sidecar is the run's basis"
        );
    }
    assert!(
        listing(&tmp).is_empty(),
        "staging left: {:?}",
        listing(&tmp)
    );

    server.clear_log();
    let o = run();
    assert!(
        stderr(&o).contains("summary: 3 items: 0 done, 3 skipped"),
        "{}",
        stderr(&o)
    );
    assert!(server.log().iter().all(|r| r.method != "PUT"));
    // A lost item is redone with the stored basis (read back, not fitted again).
    server.remove("/bucket/runs/pca/s01.tif");
    server.clear_log();
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("using the run's basis"),
        "{}",
        stderr(&o)
    );
    let puts: Vec<String> = (server.log().into_iter())
        .filter(|r| r.method == "PUT")
        .map(|r| r.path.trim_end_matches('?').to_string())
        .collect();
    assert_eq!(
        puts,
        [
            "/bucket/runs/pca/s01.tif.pca.safetensors",
            "/bucket/runs/pca/s01.tif"
        ]
    );
}
