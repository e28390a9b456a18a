//! `panopticon embed`: GeoTIFF / PNG scenes from any sensor → Panopticon embeddings.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::prelude::*;
use clap::Args;
use panopticon::data::readers::{RasterLocation, RemoteOptions};
use panopticon::data::{Budget, ImageHeader, Raster};
use panopticon::device::parse_device;
use panopticon::embed::output::{
    Dtype, OutputFormat, OutputOptions, OutputReport, PcaChoice, SceneEmbedding, check_options,
    check_target, projjson, write_output,
};
use panopticon::embed::{EmbedOptions, Embedded, Norm, embed_scene};
use panopticon::{FrozenPanopticon, Panopticon, PanopticonConfig};

use super::forward::resolve_config;
use super::progress::{tile_bar, warn_skipped};
use super::scene_args::SceneArgs;
pub(super) use super::scene_args::channel_ids;

mod batch;
mod collect;
mod pca_basis;
mod target;

pub use batch::{EmbedCommand, ItemsFailed, run as dispatch};

/// Arguments of `panopticon embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Input images: GeoTIFF (.tif/.tiff), PNG or JPEG, one scene each; or directories of them,
    /// or quoted globs ("scenes/*.tif"); or GeoTIFF/COG URLs (http(s)://, s3://BUCKET/KEY,
    /// gs://BUCKET/KEY, az://CONTAINER/BLOB), read with range requests (only the tiles each
    /// window needs); or STAC Items / ItemCollections (.json), one scene per item, its bands
    /// read from the assets' per-band files. S3 uses the AWS environment:
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_REGION,
    /// AWS_ENDPOINT_URL, AWS_PROFILE, AWS_NO_SIGN_REQUEST=YES for public buckets,
    /// AWS_REQUEST_PAYER=requester for requester-pays ones; gs:// GOOGLE_APPLICATION_CREDENTIALS
    /// or GOOGLE_SERVICE_ACCOUNT, and GS_NO_SIGN_REQUEST=YES for public buckets; az://
    /// AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN,
    /// AZURE_NO_SIGN_REQUEST=YES for public containers.
    #[arg(required_unless_present_any = ["band_files", "manifest"])]
    inputs: Vec<PathBuf>,
    /// Output: `.safetensors` (cls [N, D], tiles [N, 5] = input, row, col, height, width;
    /// with --dense also dense.{i} [D, rows, cols]), `.npy` (cls [N, D]), `.parquet`
    /// (GeoParquet 1.1, one row per tile: path, row, col, height, width, minx, miny, maxx,
    /// maxy, epsg, cls fixed_size_list[D], bbox, geometry = footprint polygon), `.tif` or
    /// `.zarr` (the dense patch-feature map of one input, georeferenced on the patch grid;
    /// .zarr is a Zarr v3 store that xarray/rioxarray open with coordinates).
    /// With --manifest: the output directory, or an s3://BUCKET/PREFIX that each finished item
    /// is uploaded to with one PUT (also spelt --out).
    #[arg(long, short, visible_alias = "out")]
    output: PathBuf,
    /// Also write dense patch-feature maps into a .safetensors output.
    #[arg(long)]
    dense: bool,
    /// Element type of the stored embeddings: f32, or f16 (half the bytes; the relative
    /// error it introduces is printed).
    #[arg(long, default_value = "f32")]
    dtype: Dtype,
    /// Store dense maps as their first K principal components (fitted on a sample of this
    /// run's patch features; the basis and mean are stored with the output, the error printed).
    /// For .zarr, .tif (basis in <name>.pca.safetensors) or .safetensors with --dense. With
    /// --manifest, one basis for the whole run, fitted on --pca-sample items of the manifest
    /// and kept as OUT/pca_basis.safetensors (reused when it is there).
    #[arg(long, value_name = "K")]
    pca: Option<usize>,
    /// Project dense maps onto this PCA basis instead of fitting one (implies --pca with its
    /// K): a batch run's pca_basis.safetensors, or a .tif's .pca.safetensors sidecar, so that
    /// the components of separate runs are comparable.
    #[arg(long, value_name = "FILE")]
    pca_basis: Option<PathBuf>,
    /// Also write the normalised cls tokens of these blocks (0-based, comma-separated, e.g.
    /// 8,9,10,11 for DINOv2's last-4 linear probes) into a .safetensors output as
    /// `layers.{i}.cls [N, D]`.
    #[arg(long, value_delimiter = ',')]
    layers: Vec<usize>,
    #[command(flatten)]
    scene: SceneArgs,
    #[command(flatten)]
    per_band: super::scene_bands::BandArgs,
    #[command(flatten)]
    batch: batch::BatchArgs,
}

pub fn run(mut args: EmbedArgs) -> anyhow::Result<()> {
    args.scene.check()?;
    args.inputs = expand_inputs(&args.inputs, &args.scene.remote_options())?;
    let Some(format) = OutputFormat::from_path(&args.output) else {
        bail!(
            "--output {}: use a .safetensors, .npy, .parquet, .tif or .zarr name",
            args.output.display()
        );
    };
    if !args.layers.is_empty() && format != OutputFormat::Safetensors {
        bail!("--layers writes `layers.{{i}}.cls` tensors: use a .safetensors output");
    }
    let sc = &args.scene;
    let dense = args.dense || matches!(format, OutputFormat::Tiff | OutputFormat::Zarr);
    // Per-band files and STAC items are planned first: they decide how many scenes there are.
    let stacked = super::scene_bands::plan(&args.inputs, &args.per_band, sc)?;
    let n_scenes = stacked.as_ref().map_or(args.inputs.len(), |s| s.len());
    let pca = pca_basis::request(args.pca, args.pca_basis.as_deref())?;
    let k = pca.as_ref().map(PcaChoice::k);
    // D is not known before the model loads: check it with the largest possible first.
    check_options(format, n_scenes, dense, k, usize::MAX)?;
    check_target(&args.output, format)?;
    match format {
        // A store is a directory, which `check_target` has vetted; a rerun replaces it.
        OutputFormat::Zarr => super::check_parent_writable(&args.output)?,
        _ => super::check_writable(&args.output)?,
    }
    let norm = Norm::parse(&sc.norm)?;
    let ids = match stacked {
        Some(_) => Vec::new(),
        None => channel_ids(sc)?,
    };
    let device = parse_device(&sc.device)?;
    let mut model = load_model(&sc.weights, &sc.config, &device)?;
    sc.prepare_model(&mut model)?;
    check_options(format, n_scenes, dense, k, model.config().embed_dim)?;
    pca_basis::check_dim(pca.as_ref(), model.config().embed_dim)?;
    let opts = sc.embed_options(dense, args.layers.clone());

    let mut results: Vec<(Raster, Embedded)> = Vec::new();
    if let Some(scenes) = stacked {
        // Outputs name each scene by its label (item location#id, or the first band file).
        args.inputs = scenes.iter().map(|s| s.label.clone()).collect();
        for (i, scene) in scenes.iter().enumerate() {
            let resolution = args.per_band.resolution;
            let n = scenes.len();
            let done = super::scene_bands::embed_stacked(
                scene,
                resolution,
                &model,
                &norm,
                &opts,
                &args.scene,
                (i, n),
            )?;
            results.push(done);
        }
    } else {
        for (i, path) in args.inputs.iter().enumerate() {
            let (raster, out) =
                embed_file(path, &model, &ids, &norm, &opts, sc, (i, args.inputs.len()))?;
            results.push((raster, out));
        }
    }
    let patch = model.config().patch_size;
    let report = write_results(&args, format, &results, patch, pca.as_ref(), &device)?;
    let n: usize = results.iter().map(|(_, e)| e.tiles.len()).sum();
    eprintln!(
        "wrote {} ({n} tiles from {} input(s), D = {})",
        args.output.display(),
        results.len(),
        results.first().map_or(0, |(_, e)| e.dim)
    );
    print_report(&report);
    Ok(())
}

/// What the storage choices cost, on stderr.
fn print_report(report: &OutputReport) {
    if let Some(e) = report.f16_error {
        eprintln!("float16: relative RMS error {e:.2e} against float32");
    }
    if let Some((k, kept, e)) = report.pca {
        let kept = match kept.is_finite() {
            true => format!("keep {:.1} % of the variance", 100.0 * kept),
            false => "(variance kept not recorded in the basis file)".into(),
        };
        let sha = report.pca_basis.as_deref().unwrap_or("?");
        eprintln!(
            "PCA: {k} components {kept}; relative RMS error of the reconstructed dense maps \
             {e:.3} (basis sha256 {sha})"
        );
    }
}

/// Reads, normalises and embeds one scene; returns its metadata (samples dropped) and result.
/// The bands, the memory budget and the tile's token count are checked from the file's
/// header before any pixel is read.
pub(super) fn embed_file(
    path: &Path,
    model: &FrozenPanopticon,
    ids: &[f32],
    norm: &Norm,
    opts: &EmbedOptions,
    sc: &SceneArgs,
    (i, total): (usize, usize),
) -> anyhow::Result<(Raster, Embedded)> {
    let (quiet, overview) = (sc.quiet, sc.overview);
    let loc = RasterLocation::parse(&path.to_string_lossy())?;
    let ext = loc.extension();
    let is_tiff = matches!(ext.as_deref(), Some("tif" | "tiff"));
    if loc.is_remote() && matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
        bail!("{loc}: only GeoTIFF/COG inputs are read remotely; download PNG/JPEG files first");
    }
    if is_tiff || loc.is_remote() {
        return embed_geotiff(&loc, model, ids, norm, opts, sc, (i, total));
    }
    if overview > 0 {
        bail!(
            "{}: --overview applies to GeoTIFF inputs only (PNG/JPEG files have no overviews)",
            path.display()
        );
    }
    let header = probe_image(path)?;
    check_bands(path, header.bands, ids)?;
    super::budget::check_tile_tokens(model, opts.tile, (header.height, header.width))?;
    let need = super::budget::embed_need(&header, false, opts, model.config());
    sc.budget.check_input(path, &header, need)?;
    let mut raster = read_image_within(path, &sc.budget.budget())?;
    check_bands(path, raster.bands, ids)?;
    let mut data = raster.to_f32();
    // Only the float copy is needed from here on: free the stored samples.
    raster.data = panopticon::data::RasterData::U8(Vec::new());
    let mask = norm
        .apply(&mut data, raster.bands, raster.nodata)
        .with_context(|| format!("normalising {}", path.display()))?;
    let label = format!("[{}/{}] {}", i + 1, total, path.display());
    let bar = tile_bar(quiet, &label, model, (raster.height, raster.width), opts);
    let out = embed_scene(
        model,
        &data,
        (raster.bands, raster.height, raster.width),
        ids,
        mask.as_deref(),
        opts,
        &mut |done| bar.set_position(done as u64),
    )
    .with_context(|| format!("embedding {}", path.display()))?;
    bar.finish_and_clear();
    warn_skipped(path, &out);
    drop(data);
    Ok((raster, out))
}

/// The streamed path for GeoTIFFs, local or remote (see `windowed::embed_rows`): scene
/// statistics in a first pass over row windows, then one window per row of tiles, the next
/// window read on a background thread while the current one is embedded. Pixels outside the
/// file's internal mask count as no-data.
fn embed_geotiff(
    loc: &RasterLocation,
    model: &FrozenPanopticon,
    ids: &[f32],
    norm: &Norm,
    opts: &EmbedOptions,
    sc: &SceneArgs,
    (i, total): (usize, usize),
) -> anyhow::Result<(Raster, Embedded)> {
    use panopticon::data::{GeoTiff, RasterData};

    let quiet = sc.quiet;
    let path = loc.label();
    let path = path.as_path();
    let mut tif = GeoTiff::open_location_overview(loc, &sc.remote_options(), sc.overview)?;
    let (bands, height, width, nodata) = (tif.bands, tif.height, tif.width, tif.nodata);
    let (geotransform, epsg) = (tif.geotransform, tif.epsg);
    check_bands(path, bands, ids)?;
    let header = tif.image_header();
    super::budget::check_tile_tokens(model, opts.tile, (height, width))?;
    let need = super::budget::embed_need(&header, true, opts, model.config());
    sc.budget.check_input(path, &header, need)?;
    let label = format!("[{}/{}] {loc}", i + 1, total);
    let name = loc.to_string();
    let out = {
        let tif = &mut tif;
        let mut read = |row0: usize, rows: usize| -> anyhow::Result<Vec<f32>> {
            Ok(tif.read_f32(row0, 0, rows, width)?)
        };
        let src = super::windowed::RowSource {
            label: &name,
            shape: (bands, height, width),
            nodata,
            read: &mut read,
        };
        super::windowed::embed_rows(src, model, ids, norm, opts, quiet, &label)?
    };
    if let Some(s) = tif.remote_stats()
        && !quiet
    {
        eprintln!(
            "{loc}: {} range requests, {:.1} MB",
            s.requests(),
            s.bytes() as f64 / 1e6
        );
    }
    let meta = Raster {
        bands,
        height,
        width,
        data: RasterData::U8(Vec::new()),
        geotransform,
        epsg,
        nodata,
    };
    Ok((meta, out))
}

fn check_bands(path: &Path, bands: usize, ids: &[f32]) -> anyhow::Result<()> {
    if bands != ids.len() {
        bail!(
            "{} has {bands} bands but {} channel ids were given; list one band per file band \
             (--bands / --wavelengths) in file order",
            path.display(),
            ids.len()
        );
    }
    Ok(())
}

/// Image inputs: files as given, the images in a directory (sorted), a quoted glob, or URLs
/// (each checked with one HEAD request, before the weights load).
fn expand_inputs(inputs: &[PathBuf], remote: &RemoteOptions) -> anyhow::Result<Vec<PathBuf>> {
    const IMAGE: [&str; 5] = ["tif", "tiff", "png", "jpg", "jpeg"];
    let is_image = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE.contains(&e.to_ascii_lowercase().as_str()))
    };
    let mut out = Vec::new();
    let mut urls = Vec::new();
    for input in inputs {
        let text = input.to_string_lossy();
        if let loc @ RasterLocation::Remote(_) = RasterLocation::parse(&text)? {
            urls.push(loc);
            out.push(input.clone());
            continue;
        }
        let found: Vec<PathBuf> = if input.is_dir() {
            let entries =
                std::fs::read_dir(input).with_context(|| format!("listing {}", input.display()))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_image(p))
                .collect();
            files.sort();
            files
        } else if !input.exists() && text.contains(['*', '?', '[']) {
            let mut files: Vec<PathBuf> = glob::glob(&text)
                .with_context(|| format!("bad pattern {text}"))?
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            files
        } else {
            // Before the weights are loaded (perhaps downloaded): a typo should not wait for that.
            if let Err(e) = std::fs::metadata(input) {
                bail!("cannot read `{}`: {e}", input.display());
            }
            vec![input.clone()]
        };
        if found.is_empty() {
            bail!("{text}: no GeoTIFF, PNG or JPEG files there");
        }
        out.extend(found);
    }
    probe_all(&urls, remote)?;
    Ok(out)
}

/// HEAD requests for `urls`, `max_requests` at a time; the first failure names its URL.
fn probe_all(urls: &[RasterLocation], remote: &RemoteOptions) -> anyhow::Result<()> {
    use panopticon::data::readers::probe_location;
    for batch in urls.chunks(remote.max_requests.max(1)) {
        std::thread::scope(|s| {
            let probes: Vec<_> = batch
                .iter()
                .map(|loc| s.spawn(move || probe_location(loc, remote)))
                .collect();
            probes
                .into_iter()
                .try_for_each(|p| p.join().expect("a probe thread panicked"))
        })?;
    }
    Ok(())
}

/// A registry name through the hub cache, or a local weights file.
pub(super) fn load_model(
    weights: &str,
    config: &str,
    device: &Device,
) -> anyhow::Result<FrozenPanopticon> {
    let path = Path::new(weights);
    if path.exists() {
        let config: PanopticonConfig = resolve_config(config)?;
        return Ok(Panopticon::from_file(&config, path, device)?.0.to_frozen());
    }
    // A file name (a folder in it, or a weights extension) is not a registry name: say so.
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if weights.contains(std::path::MAIN_SEPARATOR)
        || ["pth", "pt", "bpk", "safetensors"].contains(&ext)
    {
        bail!(
            "--weights {weights}: no such file (make one with `cargo xtask import-weights` or \
             `panopticon weights convert`, or give a registry name: see `panopticon weights list`)"
        );
    }
    #[cfg(feature = "pretrained")]
    {
        let entry = panopticon::Registry::builtin().get(weights)?.clone();
        Ok(
            Panopticon::pretrained_with(&entry, &panopticon::HubOptions::from_env(), device)?
                .to_frozen(),
        )
    }
    #[cfg(not(feature = "pretrained"))]
    bail!("--weights {weights}: no such file (registry names need the `pretrained` feature)")
}

/// An image file's format, from its extension.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageKind {
    Png,
    Jpeg,
    Tiff,
}

fn image_kind(path: &Path) -> anyhow::Result<ImageKind> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("png") => ImageKind::Png,
        Some("jpg" | "jpeg") => ImageKind::Jpeg,
        Some("tif" | "tiff") => ImageKind::Tiff,
        _ => bail!(
            "{}: not a .tif/.tiff, .png or .jpg image (convert other formats with gdal_translate)",
            path.display()
        ),
    })
}

/// The size an image's header states (nothing decoded).
pub(super) fn probe_image(path: &Path) -> anyhow::Result<ImageHeader> {
    use panopticon::data::readers::{probe_jpeg, probe_png};
    Ok(match image_kind(path)? {
        ImageKind::Png => probe_png(path)?,
        ImageKind::Jpeg => probe_jpeg(path)?,
        ImageKind::Tiff => panopticon::data::GeoTiff::open(path)?.image_header(),
    })
}

/// Reads a whole image, refusing it from its header when it is over `budget`.
pub(super) fn read_image_within(path: &Path, budget: &Budget) -> anyhow::Result<Raster> {
    use panopticon::data::readers::{read_geotiff_within, read_jpeg_within, read_png_within};
    Ok(match image_kind(path)? {
        ImageKind::Png => read_png_within(path, budget)?,
        ImageKind::Jpeg => read_jpeg_within(path, budget)?,
        ImageKind::Tiff => read_geotiff_within(path, budget)?,
    })
}

fn write_results(
    args: &EmbedArgs,
    format: OutputFormat,
    results: &[(Raster, Embedded)],
    patch_size: usize,
    pca: Option<&PcaChoice>,
    device: &Device,
) -> anyhow::Result<OutputReport> {
    let scenes: Vec<SceneEmbedding<'_>> = (args.inputs.iter().zip(results))
        .map(|(path, (raster, e))| SceneEmbedding {
            path,
            geotransform: raster.geotransform,
            epsg: raster.epsg,
            embedded: e,
        })
        .collect();
    if format == OutputFormat::Parquet {
        let unknown = scenes
            .iter()
            .filter_map(|s| s.epsg)
            .find(|&c| projjson(c).is_none());
        if let Some(code) = unknown {
            eprintln!(
                "note: EPSG:{code} has no built-in PROJJSON; the GeoParquet `geo` metadata says \
                 crs: null (unknown) and the code stays in the `epsg` column"
            );
        }
    }
    let dim = results.first().map_or(0, |(_, e)| e.dim);
    let opts = OutputOptions {
        dtype: args.dtype,
        pca: pca.cloned(),
        patch_size,
        meta: vec![
            ("panopticon.weights".into(), args.scene.weights.clone()),
            ("panopticon.dim".into(), dim.to_string()),
            ("panopticon.patch_size".into(), patch_size.to_string()),
            ("panopticon.dtype".into(), args.dtype.to_string()),
        ],
    };
    write_output(&args.output, format, &scenes, &opts, device)
        .with_context(|| format!("writing {}", args.output.display()))
}
