//! Scenes made of one file per band: `--band KEY=PATH` and STAC items / item collections.
//! Every band is resampled onto one grid (see `panopticon_data::resample`) while the scene is
//! streamed row window by row window.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use panopticon::FrozenPanopticon;
use panopticon::data::readers::{RasterLocation, RemoteOptions, Source, read_location_bytes};
use panopticon::data::resample::{BandSource, BandStack, Method};
use panopticon::data::stac::{AssetChoice, StacItem, StacScene, parse_items, scene_from_item};
use panopticon::data::{ChannelId, GeoTiff, ImageHeader, Raster, RasterData, SensorRegistry};
use panopticon::embed::{EmbedOptions, Embedded, Norm};

use super::scene_args::{SceneArgs, parse_channel_ids};

/// Per-band inputs and STAC asset choice (flattened into `panopticon embed`).
#[derive(Args, Debug, Default)]
pub struct BandArgs {
    /// One single-band file per band, repeated: `--band B04=b04.tif --band B8A=b8a.tif`. KEY is a
    /// band of --sensor (key or common name: red, nir08, swir16) or, without --sensor, a
    /// wavelength in nm or vv|vh|hh|hv[-asc|-desc]. Files may differ in resolution and extent:
    /// all are brought onto one grid (see --resolution).
    #[arg(long = "band", value_name = "KEY=PATH")]
    pub band_files: Vec<String>,
    /// STAC item inputs: the assets to embed, in band order (default: every single-band raster
    /// asset whose band the sensor registry or the item's eo:bands / bands / sar:polarizations
    /// metadata can place, ordered by wavelength, SAR last). With --wavelengths, one channel per
    /// asset.
    #[arg(long, value_delimiter = ',')]
    pub assets: Option<Vec<String>>,
    /// STAC item inputs: read each asset from its alternate location NAME where the item lists
    /// one (the alternate-assets extension, e.g. `--alternate s3` for USGS Landsat items, whose
    /// `alternate.s3.href` is the requester-pays bucket: add AWS_REQUEST_PAYER=requester);
    /// assets without it are read from their `href`.
    #[arg(long, value_name = "NAME")]
    pub alternate: Option<String>,
    /// Pixel size in CRS units (metres for UTM) of the common grid of per-band files and STAC
    /// items. Default: the finest band's grid. The grid covers the intersection of the bands'
    /// extents, on the finest band's pixel lattice. Bands finer than the grid are area-averaged
    /// (antialiased, as `gdalwarp -r average`); bands as coarse or coarser are bilinearly
    /// interpolated (as `gdalwarp -r bilinear`). No-data pixels are left out of both. Bands in
    /// different CRSs are refused.
    #[arg(long, value_name = "METRES")]
    pub resolution: Option<f64>,
}

/// One band of a stacked scene: where it is and what it is.
#[derive(Debug, Clone)]
pub(super) struct BandSpec {
    /// `B04`, the asset key, …
    label: String,
    /// Path (or URL) of the raster.
    href: String,
    channel_id: f32,
    scale: f64,
    offset: f64,
    /// Overrides the file's own no-data value (STAC `raster:bands` nodata).
    nodata: Option<f64>,
}

/// A scene assembled from per-band rasters.
#[derive(Debug, Clone)]
pub(super) struct StackedScene {
    /// Names the scene in outputs (`item.json#ITEM_ID`, or the first band's path).
    pub label: PathBuf,
    bands: Vec<BandSpec>,
    /// `--overview N`: every band reads its own overview N (0 = full resolution); the common
    /// grid then follows from those overviews' pixel sizes.
    overview: usize,
}

impl StackedScene {
    /// Channel ids in band order.
    pub fn channel_ids(&self) -> Vec<f32> {
        self.bands.iter().map(|b| b.channel_id).collect()
    }
}

/// The stacked scenes the arguments describe: `--band` files, or the items of STAC JSON
/// inputs; `None` when the inputs are ordinary images.
pub(super) fn plan(
    inputs: &[PathBuf],
    args: &BandArgs,
    scene: &SceneArgs,
) -> anyhow::Result<Option<Vec<StackedScene>>> {
    let stac: Vec<&PathBuf> = inputs.iter().filter(|p| is_stac(p)).collect();
    if args.band_files.is_empty() && stac.is_empty() {
        if args.assets.is_some() || args.resolution.is_some() || args.alternate.is_some() {
            bail!(
                "--assets, --alternate and --resolution apply to STAC items and --band files only"
            );
        }
        return Ok(None);
    }
    if !args.band_files.is_empty() {
        if !inputs.is_empty() {
            bail!("give either input files or --band KEY=PATH, not both");
        }
        if args.assets.is_some() || args.alternate.is_some() {
            bail!(
                "--assets and --alternate choose STAC assets; with --band the bands are the files \
                 given"
            );
        }
        return Ok(Some(vec![band_files(args, scene)?]));
    }
    if stac.len() != inputs.len() {
        bail!("STAC items (.json) and image files cannot be mixed in one run");
    }
    let planner = ItemPlanner::new(args, scene)?;
    let mut scenes = Vec::new();
    for input in inputs {
        let location = input.to_string_lossy();
        let text = read_text(&location, &scene.remote_options())?;
        for item in parse_items(&text, &location)? {
            scenes.push(planner.scene(&item, &location)?);
        }
    }
    Ok(Some(scenes))
}

/// How STAC items become scenes under the command's options (--sensor, --assets,
/// --wavelengths): shared by STAC inputs and the items of STAC manifests.
pub(super) struct ItemPlanner {
    registry: SensorRegistry,
    sensor: Option<String>,
    assets: Option<Vec<String>>,
    channel_ids: Option<Vec<f32>>,
    alternate: Option<String>,
    overview: usize,
}

impl ItemPlanner {
    /// Checks the options that apply to STAC items.
    pub fn new(args: &BandArgs, scene: &SceneArgs) -> anyhow::Result<Self> {
        if scene.bands.is_some() || scene.sar.is_some() {
            bail!(
                "with a STAC item, choose assets with --assets (and --wavelengths to say what \
                 they are)"
            );
        }
        let registry = SensorRegistry::builtin()?;
        if let Some(s) = &scene.sensor {
            registry.sensor(s)?;
        }
        let channel_ids = scene
            .wavelengths
            .as_deref()
            .map(|w| parse_channel_ids("--wavelengths", w))
            .transpose()?;
        if channel_ids.is_some() && args.assets.is_none() {
            bail!(
                "--wavelengths with a STAC item needs --assets: one wavelength per asset, in order"
            );
        }
        Ok(ItemPlanner {
            registry,
            sensor: scene.sensor.clone(),
            assets: args.assets.clone(),
            channel_ids,
            alternate: args.alternate.clone(),
            overview: scene.overview,
        })
    }

    /// The scene of `item`, read from `location`, labelled `{location}#{id}`.
    pub fn scene(&self, item: &StacItem, location: &str) -> anyhow::Result<StackedScene> {
        let sensor = self
            .sensor
            .as_deref()
            .map(|s| self.registry.sensor(s))
            .transpose()?;
        let choice = AssetChoice {
            assets: self.assets.as_deref(),
            channel_ids: self.channel_ids.as_deref(),
            sensor,
            alternate: self.alternate.as_deref(),
        };
        let StacScene { id, bands } = scene_from_item(item, &self.registry, choice)?;
        Ok(StackedScene {
            label: PathBuf::from(format!("{location}#{id}")),
            overview: self.overview,
            bands: bands
                .into_iter()
                .map(|b| BandSpec {
                    label: b.asset,
                    href: b.href,
                    channel_id: b.channel_id,
                    scale: b.scale,
                    offset: b.offset,
                    nodata: b.nodata,
                })
                .collect(),
        })
    }
}

/// A `.json` input is a STAC Item or ItemCollection, and so is a URL that does not name an
/// image (STAC APIs serve items at `…/collections/C/items/ID`, without an extension).
fn is_stac(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let text = path.to_string_lossy();
    match ext.as_deref() {
        Some("json" | "geojson") => true,
        Some("tif" | "tiff" | "png" | "jpg" | "jpeg") => false,
        _ => text.starts_with("http://") || text.starts_with("https://"),
    }
}

/// `--band KEY=PATH` entries as one scene.
fn band_files(args: &BandArgs, scene: &SceneArgs) -> anyhow::Result<StackedScene> {
    if scene.bands.is_some() || scene.wavelengths.is_some() || scene.sar.is_some() {
        bail!(
            "with --band KEY=PATH the keys say what the bands are; drop --bands/--wavelengths/--sar"
        );
    }
    let registry = SensorRegistry::builtin()?;
    let sensor = scene
        .sensor
        .as_deref()
        .map(|s| registry.sensor(s))
        .transpose()?;
    let mut bands = Vec::new();
    for spec in &args.band_files {
        let Some((key, href)) = spec.split_once('=') else {
            bail!("--band {spec}: expected KEY=PATH, e.g. --band B04=T33UUP_B04_10m.tif");
        };
        let (key, href) = (key.trim(), href.trim());
        if key.is_empty() || href.is_empty() {
            bail!("--band {spec}: expected KEY=PATH, e.g. --band B04=T33UUP_B04_10m.tif");
        }
        let channel_id = match sensor {
            Some(s) => s
                .band(key)
                .map_err(|e| anyhow::anyhow!("--band {spec}: {e}"))?
                .channel_id
                .to_f32(),
            None => ChannelId::parse(key)
                .with_context(|| {
                    format!(
                        "--band {spec}: without --sensor, KEY is a wavelength in nm or a SAR \
                         channel"
                    )
                })?
                .to_f32(),
        };
        bands.push(BandSpec {
            label: key.to_string(),
            href: href.to_string(),
            channel_id,
            scale: 1.0,
            offset: 0.0,
            nodata: None,
        });
    }
    Ok(StackedScene {
        label: PathBuf::from(&bands[0].href),
        bands,
        overview: scene.overview,
    })
}

/// The text of a STAC document at `location` (a file path or an http(s)/s3 URL).
fn read_text(location: &str, remote: &RemoteOptions) -> anyhow::Result<String> {
    // STAC items are small; a "document" larger than this is not one.
    const MAX_ITEM_BYTES: u64 = 64 << 20;
    let loc = RasterLocation::parse(location)?;
    let bytes = read_location_bytes(&loc, remote, MAX_ITEM_BYTES)
        .with_context(|| format!("cannot read STAC item `{location}`"))?;
    String::from_utf8(bytes).with_context(|| format!("STAC item `{location}` is not UTF-8 text"))
}

/// Opens one band's raster (overview `overview`, 0 = full resolution), a path or an
/// http(s)/s3 URL: the one place an href becomes pixels.
fn open_band(
    href: &str,
    remote: &RemoteOptions,
    overview: usize,
) -> anyhow::Result<GeoTiff<Source>> {
    let loc = RasterLocation::parse(href)?;
    Ok(GeoTiff::open_location_overview(&loc, remote, overview)?)
}

/// The size of `stack`'s common grid as an image header (samples are f32 once resampled).
pub(super) fn stack_header(stack: &BandStack) -> ImageHeader {
    ImageHeader {
        bands: stack.bands(),
        height: stack.grid.height,
        width: stack.grid.width,
        sample_bytes: 4,
    }
}

/// Opens every band of `scene` (each at the scene's overview) and plans the common grid.
pub(super) fn open_stack(
    scene: &StackedScene,
    resolution: Option<f64>,
    remote: &RemoteOptions,
) -> anyhow::Result<BandStack> {
    let name = scene.label.display().to_string();
    let mut sources = Vec::with_capacity(scene.bands.len());
    for b in &scene.bands {
        let tif =
            open_band(&b.href, remote, scene.overview).with_context(|| match scene.overview {
                0 => format!("{name}: band {}", b.label),
                n => format!("{name}: band {} at --overview {n}", b.label),
            })?;
        let mut src = BandSource::from_geotiff(b.label.clone(), tif)
            .with_context(|| format!("{name}: band {} ({})", b.label, b.href))?;
        src.scale = b.scale;
        src.offset = b.offset;
        if b.nodata.is_some() {
            src.nodata = b.nodata;
        }
        sources.push(src);
    }
    BandStack::new(sources, resolution).with_context(|| name.clone())
}

/// Opens every band of `scene`, plans the common grid and embeds the scene window by window.
/// The tile and memory checks of single files apply to the common grid (4-byte samples).
pub(super) fn embed_stacked(
    scene: &StackedScene,
    resolution: Option<f64>,
    model: &FrozenPanopticon,
    norm: &Norm,
    opts: &EmbedOptions,
    sc: &SceneArgs,
    (i, total): (usize, usize),
) -> anyhow::Result<(Raster, Embedded)> {
    let quiet = sc.quiet;
    let name = scene.label.display().to_string();
    let mut stack = open_stack(scene, resolution, &sc.remote_options())?;
    let grid = stack.grid;
    let header = stack_header(&stack);
    super::budget::check_tile_tokens(model, opts.tile, (grid.height, grid.width))?;
    let need = super::budget::embed_need(&header, true, opts, model.config());
    sc.budget.check_input(&scene.label, &header, need)?;
    if !quiet {
        let (px, _) = grid.resolution();
        let resampled: Vec<String> = stack
            .methods()
            .iter()
            .map(|(label, m)| match m {
                Method::Average => format!("{label} area-average"),
                Method::Bilinear => format!("{label} bilinear"),
                Method::Aligned => format!("{label} as is"),
            })
            .collect();
        eprintln!(
            "{name}: {} bands on a {}×{} grid of {px} CRS units ({})",
            stack.bands(),
            grid.width,
            grid.height,
            resampled.join(", ")
        );
    }
    let ids = scene.channel_ids();
    let label = format!("[{}/{}] {name}", i + 1, total);
    let mut read =
        |row0: usize, rows: usize| -> anyhow::Result<Vec<f32>> { Ok(stack.read_rows(row0, rows)?) };
    let src = super::windowed::RowSource {
        label: &name,
        shape: (ids.len(), grid.height, grid.width),
        nodata: None,
        read: &mut read,
    };
    let out = super::windowed::embed_rows(src, model, &ids, norm, opts, quiet, &label)?;
    let meta = Raster {
        bands: ids.len(),
        height: grid.height,
        width: grid.width,
        data: RasterData::U8(Vec::new()),
        geotransform: Some(grid.transform),
        epsg: grid.epsg,
        nodata: None,
    };
    Ok((meta, out))
}
