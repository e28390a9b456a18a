//! `panopticon embed` with the tiny model: a GeoTIFF scene's embedding equals `forward` on the
//! same normalised tensor, the sliding window covers the scene and the dense GeoTIFF sits on
//! the input's patch grid, and bad invocations fail with one line and no output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::*;
use common::*;
use panopticon::data::{read_geotiff, write_geotiff_f32};
use panopticon::tensor_io::read_safetensors;
use panopticon::{Panopticon, PanopticonConfig, PanopticonInput};

const S2_BANDS: [&str; 13] = [
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
];
const GT: [f64; 6] = [600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0];

/// A 13-band u16-like scene as float32 GeoTIFF, `[C, H, W]` values returned.
fn scene(dir: &Path, h: usize, w: usize) -> (PathBuf, Vec<f32>) {
    let c = 13;
    let data: Vec<f32> = (0..c * h * w)
        .map(|i| (1000.0 + 800.0 * ((i as f32) * 0.37).sin() + (i % 97) as f32 * 3.0).round())
        .collect();
    let path = dir.join("scene.tif");
    write_geotiff_f32(&path, c, h, w, &data, Some(GT), Some(32632), None).unwrap();
    (path, data)
}

fn embed(args: &[&str]) -> std::process::Output {
    tiny_embed_command().args(args).output().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn one_tile_scene_equals_forward_on_the_normalised_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let (h, w) = (32, 48);
    let (tif, raw) = scene(dir.path(), h, w);
    let out = dir.path().join("emb.safetensors");
    let o = embed(&[
        p(&tif),
        "--sensor",
        "sentinel2_l1c",
        "--layers",
        "0,1",
        "-o",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = read_safetensors(&out).unwrap();
    assert_eq!(got["cls"].shape().as_slice(), [1, 48]);
    assert_eq!(
        got["tiles"].clone().try_into_vec::<i64>().unwrap(),
        [0, 0, 0, h as i64, w as i64]
    );

    // Independently: per-band standardisation in f64, then the model.
    let n = h * w;
    let mut x = raw.clone();
    for b in 0..13 {
        let band = &raw[b * n..(b + 1) * n];
        let mean = band.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = band.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        for (o, &v) in x[b * n..(b + 1) * n].iter_mut().zip(band) {
            *o = ((v as f64 - mean) / var.sqrt()) as f32;
        }
    }
    let device = Device::default();
    let model = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &device,
    )
    .unwrap()
    .0
    .to_frozen();
    let registry = panopticon::data::SensorRegistry::builtin().unwrap();
    let ids = registry
        .sensor("sentinel2_l1c")
        .unwrap()
        .chn_ids_f32(&S2_BANDS)
        .unwrap();
    let imgs = Tensor::<4>::from_data(TensorData::new(x, [1, 13, h, w]), &device);
    let input = PanopticonInput::with_shared_ids(imgs, &ids).unwrap();
    let want = model.forward(&input).unwrap().into_data();
    let d = max_abs_diff(&got["cls"], &want);
    assert!(d <= 1e-5, "embed vs forward: {d:e}");
    // --layers: normalised cls of those blocks, as `intermediate_layers(norm = true)`.
    for l in model.intermediate_layers(&input, vec![0, 1], true).unwrap() {
        let key = format!("layers.{}.cls", l.block);
        let d = max_abs_diff(&got[&key], &l.cls.into_data());
        assert!(d <= 1e-5, "{key}: {d:e}");
    }
    assert!(max_abs_diff(&got["layers.0.cls"], &got["cls"]) > 1e-3);
}

#[test]
fn overlapping_tiles_cover_the_scene_and_the_map_sits_on_the_patch_grid() {
    let dir = tempfile::tempdir().unwrap();
    // 44×60 is not a multiple of the patch (8): the edge is padded to 48×64.
    let (tif, _) = scene(dir.path(), 44, 60);
    let map = dir.path().join("dense.tif");
    let o = embed(&[
        p(&tif),
        "--wavelengths",
        "443,490,560,665,705,740,783,842,865,945,1375,1610,2190",
        "--tile",
        "24",
        "--stride",
        "16",
        "-o",
        p(&map),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = read_geotiff(&map).unwrap();
    assert_eq!((r.bands, r.height, r.width), (48, 6, 8));
    assert!(r.to_f32().iter().all(|v| v.is_finite()), "uncovered cells");
    let gt = r.geotransform.unwrap();
    assert_eq!(
        gt,
        [GT[0], 80.0, 0.0, GT[3], 0.0, -80.0],
        "patch (0,0) at the origin"
    );
    assert_eq!(r.epsg, Some(32632));

    let st = dir.path().join("tiles.safetensors");
    let o = embed(&[
        p(&tif),
        "--wavelengths",
        "443,490,560,665,705,740,783,842,865,945,1375,1610,2190",
        "--tile",
        "24",
        "--stride",
        "16",
        "--dense",
        "-o",
        p(&st),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = read_safetensors(&st).unwrap();
    // Rows at 0, 16, 24 (flush with 48); columns at 0, 16, 32, 40 (flush with 64).
    assert_eq!(t["cls"].shape().as_slice(), [12, 48]);
    let dense = &t["dense.0"];
    assert_eq!(dense.shape().as_slice(), [48, 6, 8]);
    assert_eq!(max_abs_diff(dense, &r.data_as_tensor()), 0.0);
}

trait AsTensor {
    fn data_as_tensor(&self) -> TensorData;
}

impl AsTensor for panopticon::data::Raster {
    fn data_as_tensor(&self) -> TensorData {
        TensorData::new(self.to_f32(), [self.bands, self.height, self.width])
    }
}

#[test]
fn npy_output_is_numpy_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (tif, _) = scene(dir.path(), 32, 32);
    let out = dir.path().join("cls.npy");
    let o = embed(&[p(&tif), "--sensor", "sentinel2_l1c", "-o", p(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + hlen) % 64, 0);
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
    assert!(header.contains("'shape': (1, 48)"), "{header}");
    assert_eq!(bytes.len(), 10 + hlen + 48 * 4);
}

fn fails(args: &[&str], needle: &str, out: &Path) {
    assert_one_line_failure(&embed(args), &format!("{args:?}"), needle, out);
}

#[test]
fn bad_invocations_fail_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let (tif, _) = scene(dir.path(), 32, 32);
    let out = dir.path().join("o.safetensors");
    let (t, o) = (p(&tif), p(&out));
    fails(&[t, "--sensor", "sentinel9", "-o", o], "sentinel9", &out);
    let npy = dir.path().join("o.npy");
    let args = [
        t,
        "--sensor",
        "sentinel2_l1c",
        "--layers",
        "0",
        "-o",
        p(&npy),
    ];
    fails(&args, ".safetensors", &npy);
    fails(
        &[t, "--sensor", "sentinel2_l1c", "--layers", "7", "-o", o],
        "block",
        &out,
    );
    fails(
        &[
            t,
            "--sensor",
            "sentinel2_l1c",
            "--bands",
            "B04,B99",
            "-o",
            o,
        ],
        "B99",
        &out,
    );
    fails(
        &[
            t,
            "--sensor",
            "sentinel2_l1c",
            "--bands",
            "B04,B03,B02",
            "-o",
            o,
        ],
        "13 bands",
        &out,
    );
    fails(&[t, "-o", o], "--sensor", &out);
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, "hello").unwrap();
    fails(
        &[p(&txt), "--wavelengths", "500", "-o", o],
        "not a .tif",
        &out,
    );
    let fake = dir.path().join("fake.tif");
    std::fs::write(&fake, "hello").unwrap();
    fails(
        &[p(&fake), "--wavelengths", "500", "-o", o],
        "fake.tif",
        &out,
    );
    let small = dir.path().join("small.tif");
    write_geotiff_f32(&small, 1, 4, 4, &[1.0; 16], None, None, None).unwrap();
    fails(
        &[p(&small), "--wavelengths", "500", "-o", o],
        "at least 8 pixels",
        &out,
    );
    let missing = dir.path().join("missing.tif");
    fails(
        &[p(&missing), "--sensor", "sentinel2_l1c", "-o", o],
        "missing.tif",
        &out,
    );
    // The input is checked before any weights are loaded (or downloaded).
    let o2 = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["embed", p(&missing), "--sensor", "sentinel2_l1c", "-o", o])
        .args([
            "--weights",
            p(&dir.path().join("no_weights.pth")),
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o2.stderr);
    assert!(!o2.status.success() && err.contains("missing.tif"), "{err}");
    assert!(!out.exists());
    // A weights path that does not exist is named as a missing file, not an unknown name.
    let o3 = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["embed", t, "--sensor", "sentinel2_l1c", "-o", o])
        .args(["--weights", "weights/vitb14.bpk", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o3.stderr);
    assert!(!o3.status.success(), "{err}");
    assert!(err.contains("weights/vitb14.bpk: no such file"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists());
    let nowhere = dir.path().join("no/dir/o.safetensors");
    fails(
        &[t, "--sensor", "sentinel2_l1c", "-o", p(&nowhere)],
        "does not exist",
        &nowhere,
    );
    fails(
        &[
            t,
            "--sensor",
            "sentinel2_l1c",
            "-o",
            p(&dir.path().join("o.csv")),
        ],
        ".npy",
        &out,
    );
}

#[test]
fn pca_renders_input_and_components_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let (tif, _) = scene(dir.path(), 40, 56);
    let png = dir.path().join("pca.png");
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["pca", p(&tif), "--sensor", "sentinel2_l1c", "--quiet"])
        .args([
            "--weights",
            tiny_dir().join("weights.pth").to_str().unwrap(),
        ])
        .args([
            "--config",
            "tiny-test",
            "--tile",
            "24",
            "--stride",
            "16",
            "-o",
            p(&png),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = panopticon::data::read_png(&png).unwrap();
    assert_eq!((r.bands, r.height, r.width), (3, 40, 2 * 56 + 8));
    let px = r.to_f32();
    // Both halves use the full 0–255 range after the percentile stretch.
    let right: Vec<f32> = (0..3)
        .flat_map(|b| {
            let px = &px;
            (0..40).flat_map(move |y| (64..120).map(move |x| px[(b * 40 + y) * 120 + x]))
        })
        .collect();
    assert_eq!(right.iter().cloned().fold(0.0, f32::max), 255.0);
    assert_eq!(right.iter().cloned().fold(255.0, f32::min), 0.0);

    let bad = dir.path().join("pca.jpg");
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["pca", p(&tif), "--sensor", "sentinel2_l1c", "-o", p(&bad)])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains(".png"));
    assert!(!bad.exists());
}

#[test]
fn sar_channels_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (h, w) = (16, 24);
    let raw: Vec<f32> = (0..2 * h * w).map(|i| ((i as f32) * 0.7).cos()).collect();
    let tif = dir.path().join("s1.tif");
    write_geotiff_f32(&tif, 2, h, w, &raw, Some(GT), Some(32632), None).unwrap();
    let out = dir.path().join("s1.safetensors");
    let o = embed(&[
        p(&tif),
        "--wavelengths",
        "vv-asc,VH-desc",
        "--norm",
        "none",
        "-o",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let device = Device::default();
    let model = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &device,
    )
    .unwrap()
    .0
    .to_frozen();
    let imgs = Tensor::<4>::from_data(TensorData::new(raw, [1, 2, h, w]), &device);
    // VV ascending = −5, VH descending = −10 (spec §1.4.3).
    let want = model
        .forward(&PanopticonInput::with_shared_ids(imgs, &[-5.0, -10.0]).unwrap())
        .unwrap()
        .into_data();
    let got = read_safetensors(&out).unwrap();
    assert!(max_abs_diff(&got["cls"], &want) <= 1e-5);
    // `--sar` says the same for a SAR-only file, and refuses optical channels.
    let sar_out = dir.path().join("sar.safetensors");
    let args = [
        p(&tif),
        "--sar",
        "vv-asc,VH-desc",
        "--norm",
        "none",
        "-o",
        p(&sar_out),
    ];
    let o = embed(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read_safetensors(&sar_out).unwrap()["cls"], got["cls"]);

    let never = dir.path().join("never.safetensors");
    fails(
        &[p(&tif), "--sar", "vv,665", "-o", p(&never)],
        "not a SAR",
        &never,
    );
    fails(
        &[p(&tif), "--wavelengths", "vv-sideways,vh", "-o", p(&never)],
        "vv|vh|hh|hv",
        &never,
    );
}

#[test]
fn streamed_geotiff_equals_in_memory_png() {
    // The same 3-band u8 scene as PNG (read whole) and as GeoTIFF (streamed by tile rows).
    let dir = tempfile::tempdir().unwrap();
    let (h, w) = (50, 70);
    let planar: Vec<u8> = (0..3 * h * w)
        .map(|i| ((i * 37 + i / 7) % 251) as u8)
        .collect();
    let mut interleaved = vec![0u8; 3 * h * w];
    for b in 0..3 {
        for i in 0..h * w {
            interleaved[i * 3 + b] = planar[b * h * w + i];
        }
    }
    let png = dir.path().join("s.png");
    panopticon::data::write_png_rgb(&png, h, w, &interleaved).unwrap();
    let tif = dir.path().join("s.tif");
    let as_f32: Vec<f32> = planar.iter().map(|&v| v as f32).collect();
    write_geotiff_f32(&tif, 3, h, w, &as_f32, None, None, None).unwrap();
    let mut outs = Vec::new();
    for input in [&png, &tif] {
        let out = dir.path().join(format!(
            "{}.safetensors",
            input.extension().unwrap().to_str().unwrap()
        ));
        let o = embed(&[
            p(input),
            "--wavelengths",
            "665,560,490",
            "--tile",
            "24",
            "--stride",
            "16",
            "--dense",
            "-o",
            p(&out),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(read_safetensors(&out).unwrap());
    }
    assert_eq!(outs[0]["tiles"], outs[1]["tiles"]);
    let d = max_abs_diff(&outs[0]["cls"], &outs[1]["cls"]);
    assert!(d <= 1e-6, "cls {d:e}");
    let d = max_abs_diff(&outs[0]["dense.0"], &outs[1]["dense.0"]);
    assert!(d <= 1e-6, "dense {d:e}");
}

/// The README's sample scene (real Landsat 8 L1, 11 bands, uint16, Deflate + predictor, UTM 16N)
/// through the README's command, with the tiny model: a georeferenced map on its patch grid.
#[test]
fn readme_sample_scene_embeds_to_a_georeferenced_map() {
    let dir = tempfile::tempdir().unwrap();
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/landsat8_gulf_coast.tif");
    let src = read_geotiff(&sample).unwrap();
    assert_eq!((src.bands, src.height, src.width), (11, 320, 320));
    let map = dir.path().join("map.tif");
    let o = embed(&[p(&sample), "--sensor", "landsat8_9", "-o", p(&map)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = read_geotiff(&map).unwrap();
    // 320 px / patch 8 = 40 cells; every cell covered, finite.
    assert_eq!((r.bands, r.height, r.width), (48, 40, 40));
    assert!(r.to_f32().iter().all(|v| v.is_finite()));
    let gt = src.geotransform.unwrap();
    assert_eq!(
        r.geotransform.unwrap(),
        [gt[0], 8.0 * gt[1], 0.0, gt[3], 0.0, 8.0 * gt[5]]
    );
    assert_eq!(r.epsg, Some(32616));
}

/// `.parquet` output: one row per tile with its window, map bounds, EPSG and the same vectors
/// as the `.safetensors` output; read back through the data crate's reader (itself checked
/// against pyarrow).
#[test]
fn parquet_table_has_one_row_per_tile_with_bounds() {
    use panopticon::data::readers::ParquetTable;
    let dir = tempfile::tempdir().unwrap();
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/landsat8_gulf_coast.tif");
    let args = ["--sensor", "landsat8_9", "--tile", "160", "--stride", "120"];
    let table = dir.path().join("emb.parquet");
    let st = dir.path().join("emb.safetensors");
    for out in [&table, &st] {
        let o = embed(&[&[p(&sample)], &args[..], &["-o", p(out)]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let want = read_safetensors(&st).unwrap();
    let t = ParquetTable::open(&table).unwrap();
    // Windows at 0, 120, 160 (flush with 320) on both axes.
    assert_eq!(t.num_rows(), 9);
    let cls: Vec<Vec<f32>> = t.column("cls").unwrap();
    let flat: Vec<f32> = cls.iter().flatten().copied().collect();
    assert!(cls.iter().all(|v| v.len() == 48));
    assert_eq!(flat, want["cls"].try_to_vec::<f32>().unwrap());
    let tiles = want["tiles"].try_to_vec::<i64>().unwrap();
    for (k, name) in ["row", "col", "height", "width"].iter().enumerate() {
        let col: Vec<i64> = t.column(name).unwrap();
        let expect: Vec<i64> = tiles.chunks(5).map(|r| r[k + 1]).collect();
        assert_eq!(col, expect, "{name}");
    }
    let paths: Vec<String> = t.column("path").unwrap();
    assert!(paths.iter().all(|s| s == p(&sample)));
    let epsg: Vec<Option<i32>> = t.column("epsg").unwrap();
    assert!(epsg.iter().all(|e| *e == Some(32616)));
    // Tile (row 120, col 160): x from 461475 + 160·30, y from 3400155 − (120 + 160)·30 up.
    let (minx, maxy): (Vec<Option<f64>>, Vec<Option<f64>>) =
        (t.column("minx").unwrap(), t.column("maxy").unwrap());
    let (miny, maxx): (Vec<Option<f64>>, Vec<Option<f64>>) =
        (t.column("miny").unwrap(), t.column("maxx").unwrap());
    let i = 5; // row-major: rows 0,120,160 × cols 0,120,160
    assert_eq!(
        (minx[i], miny[i], maxx[i], maxy[i]),
        (
            Some(461475.0 + 160.0 * 30.0),
            Some(3400155.0 - 280.0 * 30.0),
            Some(461475.0 + 320.0 * 30.0),
            Some(3400155.0 - 120.0 * 30.0)
        )
    );
}

/// A directory or a quoted glob stands for the images in it, in name order.
#[test]
fn directories_and_globs_expand_to_their_images() {
    let dir = tempfile::tempdir().unwrap();
    let scenes = dir.path().join("scenes");
    std::fs::create_dir(&scenes).unwrap();
    for name in ["b.tif", "a.tif"] {
        let (tif, _) = scene(dir.path(), 16, 16);
        std::fs::rename(tif, scenes.join(name)).unwrap();
    }
    std::fs::write(scenes.join("notes.txt"), "not an image").unwrap();
    let by_dir = dir.path().join("dir.safetensors");
    let by_glob = dir.path().join("glob.safetensors");
    let pattern = format!("{}/*.tif", p(&scenes));
    for (input, out) in [(p(&scenes), &by_dir), (pattern.as_str(), &by_glob)] {
        let o = embed(&[input, "--sensor", "sentinel2_l1c", "-o", p(out)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (d, g) = (
        read_safetensors(&by_dir).unwrap(),
        read_safetensors(&by_glob).unwrap(),
    );
    assert_eq!(d["cls"].shape().as_slice(), [2, 48]);
    assert_eq!(d["cls"], g["cls"]);
    let none = dir.path().join("none.safetensors");
    let pattern = format!("{}/*.png", p(&scenes));
    fails(
        &[&pattern, "--sensor", "sentinel2_l1c", "-o", p(&none)],
        "no GeoTIFF",
        &none,
    );
}
