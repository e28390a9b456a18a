//! Scenes, catalogues and `embed` runs of the tiny model for the batch tests.

use super::*;

/// A 13-band float32 GeoTIFF in UTM zone 32N whose values depend on `seed`.
pub(super) fn scene(path: &Path, h: usize, w: usize, seed: usize) {
    scene_in(path, h, w, seed, 32632);
}

/// [`scene`] in the CRS `epsg`.
pub(super) fn scene_in(path: &Path, h: usize, w: usize, seed: usize, epsg: u32) {
    let data: Vec<f32> = (0..13 * h * w)
        .map(|i| {
            (1000.0 + 700.0 * ((i * (seed + 3)) as f32 * 0.013).sin() + (i % 89) as f32).round()
        })
        .collect();
    let gt = [
        600000.0 + 1000.0 * seed as f64,
        10.0,
        0.0,
        5000000.0,
        0.0,
        -10.0,
    ];
    write_geotiff_f32(path, 13, h, w, &data, Some(gt), Some(epsg), None).unwrap();
}

/// `n` scenes `s00.tif` … in `dir/in` and a manifest listing them (relative paths).
pub(super) fn catalogue(dir: &Path, n: usize, side: usize) -> PathBuf {
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    let mut text = String::from("# test catalogue\n");
    for i in 0..n {
        let name = format!("s{i:02}.tif");
        scene(&inputs.join(&name), side, side + 8 * (i % 3), i);
        text.push_str(&format!("in/{name}\n"));
    }
    let manifest = dir.join("manifest.txt");
    std::fs::write(&manifest, text).unwrap();
    manifest
}

pub(super) fn embed_cmd(args: &[&str]) -> Command {
    let mut cmd = tiny_embed();
    cmd.args(["--sensor", "sentinel2_l1c"])
        .args(TILE)
        .args(args);
    cmd
}

pub(super) fn embed(args: &[&str]) -> Output {
    embed_cmd(args).output().unwrap()
}

pub(super) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub(super) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Names in `dir`, sorted.
pub(super) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
