//! The sliding-window embedding of one scene.

use burn::prelude::*;
use panopticon_model::{
    ChannelIds, FrozenPanopticon, LayerSelection, PanopticonError, PanopticonInput,
};

use super::tiling::{Tile, plan_tiles};

/// Errors of [`embed_scene`] and [`embed_streamed`].
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model refused the input or the options.
    #[error(transparent)]
    Model(#[from] PanopticonError),
    /// Reading a window of the scene failed.
    #[error("reading rows {row0}..{} of the scene: {source}", row0 + rows)]
    Read {
        /// First row of the window.
        row0: usize,
        /// Rows in the window.
        rows: usize,
        /// What the reader reported.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One horizontal band of the scene, as [`embed_streamed`]'s reader returns it.
#[derive(Debug, Clone)]
pub struct Window {
    /// Normalised samples `[C, rows, W]` (full scene width).
    pub data: Vec<f32>,
    /// `[C, rows, W]`, true where the raw value was no-data; `None` when there is none.
    pub nodata_mask: Option<Vec<bool>>,
}

/// How a scene is cut and batched.
#[derive(Debug, Clone)]
pub struct EmbedOptions {
    /// Tile side in pixels (a multiple of the patch size).
    pub tile: usize,
    /// Step between tiles in pixels (a multiple of the patch size; < `tile` overlaps).
    pub stride: usize,
    /// Tiles per forward pass.
    pub batch: usize,
    /// Also stitch the dense patch-feature map.
    pub dense: bool,
    /// Blocks (0-based) whose normalised cls tokens are kept too, as in DINOv2's
    /// `get_intermediate_layers(norm=True)`; empty for none.
    pub layers: Vec<usize>,
}

/// The embeddings of one scene.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The tiles, in the order of `cls` rows (pixels of the scene padded to the patch grid).
    pub tiles: Vec<Tile>,
    /// `[N, D]` normalised cls embedding per tile; NaN rows for tiles without any valid pixel.
    pub cls: Vec<f32>,
    /// Tiles skipped because every channel was no-data there.
    pub skipped: usize,
    /// Embedding width `D`.
    pub dim: usize,
    /// Patch grid of the whole scene `(rows, cols)` = ⌈H/P⌉ × ⌈W/P⌉.
    pub grid: (usize, usize),
    /// `[D, rows, cols]` patch features, overlapping tiles averaged (when asked for).
    pub dense: Option<Vec<f32>>,
    /// Per block of [`EmbedOptions::layers`]: `(block, [N, D] cls)`, NaN rows as in `cls`.
    pub layers: Vec<(usize, Vec<f32>)>,
}

/// Embeds a normalised `[C, H, W]` scene held in memory; see [`embed_streamed`].
pub fn embed_scene(
    model: &FrozenPanopticon,
    data: &[f32],
    dims: (usize, usize, usize),
    chn_ids: &[f32],
    nodata_mask: Option<&[bool]>,
    opts: &EmbedOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Embedded, EmbedError> {
    let (bands, height, width) = dims;
    if data.len() != bands * height * width {
        return Err(PanopticonError::Input(format!(
            "{} samples for a {bands}×{height}×{width} scene",
            data.len()
        ))
        .into());
    }
    // Rows `row0..row0 + rows` of every band plane.
    fn rows_of<T: Copy>(
        v: &[T],
        (bands, height, width): (usize, usize, usize),
        row0: usize,
        rows: usize,
    ) -> Vec<T> {
        (0..bands)
            .flat_map(|b| {
                let start = (b * height + row0) * width;
                v[start..start + rows * width].iter().copied()
            })
            .collect()
    }
    let mut read = |row0: usize, rows: usize| -> Result<Window, EmbedError> {
        Ok(Window {
            data: rows_of(data, dims, row0, rows),
            nodata_mask: nodata_mask.map(|m| rows_of(m, dims, row0, rows)),
        })
    };
    embed_streamed(model, dims, chn_ids, opts, &mut read, progress)
}

/// The windows [`embed_streamed`] reads, in order: `(row0, rows)` of each row of tiles of an
/// `height`×`width` scene with patch size `patch`.
pub fn tile_row_windows(
    (height, width): (usize, usize),
    patch: usize,
    opts: &EmbedOptions,
) -> Vec<(usize, usize)> {
    if patch == 0 || opts.tile == 0 || opts.stride == 0 || height < patch || width < patch {
        return Vec::new(); // embed_streamed refuses these before reading anything
    }
    let (hp, wp) = (
        height.div_ceil(patch) * patch,
        width.div_ceil(patch) * patch,
    );
    let tiles = plan_tiles(hp, wp, opts.tile, opts.stride);
    tiles
        .chunk_by(|a, b| a.row == b.row)
        .map(|row| (row[0].row, row[0].height.min(height - row[0].row)))
        .collect()
}

/// Embeds a scene tile by tile, reading it one horizontal window at a time (`read(row0,
/// rows)` returns rows `row0..row0 + rows` of the normalised scene), so memory holds one row
/// of tiles, not the scene.
///
/// The scene is padded to a multiple of the patch size by repeating its last row and column
/// (so the edge pixels get features; the patch grid starts at the scene's origin). A channel
/// that is no-data over a whole tile is masked out of that tile with `spec_masks`; tiles where
/// every channel is no-data are skipped. `progress` gets the number of tiles done.
pub fn embed_streamed(
    model: &FrozenPanopticon,
    (bands, height, width): (usize, usize, usize),
    chn_ids: &[f32],
    opts: &EmbedOptions,
    read: &mut dyn FnMut(usize, usize) -> Result<Window, EmbedError>,
    progress: &mut dyn FnMut(usize),
) -> Result<Embedded, EmbedError> {
    let p = model.config().patch_size;
    if opts.tile == 0
        || !opts.tile.is_multiple_of(p)
        || opts.stride == 0
        || !opts.stride.is_multiple_of(p)
    {
        return Err(PanopticonError::Input(format!(
            "tile ({}) and stride ({}) must be positive multiples of the patch size {p}",
            opts.tile, opts.stride
        ))
        .into());
    }
    if opts.batch == 0 {
        return Err(
            PanopticonError::Input("batch must be at least 1 tile per forward".into()).into(),
        );
    }
    if chn_ids.len() != bands {
        return Err(PanopticonError::Input(format!(
            "{} channel ids for a {bands}-band scene",
            chn_ids.len()
        ))
        .into());
    }
    if height < p || width < p {
        return Err(PanopticonError::ImageTooSmall {
            height,
            width,
            patch: p,
        }
        .into());
    }
    let (hp, wp) = (height.div_ceil(p) * p, width.div_ceil(p) * p);
    let tiles = plan_tiles(hp, wp, opts.tile, opts.stride);
    let (th, tw) = (tiles[0].height, tiles[0].width);
    let grid = (hp / p, wp / p);
    let device = model.device();

    let mut dim = 0;
    let mut cls = Vec::new();
    let mut skipped = 0;
    let mut dense_sum: Vec<f32> = Vec::new();
    let mut dense_count = vec![0u32; grid.0 * grid.1];
    let mut layers: Vec<(usize, Vec<f32>)> = opts.layers.iter().map(|&b| (b, Vec::new())).collect();
    // The last block's normalised tokens are `forward_features`' outputs: one pass serves both.
    let last = model.depth() - 1;
    let mut wanted = opts.layers.clone();
    wanted.push(last);
    wanted.sort_unstable();
    wanted.dedup();
    let mut done = 0;
    // Tiles are row-major: one window per distinct tile row.
    for row_tiles in tiles.chunk_by(|a, b| a.row == b.row) {
        let row0 = row_tiles[0].row;
        let rows = th.min(height - row0);
        let win = read(row0, rows)?;
        if win.data.len() != bands * rows * width {
            return Err(PanopticonError::Input(format!(
                "the reader returned {} samples for {bands}×{rows}×{width}",
                win.data.len()
            ))
            .into());
        }
        for chunk in row_tiles.chunks(opts.batch) {
            let mut pixels = Vec::with_capacity(chunk.len() * bands * th * tw);
            let mut masks = Vec::with_capacity(chunk.len() * bands);
            let mut keep = Vec::with_capacity(chunk.len());
            for t in chunk {
                let tile_masks = cut(&win, (bands, rows, width), row0, t, &mut pixels);
                keep.push(!tile_masks.iter().all(|&m| m));
                masks.extend(tile_masks);
            }
            let n = chunk.len();
            // Tiles without any valid channel still go through the model (batch shapes stay
            // fixed) with nothing masked; their outputs are dropped below.
            for (i, k) in keep.iter().enumerate() {
                if !k {
                    masks[i * bands..(i + 1) * bands].fill(false);
                }
            }
            let masks = masks.iter().any(|&m| m).then_some(masks);
            let ids = ChannelIds::shared(chn_ids, n)?;
            let input =
                PanopticonInput::from_host(pixels, [n, bands, th, tw], ids, masks, &device)?;
            let (final_cls, final_patches, extra) = if opts.layers.is_empty() {
                let ff = model.forward_features(&input, None)?;
                (ff.x_norm_clstoken, ff.x_norm_patchtokens, Vec::new())
            } else {
                let mut out = model.intermediate_layers(
                    &input,
                    LayerSelection::Indices(wanted.clone()),
                    true,
                )?;
                let fin = out.pop().expect("the last block is always requested");
                let extra: Vec<_> = out.into_iter().chain([fin.clone()]).collect();
                (fin.cls, fin.patches, extra)
            };
            let c = host(final_cls, "embeddings")?;
            dim = c.len() / n;
            let keep_rows = |dst: &mut Vec<f32>, c: &[f32]| {
                for (i, k) in keep.iter().enumerate() {
                    if *k {
                        dst.extend_from_slice(&c[i * dim..(i + 1) * dim]);
                    } else {
                        dst.extend(std::iter::repeat_n(f32::NAN, dim));
                    }
                }
            };
            keep_rows(&mut cls, &c);
            for l in extra {
                if let Some((_, dst)) = layers.iter_mut().find(|(b, _)| *b == l.block) {
                    keep_rows(dst, &host(l.cls, "intermediate embeddings")?);
                }
            }
            skipped += keep.iter().filter(|k| !**k).count();
            if opts.dense {
                let patches = host(final_patches, "patch features")?;
                if dense_sum.is_empty() {
                    dense_sum = vec![0.0; dim * grid.0 * grid.1];
                }
                let (gr, gc) = (th / p, tw / p);
                for (i, t) in chunk.iter().enumerate().filter(|(i, _)| keep[*i]) {
                    let tile = &patches[i * gr * gc * dim..(i + 1) * gr * gc * dim];
                    for r in 0..gr {
                        for c in 0..gc {
                            let cell = (t.row / p + r) * grid.1 + t.col / p + c;
                            dense_count[cell] += 1;
                            let token = &tile[(r * gc + c) * dim..(r * gc + c + 1) * dim];
                            for (d, v) in token.iter().enumerate() {
                                dense_sum[d * grid.0 * grid.1 + cell] += v;
                            }
                        }
                    }
                }
            }
            done += n;
            progress(done);
        }
    }
    let dense = opts.dense.then(|| {
        let cells = grid.0 * grid.1;
        for (i, v) in dense_sum.iter_mut().enumerate() {
            let k = dense_count[i % cells];
            *v = if k > 0 { *v / k as f32 } else { f32::NAN };
        }
        dense_sum
    });
    Ok(Embedded {
        tiles,
        cls,
        skipped,
        dim,
        grid,
        dense,
        layers,
    })
}

/// A tensor's values on the host.
fn host<const D: usize>(t: Tensor<D>, what: &str) -> Result<Vec<f32>, PanopticonError> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| PanopticonError::Input(format!("reading {what}: {e:?}")))
}

/// Appends tile `t` (edge-replicated beyond the scene) from the window starting at scene row
/// `row0` to `out` as `[C, th, tw]`, and returns, per channel, whether the tile has no valid
/// pixel.
fn cut(
    win: &Window,
    (bands, rows, width): (usize, usize, usize),
    row0: usize,
    t: &Tile,
    out: &mut Vec<f32>,
) -> Vec<bool> {
    let mut all_nodata = vec![true; bands];
    for (b, flag) in all_nodata.iter_mut().enumerate() {
        let plane = b * rows * width;
        for r in t.row..t.row + t.height {
            // Rows past the scene repeat its last row, which is the window's last row.
            let row = plane + (r - row0).min(rows - 1) * width;
            for c in t.col..t.col + t.width {
                let i = row + c.min(width - 1);
                out.push(win.data[i]);
                if *flag && !win.nodata_mask.as_ref().is_some_and(|m| m[i]) {
                    *flag = false;
                }
            }
        }
    }
    all_nodata
}
