//! `embed collect`: one table from the items of a run, one GeoParquet file per CRS with
//! `--partition crs`, and items read from an `s3://` prefix.

use super::*;
use panopticon::data::readers::ParquetTable;
use parquet::file::metadata::ParquetMetaDataReader;

fn collect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["embed", "collect"])
        .args(args)
        .output()
        .unwrap()
}

/// The `geo` key-value of a Parquet file.
fn geo(path: &Path) -> serde_json::Value {
    let file = std::fs::File::open(path).unwrap();
    let meta = ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .unwrap();
    let kv = meta.file_metadata().key_value_metadata().unwrap();
    let text = kv.iter().find(|k| k.key == "geo").unwrap().value.clone();
    serde_json::from_str(&text.unwrap()).unwrap()
}

/// Four items, `s00`/`s01` in UTM 32N and `s02`/`s03` in 33N, embedded into `dir/out`.
fn two_zone_run(dir: &Path) -> PathBuf {
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let mut text = String::new();
    for i in 0..4 {
        let name = format!("s{i:02}.tif");
        scene_in(&inputs.join(&name), 32, 40, i, 32632 + (i as u32) / 2);
        text.push_str(&format!("in/{name}\n"));
    }
    let manifest = dir.join("manifest.txt");
    std::fs::write(&manifest, text).unwrap();
    let out = dir.join("out");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&out), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

#[test]
fn collect_gathers_the_items_into_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue(dir.path(), 5, 48);
    let out = dir.path().join("out");
    let o = embed(&["--manifest", p(&manifest), "--out", p(&out), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same files through a plain `embed`, in manifest order.
    let inputs: Vec<PathBuf> = Manifest::read(&manifest)
        .unwrap()
        .items
        .iter()
        .map(|i| PathBuf::from(i.input()))
        .collect();
    let plain = dir.path().join("plain.parquet");
    let mut args: Vec<&str> = inputs.iter().map(|i| p(i)).collect();
    args.extend(["--quiet", "-o", p(&plain)]);
    let o = embed(&args);
    assert!(o.status.success(), "{}", stderr(&o));

    let index = out.join("index.parquet");
    let c = collect(&[p(&out), "-o", p(&index)]);
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(stderr(&c).contains("from 5 items"), "{}", stderr(&c));
    let (got, want) = (
        ParquetTable::open(&index).unwrap(),
        ParquetTable::open(&plain).unwrap(),
    );
    assert_eq!(got.num_rows(), want.num_rows());
    assert_eq!(
        got.column::<String>("path").unwrap(),
        want.column::<String>("path").unwrap()
    );
    for col in ["row", "col", "height", "width"] {
        assert_eq!(
            got.column::<i64>(col).unwrap(),
            want.column::<i64>(col).unwrap(),
            "{col}"
        );
    }
    for col in ["minx", "maxy"] {
        let (a, b): (Vec<Option<f64>>, Vec<Option<f64>>) =
            (got.column(col).unwrap(), want.column(col).unwrap());
        assert_eq!(a, b, "{col}");
    }
    let (a, b): (Vec<Vec<f32>>, Vec<Vec<f32>>) =
        (got.column("cls").unwrap(), want.column("cls").unwrap());
    assert_eq!(a, b, "cls");
    // The plain run's `geo` is the one of all inputs: the merged bbox equals it.
    assert_eq!(geo(&index), geo(&plain));
    // Collecting again ignores the index inside the directory.
    let c = collect(&[p(&out), "-o", p(&index)]);
    assert!(stderr(&c).contains("from 5 items"), "{}", stderr(&c));
}

#[test]
fn items_in_two_crss_are_refused_in_one_file_and_partitioned_by_crs() {
    let dir = tempfile::tempdir().unwrap();
    let out = two_zone_run(dir.path());

    let index = dir.path().join("index.parquet");
    let c = collect(&[p(&out), "-o", p(&index)]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    let err = stderr(&c);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for needle in ["s02.parquet", "EPSG_32633", "EPSG_32632", "--partition crs"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(!index.exists());
    let c = collect(&[p(&out), "-o", p(&dir.path().join("index"))]);
    assert!(stderr(&c).contains("--partition crs"), "{}", stderr(&c));

    let ds = dir.path().join("index");
    let c = collect(&[p(&out), "-o", p(&ds), "--partition", "crs"]);
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(
        stderr(&c).contains("from 4 items in 2 partition(s)"),
        "{}",
        stderr(&c)
    );
    assert_eq!(listing(&ds), ["crs=EPSG_32632", "crs=EPSG_32633"]);
    for (zone, items) in [(32632, ["s00", "s01"]), (32633, ["s02", "s03"])] {
        let folder = ds.join(format!("crs=EPSG_{zone}"));
        assert_eq!(listing(&folder), ["part-0.parquet"]);
        let part = folder.join("part-0.parquet");
        let table = ParquetTable::open(&part).unwrap();
        let epsg: Vec<Option<i32>> = table.column("epsg").unwrap();
        assert!(epsg.iter().all(|e| *e == Some(zone)), "{epsg:?}");
        // Exactly the rows of its items, in id order.
        let (mut cls, mut paths) = (Vec::<Vec<f32>>::new(), Vec::<String>::new());
        for id in items {
            let item = ParquetTable::open(out.join(format!("{id}.parquet"))).unwrap();
            cls.extend(item.column::<Vec<f32>>("cls").unwrap());
            paths.extend(item.column::<String>("path").unwrap());
        }
        assert_eq!(table.column::<Vec<f32>>("cls").unwrap(), cls);
        assert_eq!(table.column::<String>("path").unwrap(), paths);
        // Its own GeoParquet metadata: the zone's CRS, the bbox of its items.
        let g = geo(&part);
        let col = &g["columns"]["geometry"];
        assert_eq!(col["crs"]["id"]["code"], zone, "{col}");
        let (minx, maxy): (Vec<Option<f64>>, Vec<Option<f64>>) =
            (table.column("minx").unwrap(), table.column("maxy").unwrap());
        let min = minx.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let max = maxy
            .iter()
            .flatten()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(col["bbox"][0].as_f64(), Some(min));
        assert_eq!(col["bbox"][3].as_f64(), Some(max));
    }
    // Nothing but the dataset next to it.
    assert_eq!(listing(dir.path()), ["in", "index", "manifest.txt", "out"]);

    // A rerun replaces it; the run's own directory, or a folder of other files, is refused.
    let c = collect(&[p(&out), "-o", p(&ds), "--partition", "crs"]);
    assert!(c.status.success(), "{}", stderr(&c));
    let c = collect(&[p(&out), "-o", p(&out), "--partition", "crs"]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stderr(&c).contains("would replace"), "{}", stderr(&c));
    let c = collect(&[
        p(&out),
        "-o",
        p(&dir.path().join("in")),
        "--partition",
        "crs",
    ]);
    assert_eq!(c.status.code(), Some(1));
    assert!(
        stderr(&c).contains("not a partitioned dataset"),
        "{}",
        stderr(&c)
    );
    assert_eq!(listing(&dir.path().join("in")).len(), 4);
}

#[test]
fn collect_reads_the_items_of_an_s3_prefix() {
    use common::range_server::RangeServer;
    let server = RangeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = two_zone_run(dir.path());
    // The run's items as another run would have uploaded them, with its failure log and an
    // object that is not an item.
    for name in listing(&out) {
        let bytes = std::fs::read(out.join(&name)).unwrap();
        server.add(&format!("/bucket/runs/emb/{name}"), bytes);
    }
    let failure = r#"{"id":"broken","input":"/in/broken.tif","reason":"not a TIFF","time":"2026-12-07T16:04:05Z"}"#;
    server.add(
        "/bucket/runs/emb/failures.20261207T160405Z.42.jsonl",
        format!("{failure}\n").into_bytes(),
    );
    server.add("/bucket/runs/emb/notes.txt", b"not an item".to_vec());
    server.add("/bucket/runs/other/s09.parquet", b"another prefix".to_vec());
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_panopticon"))
            .args(["embed", "collect", "s3://bucket/runs/emb"])
            .args(args)
            .env("AWS_ENDPOINT_URL", &server.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
            .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
            .output()
            .unwrap()
    };

    // Partitioned: the same bytes as collecting the local directory.
    let (remote, local) = (results.join("remote"), results.join("local"));
    let c = run(&["-o", p(&remote), "--partition", "crs"]);
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(
        stderr(&c).contains("note: 1 failed item(s)"),
        "{}",
        stderr(&c)
    );
    assert!(
        stderr(&c).contains("s3://bucket/runs/emb/failures."),
        "{}",
        stderr(&c)
    );
    let c = collect(&[p(&out), "-o", p(&local), "--partition", "crs"]);
    assert!(c.status.success(), "{}", stderr(&c));
    for part in [
        "crs=EPSG_32632/part-0.parquet",
        "crs=EPSG_32633/part-0.parquet",
    ] {
        let (a, b) = (
            std::fs::read(remote.join(part)).unwrap(),
            std::fs::read(local.join(part)).unwrap(),
        );
        assert!(a == b, "{part} differs from the local collect");
    }
    // One LIST, one GET per item and log; the download folder is gone.
    let log = server.log();
    let lists = log
        .iter()
        .filter(|r| r.path.contains("list-type=2"))
        .count();
    let mut gets: Vec<&str> = (log.iter())
        .filter(|r| r.method == "GET" && !r.path.contains("list-type"))
        .map(|r| r.path.as_str())
        .collect();
    gets.sort();
    assert_eq!(lists, 1, "{log:?}");
    assert_eq!(
        gets,
        [
            "/bucket/runs/emb/failures.20261207T160405Z.42.jsonl",
            "/bucket/runs/emb/s00.parquet",
            "/bucket/runs/emb/s01.parquet",
            "/bucket/runs/emb/s02.parquet",
            "/bucket/runs/emb/s03.parquet",
        ]
    );
    assert_eq!(listing(&results), ["local", "remote"]);

    // One file: refused for the two CRSs, with the hint; nothing left behind.
    let c = run(&["-o", p(&results.join("index.parquet"))]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stderr(&c).contains("--partition crs"), "{}", stderr(&c));
    assert_eq!(listing(&results), ["local", "remote"]);
    // A folder of other files is refused before anything is downloaded.
    server.clear_log();
    let c = run(&["-o", p(&results), "--partition", "crs"]);
    assert_eq!(c.status.code(), Some(1));
    assert!(
        stderr(&c).contains("not a partitioned dataset"),
        "{}",
        stderr(&c)
    );
    assert!(server.log().is_empty(), "{:?}", server.log());
    // A prefix without items.
    let c = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["embed", "collect", "s3://bucket/runs/nothing", "-o"])
        .arg(results.join("none.parquet"))
        .env("AWS_ENDPOINT_URL", &server.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(1));
    assert!(
        stderr(&c).contains("no item .parquet files"),
        "{}",
        stderr(&c)
    );
    assert_eq!(listing(&results), ["local", "remote"]);
}
