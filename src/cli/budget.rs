//! `--max-pixels` / `--max-memory`: what one input may cost, estimated from its header (and the
//! options) before any pixel buffer is allocated, so a file of a few hundred bytes claiming
//! 4e9×4e9 pixels is refused instead of aborting on a failed allocation.

use std::path::Path;

use anyhow::bail;
use clap::Args;
use panopticon::data::ImageHeader;
use panopticon::data::readers::{Budget, DEFAULT_MAX_PIXELS};
use panopticon::embed::EmbedOptions;
use panopticon::{FrozenPanopticon, PanopticonConfig};

/// The budget options of `embed`, `pca` and `forward`.
#[derive(Args, Debug, Clone)]
pub struct BudgetArgs {
    /// Largest input accepted, in pixels (height × width), checked from the file's header
    /// before any pixel is read (4294967296 = a 65536² scene).
    #[arg(long, default_value_t = DEFAULT_MAX_PIXELS, value_name = "N")]
    pub max_pixels: u64,
    /// Most memory one input may need (its pixels as stored and as float, windows in flight,
    /// outputs, one batch's activations), estimated from the header before anything is
    /// allocated; bytes, or with a unit: 512M, 8G, 2GiB.
    #[arg(long, default_value = "8G", value_parser = parse_bytes, value_name = "BYTES")]
    pub max_memory: u64,
}

impl BudgetArgs {
    /// Refuses zero limits.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.max_pixels == 0 {
            bail!("--max-pixels 0: must be at least 1");
        }
        if self.max_memory == 0 {
            bail!("--max-memory 0: must be at least 1 byte");
        }
        Ok(())
    }

    /// The budget as the readers take it.
    pub fn budget(&self) -> Budget {
        Budget {
            max_pixels: self.max_pixels,
            max_bytes: self.max_memory,
        }
    }

    /// Refuses `header` of `path` when it is over `--max-pixels`, or `need` bytes are over
    /// `--max-memory`; the message names the flag to raise.
    pub fn check_input(&self, path: &Path, header: &ImageHeader, need: u64) -> anyhow::Result<()> {
        let flag = if header.pixels() > self.max_pixels {
            "--max-pixels"
        } else {
            "--max-memory"
        };
        self.budget()
            .check(path, header, need)
            .map_err(|e| anyhow::anyhow!("{e} (raise {flag} if the file is trusted)"))
    }
}

/// `512M`, `8G`, `2GiB`, `1.5g`, `123` (bytes); units are binary.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("unknown unit `{unit}`: use K, M, G or T")),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 512M or 8G"))?;
    let bytes = v * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{s}` is not a size such as 512M or 8G"));
    }
    Ok(bytes as u64)
}

/// Tiles along one axis of `len` pixels (as `plan_tiles` cuts them), without planning them.
fn tiles_along(len: usize, tile: usize, stride: usize) -> u64 {
    if len <= tile {
        1
    } else {
        ((len - tile).div_ceil(stride.max(1)) + 1) as u64
    }
}

/// Peak memory of embedding one scene of `header`, estimated: the pixels (`streamed`: three
/// windows of a row of tiles and the statistics windows; else the whole scene as stored, as
/// float and its no-data mask), the outputs (cls rows, dense map) and one batch's forward.
pub fn embed_need(
    header: &ImageHeader,
    streamed: bool,
    opts: &EmbedOptions,
    config: &PanopticonConfig,
) -> u64 {
    let p = config.patch_size.max(1);
    let (h, w) = (header.height, header.width);
    let (hp, wp) = (
        h.div_ceil(p).saturating_mul(p),
        w.div_ceil(p).saturating_mul(p),
    );
    // Stored, float and mask bytes per sample.
    let per_sample = header.sample_bytes as u64 + 4 + 1;
    let pixels = if streamed {
        let rows = 3 * opts.tile.min(h) + 2 * 256.min(h);
        (rows as u64)
            .saturating_mul(w as u64)
            .saturating_mul(header.bands as u64)
            .saturating_mul(per_sample)
    } else {
        header.samples().saturating_mul(per_sample)
    };
    let d = config.embed_dim as u64;
    let tiles = tiles_along(hp, opts.tile, opts.stride).saturating_mul(tiles_along(
        wp,
        opts.tile,
        opts.stride,
    ));
    let cls = tiles.saturating_mul(32 + 4 * d * (1 + opts.layers.len() as u64));
    let cells = ((hp / p) as u64).saturating_mul((wp / p) as u64);
    let dense = if opts.dense {
        cells.saturating_mul(4 * d + 4)
    } else {
        0
    };
    let (th, tw) = (opts.tile.min(hp), opts.tile.min(wp));
    let tokens = ((th / p) * (tw / p) + 1 + config.num_register_tokens) as u64;
    let per_image = ((header.bands * th * tw) as u64 * 4)
        .saturating_add(
            tokens
                .saturating_mul(tokens)
                .saturating_mul(4 * config.num_heads as u64),
        )
        .saturating_add(tokens.saturating_mul(16 * d));
    let batch = per_image.saturating_mul(opts.batch as u64);
    pixels
        .saturating_add(cls)
        .saturating_add(dense)
        .saturating_add(batch)
}

/// Refuses a tile side whose forward would hold more tokens than the model's cap, naming
/// `--tile` and the largest side that fits; `(h, w)` is the scene (a tile never exceeds it).
pub fn check_tile_tokens(
    model: &FrozenPanopticon,
    tile: usize,
    (h, w): (usize, usize),
) -> anyhow::Result<()> {
    let p = model.config().patch_size;
    let (th, tw) = (tile.min(h.div_ceil(p) * p), tile.min(w.div_ceil(p) * p));
    if model.check_image_size(th, tw).is_err() {
        let extra = 1 + model.config().num_register_tokens;
        let tokens = (th / p) * (tw / p) + extra;
        let side = ((model.max_tokens().saturating_sub(extra)) as f64).sqrt() as usize * p;
        bail!(
            "--tile {tile}: a {th}x{tw} tile makes {tokens} tokens per forward, over the cap of \
             {}; use a smaller --tile (at most {side} for this model), or raise the cap with \
             PANOPTICON_MAX_TOKENS",
            model.max_tokens()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_bytes("123").unwrap(), 123);
        assert_eq!(parse_bytes("512M").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("1.5g").unwrap(), 3 << 29);
        assert!(parse_bytes("8X").is_err());
        assert!(parse_bytes("-1G").is_err());
        assert!(parse_bytes("1e30G").is_err());
    }

    #[test]
    fn tiles_along_an_axis_match_the_plan() {
        for (len, tile, stride) in [(224, 224, 224), (500, 224, 168), (14, 224, 224)] {
            let planned = panopticon::embed::plan_tiles(len, 14, tile, stride).len() as u64;
            assert_eq!(
                tiles_along(len, tile, stride),
                planned,
                "{len} {tile} {stride}"
            );
        }
    }
}
