//! What the bands of a scene are (`--sensor`/`--bands`, `--wavelengths`, `--sar`), which model,
//! and how scenes are cut: the arguments `embed` and `pca` share, and their channel ids.

use anyhow::{Context, bail};
use clap::Args;
use panopticon::FrozenPanopticon;
use panopticon::data::readers::RemoteOptions;
use panopticon::data::{ChannelId, SensorRegistry};
use panopticon::embed::EmbedOptions;

/// What the bands are, which model, and how scenes are cut (shared by `embed` and `pca`).
#[derive(Args, Debug, Clone)]
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
    /// Remote inputs: range requests in flight at once per file, 1 to 256 (a read that cannot
    /// connect, times out, is reset or cut short, or gets a 5xx/429 answer is retried 4 times
    /// with exponential backoff from 100 ms, then fails naming the URL and byte range).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_requests: u16,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// GeoTIFF overview to embed: 0 = full resolution, 1 = the largest overview (a
    /// reduced-resolution copy inside the file), 2 = the next, …; outputs carry its grid.
    #[arg(long, default_value_t = 0)]
    pub overview: usize,
    /// Most tokens per tile in one forward [default: from a 4 GiB attention budget per tile,
    /// 9459 for ViT-B/14 (a 1358² tile); or PANOPTICON_MAX_TOKENS]; a --tile over it is
    /// refused before any scene is read.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
}

impl SceneArgs {
    /// Checks the numbers that need no model or file, before any work that depends on them
    /// (a zero stride would never finish planning tiles).
    pub(super) fn check(&self) -> anyhow::Result<()> {
        if self.tile == 0 {
            bail!("--tile 0: must be a positive multiple of the patch size");
        }
        match self.stride {
            Some(0) => bail!("--stride 0: must be a positive multiple of the patch size"),
            Some(s) if s > self.tile => bail!(
                "--stride {s} is larger than --tile {}: the tiles would skip pixels",
                self.tile
            ),
            _ => {}
        }
        if self.batch == 0 {
            bail!("--batch 0: must be at least 1 tile per forward");
        }
        if self.max_tokens == Some(0) {
            bail!("--max-tokens 0: must be at least 1");
        }
        self.budget.check()
    }

    /// Applies --max-tokens and checks the tiling against the model's patch size (before any
    /// scene is read).
    pub(super) fn prepare_model(&self, model: &mut FrozenPanopticon) -> anyhow::Result<()> {
        if let Some(max) = self.max_tokens {
            model.set_max_tokens(max);
        }
        let p = model.config().patch_size;
        let stride = self.stride.unwrap_or(self.tile);
        for (flag, v) in [("--tile", self.tile), ("--stride", stride)] {
            if !v.is_multiple_of(p) {
                bail!(
                    "{flag} {v}: must be a multiple of the model's patch size {p} (e.g. {})",
                    (v / p).max(1) * p
                );
            }
        }
        Ok(())
    }

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

/// Channel ids of the file's bands, from --sensor/--bands, --wavelengths or --sar.
pub(super) fn channel_ids(args: &SceneArgs) -> anyhow::Result<Vec<f32>> {
    if let Some(sar) = &args.sar {
        if args.sensor.is_some() || args.bands.is_some() || args.wavelengths.is_some() {
            bail!("give either --sar or --sensor/--bands/--wavelengths, not both");
        }
        return sar
            .iter()
            .map(|t| match parse_channel("--sar", t)? {
                c if c.is_sar() => Ok(c.to_f32()),
                _ => bail!(
                    "--sar {}: not a SAR channel; use vv|vh|hh|hv[-asc|-desc]",
                    t.trim()
                ),
            })
            .collect();
    }
    match (&args.sensor, &args.bands, &args.wavelengths) {
        (None, None, Some(w)) => parse_channel_ids("--wavelengths", w),
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

/// One channel token of `flag` ([`ChannelId::parse`]: nm, or a SAR polarisation with an
/// optional orbit), the flag and token named in the error.
fn parse_channel(flag: &str, token: &str) -> anyhow::Result<ChannelId> {
    ChannelId::parse(token).with_context(|| format!("{flag} {}", token.trim()))
}

/// The model ids of `flag`'s tokens: the int16 ids upstream feeds the model
/// ([`ChannelId::to_f32`], wavelengths truncated as for `--sensor` bands).
pub(super) fn parse_channel_ids(flag: &str, tokens: &[String]) -> anyhow::Result<Vec<f32>> {
    tokens
        .iter()
        .map(|t| Ok(parse_channel(flag, t)?.to_f32()))
        .collect()
}
