//! `panopticon pca`: the first three principal components of the patch features as colours,
//! next to a true-colour rendering of the input.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use panopticon::data::readers::RasterLocation;
use panopticon::data::{GeoTiff, write_png_rgb};
use panopticon::device::parse_device;
use panopticon::embed::{Norm, principal_components};

use super::embed::{embed_file, load_model, probe_image, read_image_within};
use super::scene_args::{SceneArgs, channel_ids};
use super::scene_bands::{self, BandArgs};

/// Arguments of `panopticon pca`.
#[derive(Args, Debug)]
pub struct PcaArgs {
    /// Input: a GeoTIFF (path or http(s)/s3/gs/az URL), a PNG, or a STAC item (.json file or URL);
    /// or no input and one --band KEY=PATH per band.
    #[arg(required_unless_present = "band_files")]
    input: Option<PathBuf>,
    /// Output PNG: the input (bands nearest 665/560/490 nm, 2–98 % stretch) on the left, the
    /// patch features' first 3 principal components as RGB on the right.
    #[arg(long, short)]
    output: PathBuf,
    #[command(flatten)]
    scene: SceneArgs,
    #[command(flatten)]
    per_band: BandArgs,
}

pub fn run(args: PcaArgs) -> anyhow::Result<()> {
    if args.output.extension().is_none_or(|e| e != "png") {
        bail!("--output {}: use a .png file name", args.output.display());
    }
    args.scene.check()?;
    super::check_writable(&args.output)?;
    let sc = &args.scene;
    let remote = sc.remote_options();
    let inputs: Vec<PathBuf> = args.input.iter().cloned().collect();
    let stacked = match scene_bands::plan(&inputs, &args.per_band, sc)? {
        Some(mut scenes) if scenes.len() == 1 => scenes.pop(),
        Some(scenes) => bail!(
            "{}: pca draws one scene; this collection holds {} items (embed them with `panopticon \
             embed`, or pass one item)",
            inputs[0].display(),
            scenes.len()
        ),
        None => None,
    };
    let ids = match &stacked {
        Some(s) => s.channel_ids(),
        None => channel_ids(sc)?,
    };
    let norm = Norm::parse(&sc.norm)?;
    let device = parse_device(&sc.device)?;
    let mut model = load_model(&sc.weights, &sc.config, &device)?;
    sc.prepare_model(&mut model)?;
    let opts = sc.embed_options(true, Vec::new());
    let (meta, e) = match &stacked {
        Some(scene) => scene_bands::embed_stacked(
            scene,
            args.per_band.resolution,
            &model,
            &norm,
            &opts,
            sc,
            (0, 1),
        )?,
        None => {
            // A local input is read whole once more for the picture: it must fit the budget
            // as well.
            if !RasterLocation::parse(&inputs[0].to_string_lossy())?.is_remote() {
                let header = probe_image(&inputs[0])?;
                sc.budget.check_input(
                    &inputs[0],
                    &header,
                    header.samples().saturating_mul(4 + 3),
                )?;
            }
            embed_file(&inputs[0], &model, &ids, &norm, &opts, sc, (0, 1))?
        }
    };
    let name = match &stacked {
        Some(s) => s.label.clone(),
        None => inputs[0].clone(),
    };
    let (h, w) = (meta.height, meta.width);
    let (rows, cols) = e.grid;
    let dense = e.dense.as_deref().unwrap_or_default();
    let cells = rows * cols;

    // Cells with features (tiles with no data are NaN) → [N, D] samples.
    let valid: Vec<usize> = (0..cells).filter(|&c| dense[c].is_finite()).collect();
    if valid.len() < 3 {
        bail!("{}: fewer than 3 patches with data", name.display());
    }
    let mut feats = Vec::with_capacity(valid.len() * e.dim);
    for &c in &valid {
        feats.extend((0..e.dim).map(|d| dense[d * cells + c]));
    }
    let (_, proj) = principal_components(&feats, valid.len(), e.dim, 3, &device);
    let mut pc_rgb = vec![0u8; cells * 3];
    for k in 0..3 {
        let vals: Vec<f32> = proj.iter().skip(k).step_by(3).copied().collect();
        let (lo, hi) = stretch(&vals);
        for (i, &c) in valid.iter().enumerate() {
            pc_rgb[c * 3 + k] = to_u8(vals[i], lo, hi);
        }
    }

    // The input at the resolution embedded (the overview asked for, if any; the common grid
    // of a band stack).
    let data = match &stacked {
        Some(scene) => {
            // Read whole for the picture: it must fit the budget as well.
            let mut stack = scene_bands::open_stack(scene, args.per_band.resolution, &remote)?;
            let header = scene_bands::stack_header(&stack);
            sc.budget.check_input(
                &scene.label,
                &header,
                header.samples().saturating_mul(4 + 3),
            )?;
            stack.read_rows(0, h)?
        }
        None => read_pixels(&inputs[0], sc, (h, w))?,
    };
    let rgb_bands = true_colour_bands(&ids);
    let mut left = vec![0u8; h * w * 3];
    for (k, &b) in rgb_bands.iter().enumerate() {
        let band = &data[b * h * w..(b + 1) * h * w];
        let (lo, hi) = stretch(band);
        for (i, &v) in band.iter().enumerate() {
            left[i * 3 + k] = to_u8(v, lo, hi);
        }
    }
    let p = model.config().patch_size;
    let gap = 8;
    let width = 2 * w + gap;
    let mut img = vec![255u8; h * width * 3];
    for r in 0..h {
        let row = &mut img[r * width * 3..(r + 1) * width * 3];
        row[..w * 3].copy_from_slice(&left[r * w * 3..(r + 1) * w * 3]);
        for c in 0..w {
            let cell = (r / p) * cols + c / p;
            let o = (w + gap + c) * 3;
            row[o..o + 3].copy_from_slice(&pc_rgb[cell * 3..cell * 3 + 3]);
        }
    }
    write_png_rgb(&args.output, h, width, &img)?;
    eprintln!(
        "wrote {} ({}×{}: input | PCA of {} patch features)",
        args.output.display(),
        width,
        h,
        valid.len()
    );
    Ok(())
}

/// All pixels of a single-file input, `[bands, h, w]`: GeoTIFFs (local or remote) through the
/// windowed reader at `overview`, PNG/JPEG decoded whole.
fn read_pixels(input: &Path, sc: &SceneArgs, (h, w): (usize, usize)) -> anyhow::Result<Vec<f32>> {
    let loc = RasterLocation::parse(&input.to_string_lossy())?;
    let tiff = matches!(loc.extension().as_deref(), Some("tif" | "tiff"));
    if tiff || loc.is_remote() {
        let mut tif = GeoTiff::open_location_overview(&loc, &sc.remote_options(), sc.overview)?;
        return Ok(tif.read_f32(0, 0, h, w)?);
    }
    Ok(read_image_within(input, &sc.budget.budget())?.to_f32())
}

/// The bands nearest red, green and blue (665, 560, 490 nm); the first band thrice when the
/// image has no optical bands.
fn true_colour_bands(ids: &[f32]) -> [usize; 3] {
    let nearest = |nm: f32| {
        ids.iter()
            .enumerate()
            .filter(|(_, v)| **v >= 0.0)
            .min_by(|a, b| (a.1 - nm).abs().total_cmp(&(b.1 - nm).abs()))
            .map_or(0, |(i, _)| i)
    };
    [nearest(665.0), nearest(560.0), nearest(490.0)]
}

/// The 2nd and 98th percentiles of the finite values.
fn stretch(values: &[f32]) -> (f32, f32) {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.02), at(0.98));
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

fn to_u8(v: f32, lo: f32, hi: f32) -> u8 {
    if !v.is_finite() {
        return 0;
    }
    (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0).round() as u8
}
