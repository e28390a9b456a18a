//! `panopticon embed`: GeoTIFF / PNG scenes from any sensor → Panopticon embeddings.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::prelude::*;
use clap::Args;
use panopticon::data::readers::{RasterLocation, RemoteOptions};
use panopticon::data::{Raster, SensorRegistry, read_geotiff, read_png, write_geotiff_f32};
use panopticon::device::parse_device;
use panopticon::embed::{EmbedOptions, Embedded, Norm, TableInput, embed_scene, encode_table};
use panopticon::tensor_io::write_safetensors;
use panopticon::{Panopticon, PanopticonConfig};

use super::forward::resolve_config;

/// Arguments of `panopticon embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Input images: GeoTIFF (.tif/.tiff), PNG or JPEG, one scene each; or directories of them,
    /// or quoted globs ("scenes/*.tif"); or GeoTIFF/COG URLs (http(s)://, s3://BUCKET/KEY),
    /// read with range requests (only the tiles each window needs). S3 uses the AWS
    /// environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_REGION,
    /// AWS_ENDPOINT_URL, AWS_PROFILE, and AWS_NO_SIGN_REQUEST=YES for public buckets.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output: `.safetensors` (cls [N, D], tiles [N, 5] = input, row, col, height, width;
    /// with --dense also dense.{i} [D, rows, cols]), `.npy` (cls [N, D]), `.parquet` (one row
    /// per tile: path, row, col, height, width, minx, miny, maxx, maxy, epsg, cls list<float>)
    /// or `.tif` (the dense patch-feature map of one input, georeferenced on the patch grid).
    #[arg(long, short)]
    output: PathBuf,
    /// Also write dense patch-feature maps into a .safetensors output.
    #[arg(long)]
    dense: bool,
    /// Also write the normalised cls tokens of these blocks (0-based, comma-separated, e.g.
    /// 8,9,10,11 for DINOv2's last-4 linear probes) into a .safetensors output as
    /// `layers.{i}.cls [N, D]`.
    #[arg(long, value_delimiter = ',')]
    layers: Vec<usize>,
    #[command(flatten)]
    scene: SceneArgs,
}

/// What the bands are, which model, and how scenes are cut (shared by `embed` and `pca`).
#[derive(Args, Debug)]
pub struct SceneArgs {
    /// Sensor of the bands (see `panopticon sensors`), e.g. sentinel2_l2a, landsat8_9,
    /// sentinel1.
    #[arg(long)]
    pub sensor: Option<String>,
    /// Band names of the file's bands in file order (with --sensor), e.g. B04,B03,B02.
    #[arg(long, value_delimiter = ',')]
    pub bands: Option<Vec<String>>,
    /// The file's bands in file order, instead of --sensor/--bands: centre wavelengths in nm
    /// and/or SAR channels as `vv|vh|hh|hv` with `-asc`/`-desc` (default: both orbits),
    /// e.g. `665,560,490,vv-asc,vh-asc`.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub wavelengths: Option<Vec<String>>,
    /// A SAR file's bands in file order, instead of --sensor/--wavelengths: `vv|vh|hh|hv` with
    /// `-asc`/`-desc` (default: both orbits), e.g. `vv-asc,vh-asc`.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub sar: Option<Vec<String>>,
    /// Weights: a registry name (`panopticon weights list`; downloaded once) or a file.
    #[arg(long, default_value = "panopticon-vitb14")]
    pub weights: String,
    /// Model config for a weights file (preset or JSON).
    #[arg(long, default_value = "vitb14")]
    pub config: String,
    /// Normalisation: `scene` (per-band mean/std of each scene), `none`, or a JSON file
    /// {"mean": [...], "std": [...]} in file band order.
    #[arg(long, default_value = "scene")]
    pub norm: String,
    /// Tile side in pixels (multiple of the patch size).
    #[arg(long, default_value_t = 224)]
    pub tile: usize,
    /// Step between tiles in pixels (default: the tile side; smaller overlaps).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Tiles per forward pass.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Device: cpu, wgpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Remote inputs: range requests in flight at once per file (timeouts, resets and 5xx
    /// answers are retried with exponential backoff).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_requests: u16,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

impl SceneArgs {
    /// The sliding window these arguments ask for.
    pub(super) fn embed_options(&self, dense: bool, layers: Vec<usize>) -> EmbedOptions {
        EmbedOptions {
            tile: self.tile,
            stride: self.stride.unwrap_or(self.tile),
            batch: self.batch,
            dense,
            layers,
        }
    }

    /// How remote inputs are fetched.
    pub(super) fn remote_options(&self) -> RemoteOptions {
        RemoteOptions {
            max_requests: usize::from(self.max_requests),
            ..RemoteOptions::default()
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Safetensors,
    Npy,
    Parquet,
    Tiff,
}

pub fn run(mut args: EmbedArgs) -> anyhow::Result<()> {
    args.inputs = expand_inputs(&args.inputs, &args.scene.remote_options())?;
    let format = match args.output.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => Format::Safetensors,
        Some("npy") => Format::Npy,
        Some("parquet") => Format::Parquet,
        Some("tif" | "tiff") => Format::Tiff,
        _ => bail!(
            "--output {}: use a .safetensors, .npy, .parquet or .tif file name",
            args.output.display()
        ),
    };
    if format == Format::Tiff && args.inputs.len() != 1 {
        bail!(
            "a .tif output holds the dense map of one input; got {} inputs",
            args.inputs.len()
        );
    }
    if !args.layers.is_empty() && format != Format::Safetensors {
        bail!("--layers writes `layers.{{i}}.cls` tensors: use a .safetensors output");
    }
    super::check_writable(&args.output)?;
    let sc = &args.scene;
    let norm = Norm::parse(&sc.norm)?;
    let ids = channel_ids(sc)?;
    let device = parse_device(&sc.device)?;
    let model = load_model(&sc.weights, &sc.config, &device)?;
    let opts = sc.embed_options(args.dense || format == Format::Tiff, args.layers.clone());

    let mut results: Vec<(Raster, Embedded)> = Vec::new();
    for (i, path) in args.inputs.iter().enumerate() {
        let (raster, out) = embed_file(
            path,
            &model,
            &ids,
            &norm,
            &opts,
            &sc.remote_options(),
            sc.quiet,
            (i, args.inputs.len()),
        )?;
        results.push((raster, out));
    }
    write_output(&args, format, &results, model.config.patch_size)?;
    let n: usize = results.iter().map(|(_, e)| e.tiles.len()).sum();
    eprintln!(
        "wrote {} ({n} tiles from {} input(s), D = {})",
        args.output.display(),
        results.len(),
        results.first().map_or(0, |(_, e)| e.dim)
    );
    Ok(())
}

/// Reads, normalises and embeds one scene; returns its metadata (samples dropped) and result.
pub(super) fn embed_file(
    path: &Path,
    model: &Panopticon,
    ids: &[f32],
    norm: &Norm,
    opts: &EmbedOptions,
    remote: &RemoteOptions,
    quiet: bool,
    (i, total): (usize, usize),
) -> anyhow::Result<(Raster, Embedded)> {
    let loc = RasterLocation::parse(&path.to_string_lossy())?;
    let ext = loc.extension();
    let is_tiff = matches!(ext.as_deref(), Some("tif" | "tiff"));
    if loc.is_remote() && matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg")) {
        bail!("{loc}: only GeoTIFF/COG inputs are read remotely; download PNG/JPEG files first");
    }
    if is_tiff || loc.is_remote() {
        return embed_geotiff(&loc, model, ids, norm, opts, remote, quiet, (i, total));
    }
    let mut raster = read_image(path)?;
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

/// The streamed path for GeoTIFFs, local or remote: scene statistics in a first pass over row
/// windows, then one window per row of tiles, so memory holds a row of tiles rather than the
/// scene. In both passes the next window is read (fetched, decoded, normalised) on a
/// background thread while the current one is used.
#[allow(clippy::too_many_arguments)]
fn embed_geotiff(
    loc: &RasterLocation,
    model: &Panopticon,
    ids: &[f32],
    norm: &Norm,
    opts: &EmbedOptions,
    remote: &RemoteOptions,
    quiet: bool,
    (i, total): (usize, usize),
) -> anyhow::Result<(Raster, Embedded)> {
    use panopticon::data::{GeoTiff, RasterData};
    use panopticon::embed::{
        BandStats, EmbedError, StatsAccumulator, Window, embed_streamed, tile_row_windows,
        with_read_ahead,
    };

    let path = loc.label();
    let path = path.as_path();
    let mut tif = GeoTiff::open_location(loc, remote)?;
    let (bands, height, width, nodata) = (tif.bands, tif.height, tif.width, tif.nodata);
    let (geotransform, epsg) = (tif.geotransform, tif.epsg);
    check_bands(path, bands, ids)?;
    let label = format!("[{}/{}] {loc}", i + 1, total);
    let stats = match norm {
        Norm::Scene => {
            let bar = progress_bar(quiet, &format!("{label} (statistics)"));
            bar.set_length(height as u64);
            let mut acc = StatsAccumulator::new(bands, nodata);
            const ROWS: usize = 256;
            let windows: Vec<(usize, usize)> = (0..height)
                .step_by(ROWS)
                .map(|row0| (row0, ROWS.min(height - row0)))
                .collect();
            let tif = &mut tif;
            with_read_ahead(
                &windows,
                |row0, rows| Ok(tif.read(row0, 0, rows, width)?.to_f32()),
                |next| -> anyhow::Result<()> {
                    for &(row0, rows) in &windows {
                        acc.add(&next(row0, rows).map_err(|e| anyhow::anyhow!(e))?);
                        bar.set_position((row0 + rows) as u64);
                    }
                    Ok(())
                },
            )?;
            bar.finish_and_clear();
            acc.finish()
        }
        Norm::None => BandStats {
            mean: vec![0.0; bands],
            std: vec![1.0; bands],
        },
        Norm::Stats(s) => s.clone(),
    };
    let window_norm = Norm::Stats(stats);
    let bar = tile_bar(quiet, &label, model, (height, width), opts);
    let windows = tile_row_windows((height, width), model.config.patch_size, opts);
    let tif_ref = &mut tif;
    let out = with_read_ahead(
        &windows,
        |row0, rows| {
            let mut data = tif_ref.read(row0, 0, rows, width)?.to_f32();
            let nodata_mask = window_norm.apply(&mut data, bands, nodata)?;
            Ok(Window { data, nodata_mask })
        },
        |next| {
            let mut read = |row0: usize, rows: usize| -> Result<Window, EmbedError> {
                next(row0, rows).map_err(|source| EmbedError::Read { row0, rows, source })
            };
            embed_streamed(
                model,
                (bands, height, width),
                ids,
                opts,
                &mut read,
                &mut |done| bar.set_position(done as u64),
            )
        },
    )
    .with_context(|| format!("embedding {loc}"))?;
    bar.finish_and_clear();
    warn_skipped(path, &out);
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

/// A progress bar over the tiles the sliding window will cut from an `h`×`w` scene.
fn tile_bar(
    quiet: bool,
    label: &str,
    model: &Panopticon,
    (h, w): (usize, usize),
    opts: &EmbedOptions,
) -> indicatif::ProgressBar {
    let p = model.config.patch_size;
    let planned =
        panopticon::embed::plan_tiles(h.div_ceil(p) * p, w.div_ceil(p) * p, opts.tile, opts.stride);
    let bar = progress_bar(quiet, label);
    bar.set_length(planned.len() as u64);
    bar
}

fn warn_skipped(path: &Path, out: &Embedded) {
    if out.skipped > 0 {
        eprintln!(
            "{}: {} of {} tiles are entirely no-data; their cls rows are NaN",
            path.display(),
            out.skipped,
            out.tiles.len()
        );
    }
}

/// Channel ids of the file's bands, from --sensor/--bands or --wavelengths.
pub(super) fn channel_ids(args: &SceneArgs) -> anyhow::Result<Vec<f32>> {
    if let Some(sar) = &args.sar {
        if args.sensor.is_some() || args.bands.is_some() || args.wavelengths.is_some() {
            bail!("give either --sar or --sensor/--bands/--wavelengths, not both");
        }
        return sar
            .iter()
            .map(|t| match channel_token(t)? {
                id if id < 0.0 => Ok(id),
                _ => bail!("--sar {t}: not a SAR channel; use vv|vh|hh|hv[-asc|-desc]"),
            })
            .collect();
    }
    match (&args.sensor, &args.bands, &args.wavelengths) {
        (None, None, Some(w)) => w.iter().map(|t| channel_token(t)).collect(),
        (_, _, Some(_)) => bail!("give either --wavelengths or --sensor/--bands, not both"),
        (Some(sensor), bands, None) => {
            let registry = SensorRegistry::builtin()?;
            let sensor = registry.sensor(sensor)?;
            let keys: Vec<String> = match bands {
                Some(b) => b.clone(),
                None => sensor.band_keys().map(str::to_string).collect(),
            };
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            Ok(sensor.chn_ids_f32(&keys)?)
        }
        (None, Some(_), None) => bail!("--bands needs --sensor to name the sensor"),
        (None, None, None) => bail!(
            "say what the bands are: --sensor NAME [--bands B04,B03,B02], --wavelengths \
             664,559,493 or --sar vv-asc,vh-asc (see `panopticon sensors`)"
        ),
    }
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

/// One `--wavelengths` entry: nm, or a SAR polarisation with an optional orbit.
fn channel_token(token: &str) -> anyhow::Result<f32> {
    use panopticon::data::{ChannelId, Orbit, Polarisation};
    let t = token.trim();
    if let Ok(nm) = t.parse::<f32>() {
        if !(nm.is_finite() && nm >= 0.0) {
            bail!("--wavelengths {t}: a wavelength must be a non-negative number of nm");
        }
        return Ok(nm);
    }
    let (pol, orbit) = t.split_once('-').unwrap_or((t, "both"));
    let orbit = match orbit.to_ascii_lowercase().as_str() {
        "asc" | "ascending" => Some(Orbit::Ascending),
        "desc" | "descending" => Some(Orbit::Descending),
        "both" => Some(Orbit::Both),
        _ => None,
    };
    match (Polarisation::parse(pol), orbit) {
        (Some(p), Some(o)) => Ok(ChannelId::sar_id(p, o) as f32),
        _ => bail!(
            "--wavelengths {t}: expected nm (e.g. 665) or a SAR channel vv|vh|hh|hv[-asc|-desc]"
        ),
    }
}

/// A registry name through the hub cache, or a local weights file.
pub(super) fn load_model(
    weights: &str,
    config: &str,
    device: &Device,
) -> anyhow::Result<Panopticon> {
    let path = Path::new(weights);
    if path.exists() {
        let config: PanopticonConfig = resolve_config(config)?;
        return Ok(Panopticon::from_file(&config, path, device)?.0);
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
        Ok(Panopticon::pretrained_with(
            &entry,
            &panopticon::HubOptions::from_env(),
            device,
        )?)
    }
    #[cfg(not(feature = "pretrained"))]
    bail!("--weights {weights}: no such file (registry names need the `pretrained` feature)")
}

pub(super) fn read_image(path: &Path) -> anyhow::Result<Raster> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("png") => read_png(path)?,
        Some("jpg" | "jpeg") => panopticon::data::read_jpeg(path)?,
        Some("tif" | "tiff") => read_geotiff(path)?,
        _ => bail!(
            "{}: not a .tif/.tiff, .png or .jpg image (convert other formats with gdal_translate)",
            path.display()
        ),
    })
}

fn progress_bar(quiet: bool, msg: &str) -> indicatif::ProgressBar {
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(0)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] [{wide_bar}] {pos}/{len} tiles ({per_sec}, eta {eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(msg.to_string());
    bar
}

fn write_output(
    args: &EmbedArgs,
    format: Format,
    results: &[(Raster, Embedded)],
    patch: usize,
) -> anyhow::Result<()> {
    let dim = results.first().map_or(0, |(_, e)| e.dim);
    let cls: Vec<f32> = results
        .iter()
        .flat_map(|(_, e)| e.cls.iter().copied())
        .collect();
    let n = cls.len() / dim.max(1);
    let out = args.output.as_path();
    match format {
        Format::Npy => {
            let mut bytes = npy_header(&[n, dim]);
            bytes.extend(cls.iter().flat_map(|v| v.to_le_bytes()));
            panopticon::atomic_write(out, &bytes)
                .with_context(|| format!("writing {}", out.display()))?;
        }
        Format::Parquet => {
            let inputs: Vec<_> = (args.inputs.iter().zip(results))
                .map(|(path, (raster, e))| TableInput {
                    path,
                    tiles: &e.tiles,
                    cls: &e.cls,
                    geotransform: raster.geotransform,
                    epsg: raster.epsg,
                })
                .collect();
            let meta = [
                ("panopticon.weights", args.scene.weights.clone()),
                ("panopticon.dim", dim.to_string()),
                ("panopticon.patch_size", patch.to_string()),
            ];
            let bytes = encode_table(&inputs, dim, &meta).context("encoding the Parquet table")?;
            panopticon::atomic_write(out, &bytes)
                .with_context(|| format!("writing {}", out.display()))?;
        }
        Format::Safetensors => {
            let mut tiles = Vec::with_capacity(n * 5);
            for (i, (_, e)) in results.iter().enumerate() {
                for t in &e.tiles {
                    tiles.extend([i, t.row, t.col, t.height, t.width].map(|v| v as i64));
                }
            }
            let mut tensors = vec![
                ("cls".to_string(), TensorData::new(cls, [n, dim])),
                ("tiles".to_string(), TensorData::new(tiles, [n, 5])),
            ];
            let mut layers: Vec<(usize, Vec<f32>)> = Vec::new();
            for (_, e) in results {
                for (b, c) in &e.layers {
                    match layers.iter_mut().find(|(l, _)| l == b) {
                        Some((_, all)) => all.extend_from_slice(c),
                        None => layers.push((*b, c.clone())),
                    }
                }
            }
            for (b, c) in layers {
                tensors.push((format!("layers.{b}.cls"), TensorData::new(c, [n, dim])));
            }
            for (i, (_, e)) in results.iter().enumerate() {
                if let Some(d) = &e.dense {
                    tensors.push((
                        format!("dense.{i}"),
                        TensorData::new(d.clone(), [dim, e.grid.0, e.grid.1]),
                    ));
                }
            }
            write_safetensors(out, &tensors)?;
        }
        Format::Tiff => {
            let (raster, e) = &results[0];
            let dense = e.dense.as_ref().context("dense map missing")?;
            // The patch grid starts at the scene's origin; each cell is P×P pixels.
            let gt = raster.geotransform.map(|t| {
                let p = patch as f64;
                [t[0], t[1] * p, t[2] * p, t[3], t[4] * p, t[5] * p]
            });
            write_geotiff_f32(out, dim, e.grid.0, e.grid.1, dense, gt, raster.epsg, None)?;
        }
    }
    Ok(())
}

/// NumPy `.npy` v1.0 header of a C-ordered little-endian float32 array.
fn npy_header(shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + dict + newline, padded to a multiple of 64.
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out
}
