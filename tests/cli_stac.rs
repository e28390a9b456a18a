//! `panopticon embed` on STAC items and `--band` files with the tiny model: the offline sample
//! item (six per-band COGs at 30 and 60 m), items shaped as Earth Search publishes them with
//! hrefs pointed at local files, and bad inputs failing with one line and no output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use panopticon::data::{GeoTiff, write_geotiff_f32};
use panopticon::tensor_io::read_safetensors;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample_item() -> PathBuf {
    root().join("samples/stac/item.json")
}

fn resample_fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/data/resample").join(name)
}

fn embed(args: &[&str]) -> Output {
    tiny_embed().arg("--quiet").args(args).output().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The command fails with one line naming all of `needles`, and writes nothing.
fn fails(args: &[&str], out: &Path, needles: &[&str]) {
    let o = embed(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(!out.exists(), "{args:?} left {}", out.display());
}

#[test]
fn sample_item_embeds_offline_on_the_finest_grid() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emb.safetensors");
    ok(&embed(&[p(&sample_item()), "-o", p(&out)]));
    let got = read_safetensors(&out).unwrap();
    assert_eq!(got["cls"].shape().as_slice(), [1, 48]);
    // 168×168 at 30 m (the 60 m swir bands are interpolated onto it): one tile.
    assert_eq!(
        got["tiles"].clone().try_into_vec::<i64>().unwrap(),
        [0, 0, 0, 168, 168]
    );
    let cls = got["cls"].clone().try_into_vec::<f32>().unwrap();
    assert!(cls.iter().all(|v| v.is_finite()));

    // On a 60 m grid the 30 m bands are area-averaged instead: 84×84 pixels, one tile on the
    // patch grid (padded to 88, a multiple of the 8-px patch).
    let out60 = dir.path().join("emb60.safetensors");
    ok(&embed(&[
        p(&sample_item()),
        "--resolution",
        "60",
        "-o",
        p(&out60),
    ]));
    let got60 = read_safetensors(&out60).unwrap();
    assert_eq!(
        got60["tiles"].clone().try_into_vec::<i64>().unwrap(),
        [0, 0, 0, 88, 88]
    );
    assert_ne!(got60["cls"].clone().try_into_vec::<f32>().unwrap(), cls);
}

#[test]
fn overview_n_reads_each_bands_own_overview() {
    let dir = tempfile::tempdir().unwrap();
    // --overview 1: the 30 m bands' first overviews are 60 m (84²), the 60 m bands' 120 m
    // (42²); the grid is the finest of those, 84×84 (one tile, padded to 88).
    let ov1 = dir.path().join("ov1.safetensors");
    ok(&embed(&[
        p(&sample_item()),
        "--overview",
        "1",
        "-o",
        p(&ov1),
    ]));
    let got = read_safetensors(&ov1).unwrap();
    assert_eq!(
        got["tiles"].clone().try_into_vec::<i64>().unwrap(),
        [0, 0, 0, 88, 88]
    );
    assert!(
        got["cls"]
            .clone()
            .try_into_vec::<f32>()
            .unwrap()
            .iter()
            .all(|v| v.is_finite())
    );

    // --band files at --overview 1 are the same scene as the item's assets at --overview 1.
    let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    ok(&embed(&[
        p(&sample_item()),
        "--assets",
        "red,swir16",
        "--overview",
        "1",
        "-o",
        p(&a),
    ]));
    let band = |k: &str| {
        format!(
            "{k}={}",
            root().join(format!("samples/stac/{k}.tif")).display()
        )
    };
    let (red, swir16) = (band("red"), band("swir16"));
    ok(&embed(&[
        "--sensor",
        "landsat8_9",
        "--band",
        &red,
        "--band",
        &swir16,
        "--overview",
        "1",
        "-o",
        p(&b),
    ]));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    // Overview 2 exists for the 30 m bands only: the first band without it is named.
    let out = dir.path().join("ov2.npy");
    fails(
        &[p(&sample_item()), "--overview", "2", "-o", p(&out)],
        &out,
        &["band swir16", "--overview 2", "1 overview(s)"],
    );
}

#[test]
fn item_bands_equal_the_same_bands_stacked_in_one_geotiff() {
    // The four 30 m assets are on the target grid already: embedding them from the item must
    // equal embedding a 4-band GeoTIFF of the same pixels with the same channel ids.
    let dir = tempfile::tempdir().unwrap();
    let keys = ["blue", "green", "red", "nir08"];
    let mut data = Vec::new();
    let (mut h, mut w, mut gt, mut epsg) = (0, 0, None, None);
    for k in keys {
        let mut tif = GeoTiff::open(root().join(format!("samples/stac/{k}.tif"))).unwrap();
        (h, w, gt, epsg) = (tif.height, tif.width, tif.geotransform, tif.epsg);
        data.extend(tif.read(0, 0, h, w).unwrap().to_f32());
    }
    let stacked = dir.path().join("stack.tif");
    write_geotiff_f32(&stacked, 4, h, w, &data, gt, epsg, Some(0.0)).unwrap();
    let (a, b) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    ok(&embed(&[
        p(&sample_item()),
        "--assets",
        "blue,green,red,nir08",
        "-o",
        p(&a),
    ]));
    ok(&embed(&[
        p(&stacked),
        "--sensor",
        "landsat8_9",
        "--bands",
        "blue,green,red,nir08",
        "-o",
        p(&b),
    ]));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    // --band files with common names give the same scene again.
    let c = dir.path().join("c.npy");
    let mut args = vec!["--sensor".to_string(), "landsat8_9".into()];
    for k in keys {
        args.push("--band".into());
        args.push(format!(
            "{k}={}",
            root().join(format!("samples/stac/{k}.tif")).display()
        ));
    }
    args.extend(["-o".into(), p(&c).into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&embed(&args));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
}

#[test]
fn earth_search_shaped_item_with_local_hrefs_and_mixed_resolutions() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/data/stac/earth_search_s2_l2a.json"))
            .unwrap();
    let mut item: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Pixels: Landsat bands at 30 m (red) and 60 m (nir08), copied next to the item so the
    // hrefs are relative, as a mirrored catalogue has them.
    for (key, file) in [("red", "b04_30m.tif"), ("nir08", "b05_60m.tif")] {
        std::fs::copy(resample_fixture(file), dir.path().join(file)).unwrap();
        item["assets"][key]["href"] = format!("./{file}").into();
    }
    let path = dir.path().join("item.json");
    std::fs::write(&path, serde_json::to_string(&item).unwrap()).unwrap();
    let out = dir.path().join("emb.parquet");
    ok(&embed(&[p(&path), "--assets", "red,nir08", "-o", p(&out)]));
    assert!(out.exists());
    let tif = dir.path().join("dense.tif");
    ok(&embed(&[p(&path), "--assets", "red,nir08", "-o", p(&tif)]));
    let dense = GeoTiff::open(&tif).unwrap();
    // 60×60 at 30 m on the patch grid of 8 px: 8×8 cells of 240 m at the scene's origin.
    assert_eq!((dense.height, dense.width), (8, 8));
    let gt = dense.geotransform.unwrap();
    assert_eq!((gt[1], gt[5]), (240.0, -240.0));

    // An asset whose href does not resolve is named, and nothing is written.
    item["assets"]["red"]["href"] = "./missing_B04.tif".into();
    std::fs::write(&path, serde_json::to_string(&item).unwrap()).unwrap();
    let out = dir.path().join("missing.npy");
    fails(
        &[p(&path), "--assets", "red,nir08", "-o", p(&out)],
        &out,
        &["band red", "missing_B04.tif"],
    );
}

#[test]
fn bad_inputs_fail_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let o = p(&out);

    // Bands in different CRSs, both listed.
    let b04 = format!("B04={}", resample_fixture("b04_30m.tif").display());
    let b07 = format!("B07={}", resample_fixture("b07_30m_utm17.tif").display());
    fails(
        &[
            "--sensor",
            "landsat8_9",
            "--band",
            &b04,
            "--band",
            &b07,
            "-o",
            o,
        ],
        &out,
        &["different CRSs", "B04 (EPSG:32616)", "B07 (EPSG:32617)"],
    );

    // Malformed JSON.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\"type\": \"Feature\", \"id\": \"x\", \"assets\": {",
    )
    .unwrap();
    fails(
        &[p(&broken), "-o", o],
        &out,
        &["broken.json", "not valid JSON"],
    );

    // An item whose assets carry no band metadata.
    let bare = dir.path().join("bare.json");
    std::fs::write(
        &bare,
        r#"{"type": "Feature", "id": "bare-item", "properties": {},
            "assets": {"img": {"href": "./img.tif", "type": "image/tiff"}}}"#,
    )
    .unwrap();
    fails(
        &[p(&bare), "-o", o],
        &out,
        &["bare-item", "img", "--wavelengths"],
    );

    // An unknown band key, an ambiguous common name, a --band without `=`.
    fails(
        &[
            "--sensor",
            "sentinel2_l2a",
            "--band",
            "rededge=x.tif",
            "-o",
            o,
        ],
        &out,
        &["rededge", "B05, B06, B07"],
    );
    fails(&["--band", "B04", "-o", o], &out, &["KEY=PATH"]);
}

fn sensors(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .arg("sensors")
        .args(args)
        .output()
        .unwrap();
    ok(&o);
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn sensors_summary_and_band_table() {
    let all = sensors(&[]);
    // Hyperspectral sensors as a count and a range, never hundreds of names on one line.
    assert!(all.lines().all(|l| l.chars().count() < 160), "{all}");
    let enmap = all
        .lines()
        .skip_while(|l| !l.starts_with("enmap"))
        .nth(1)
        .unwrap();
    assert!(
        enmap.contains(" bands, ") && enmap.ends_with(" nm"),
        "{enmap}"
    );
    assert!(
        all.contains("B01,B02,B03,B04,B05,B06,B07,B08,B8A,B09,B11,B12"),
        "{all}"
    );

    let table = sensors(&["sentinel2_l2a"]);
    let b8a = table.lines().find(|l| l.starts_with("B8A")).unwrap();
    let cells: Vec<&str> = b8a
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        ["B8A", "nir08", "NIR narrow", "864.8 nm", "20 m", "864"]
    );
    let vv = sensors(&["sentinel1"]);
    assert!(vv.contains("SAR VH (ascending orbit)"), "{vv}");
}
