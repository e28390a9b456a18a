//! `panopticon embed` on GeoTIFFs written by GDAL with the codecs of
//! `scripts/gen_tiff_codec_fixtures.py` (tiny model): a ZSTD file embeds exactly like a plain
//! float copy of GDAL's decoded pixels, a JPEG (YCbCr) file like a copy of its decoded pixels,
//! masked pixels count as no-data, `--overview N` embeds the overview on its own grid, and an
//! unsupported codec fails with one line naming it.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use panopticon::data::{GeoTiff, read_geotiff, write_geotiff_f32};
use panopticon::tensor_io::read_safetensors;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/tiff_codecs")
}

/// The fixtures' three bands as red, green, blue; 16-px tiles (two patches of the tiny model).
fn embed(args: &[&str]) -> std::process::Output {
    tiny_embed_command()
        .args(["--wavelengths", "665,560,490", "--tile", "16"])
        .args(args)
        .output()
        .unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Embeds `input` to `<name>.safetensors` in `dir`, asserting success.
fn embed_ok(dir: &Path, input: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.safetensors"));
    let mut args = vec![p(input), "-o", p(&out)];
    args.extend_from_slice(extra);
    let o = embed(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// A float32 GeoTIFF copy of `src` with `data` as its samples.
fn f32_copy(dir: &Path, src: &Path, data: &[f32]) -> PathBuf {
    let f = GeoTiff::open(src).unwrap();
    let path = dir.join(format!(
        "{}.f32.tif",
        src.file_stem().unwrap().to_str().unwrap()
    ));
    write_geotiff_f32(
        &path,
        f.bands,
        f.height,
        f.width,
        data,
        f.geotransform,
        f.epsg,
        None,
    )
    .unwrap();
    path
}

/// The embeddings of two runs are identical.
fn assert_same(a: &Path, b: &Path) {
    let (a, b) = (read_safetensors(a).unwrap(), read_safetensors(b).unwrap());
    assert_eq!(a["tiles"], b["tiles"]);
    let d = max_abs_diff(&a["cls"], &b["cls"]);
    assert!(d <= 1e-6, "cls differ by {d:e}");
}

#[test]
fn zstd_input_embeds_like_gdals_decoded_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("zstd_p2_u16_strip_band.tif");
    // GDAL's decoded pixels, from the generator's reference.
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let exp: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = exp["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == "zstd_p2_u16_strip_band.tif")
        .unwrap();
    let raw = std::fs::read(fixtures().join("ref").join(case["data"].as_str().unwrap())).unwrap();
    let gdal: Vec<f32> = raw
        .chunks_exact(2)
        .map(|b| f32::from(u16::from_le_bytes([b[0], b[1]])))
        .collect();
    let copy = f32_copy(dir.path(), &src, &gdal);
    let a = embed_ok(dir.path(), &src, "zstd", &[]);
    let b = embed_ok(dir.path(), &copy, "copy", &[]);
    assert_same(&a, &b);
}

#[test]
fn jpeg_ycbcr_input_embeds_like_its_decoded_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("jpeg_ycbcr_u8_tile.tif");
    let decoded = read_geotiff(&src).unwrap().to_f32();
    let copy = f32_copy(dir.path(), &src, &decoded);
    let a = embed_ok(dir.path(), &src, "jpeg", &[]);
    let b = embed_ok(dir.path(), &copy, "copy", &[]);
    assert_same(&a, &b);
}

#[test]
fn masked_pixels_are_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("mask_deflate_u8_tile.tif");
    let mut f = GeoTiff::open(&src).unwrap();
    assert!(f.has_mask);
    let (h, w) = (f.height, f.width);
    let with_nan = f.read_f32(0, 0, h, w).unwrap();
    assert!(with_nan.iter().any(|v| v.is_nan()));
    let copy = f32_copy(dir.path(), &src, &with_nan);
    let a = embed_ok(dir.path(), &src, "masked", &[]);
    let b = embed_ok(dir.path(), &copy, "nan", &[]);
    assert_same(&a, &b);
    // Ignoring the mask would embed the stored values instead: a different result.
    let stored = f.read(0, 0, h, w).unwrap().to_f32();
    let raw = embed_ok(dir.path(), &f32_copy(dir.path(), &src, &stored), "raw", &[]);
    let (a, raw) = (
        read_safetensors(&a).unwrap(),
        read_safetensors(&raw).unwrap(),
    );
    assert!(max_abs_diff(&a["cls"], &raw["cls"]) > 1e-4);
}

#[test]
fn overview_flag_embeds_the_overview_on_its_grid() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("overviews_zstd_p2_u16_tile.tif");
    let full = GeoTiff::open(&src).unwrap();
    let ov = GeoTiff::open_overview(&src, 1).unwrap();
    assert_eq!((ov.height, ov.width), (full.height / 2, full.width / 2));
    let map = dir.path().join("map.tif");
    let o = embed(&[p(&src), "--overview", "1", "-o", p(&map)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = read_geotiff(&map).unwrap();
    // Patch 8: one cell per 8x8 overview pixels, each 8 overview pixels (16 full) wide.
    assert_eq!((r.height, r.width), (ov.height / 8, ov.width / 8));
    let g = full.geotransform.unwrap();
    assert_eq!(
        r.geotransform.unwrap(),
        [g[0], 16.0 * g[1], 0.0, g[3], 0.0, 16.0 * g[5]]
    );
    // --overview 0 is the full resolution.
    let a = embed_ok(dir.path(), &src, "ov0", &["--overview", "0"]);
    let b = embed_ok(dir.path(), &src, "full", &[]);
    assert_same(&a, &b);
}

fn fails(args: &[&str], needle: &str, out: &Path) {
    assert_one_line_failure(&embed(args), &format!("{args:?}"), needle, out);
}

#[test]
fn unsupported_codec_and_missing_overview_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.safetensors");
    let lzma = fixtures().join("unsupported/lzma_u16.tif");
    fails(
        &[p(&lzma), "-o", p(&out)],
        "compression 34925 (LZMA) is not supported",
        &out,
    );
    let src = fixtures().join("overviews_zstd_p2_u16_tile.tif");
    fails(
        &[p(&src), "--overview", "5", "-o", p(&out)],
        "overview 5 was asked for but the file has 2 overview(s)",
        &out,
    );
    // 12-bit JPEG: the codec is named, not only the sample size.
    let jpeg12 = fixtures().join("unsupported/jpeg12_u16.tif");
    fails(
        &[p(&jpeg12), "-o", p(&out)],
        "compression 7 (JPEG) with 12-bit samples is not supported (8-bit JPEG only)",
        &out,
    );
    // Overviews stored as SubIFDs (tifffile's pyramid): the full image embeds, --overview 1
    // says why there is none.
    let subifd = fixtures().join("subifd/pyramid_u16.tif");
    let one_band = |extra: &[&str]| {
        tiny_embed_command()
            .args([
                "--wavelengths",
                "665",
                "--tile",
                "16",
                p(&subifd),
                "-o",
                p(&out),
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = one_band(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_file(&out).unwrap();
    assert_one_line_failure(
        &one_band(&["--overview", "1"]),
        "--overview 1 on SubIFDs",
        "2 SubIFD image(s) (tag 330",
        &out,
    );
}
