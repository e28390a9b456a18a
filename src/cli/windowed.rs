//! The streamed embedding of a scene read in row windows: scene statistics in a first pass,
//! then one window per row of tiles (shared by single GeoTIFFs and per-band stacks). Each pass
//! reads the next window on a background thread while the current one is used, so a slow
//! disk or network overlaps the model's compute.

use anyhow::Context;
use panopticon::FrozenPanopticon;
use panopticon::embed::{
    BandStats, EmbedError, EmbedOptions, Embedded, Norm, StatsAccumulator, Window, embed_streamed,
    tile_row_windows, with_read_ahead,
};

use super::progress::{progress_bar, tile_bar, warn_skipped};

/// A scene read window by window: `read(row0, rows)` returns `[C, rows, W]` raw values.
pub(super) struct RowSource<'a> {
    /// Names the scene in progress bars and errors.
    pub label: &'a str,
    /// `(C, H, W)`.
    pub shape: (usize, usize, usize),
    /// Stored no-data value (NaN always counts as no data).
    pub nodata: Option<f64>,
    /// Reads rows `row0 .. row0 + rows` (on a background thread, one window ahead).
    pub read: &'a mut (dyn FnMut(usize, usize) -> anyhow::Result<Vec<f32>> + Send),
}

/// Normalises (scene statistics from a first pass when `norm` is `scene`) and embeds `src`,
/// holding one window of rows in memory at a time.
pub(super) fn embed_rows(
    src: RowSource<'_>,
    model: &FrozenPanopticon,
    ids: &[f32],
    norm: &Norm,
    opts: &EmbedOptions,
    quiet: bool,
    progress_label: &str,
) -> anyhow::Result<Embedded> {
    let (bands, height, width) = src.shape;
    let nodata = src.nodata;
    let read = src.read;
    let stats = match norm {
        Norm::Scene => {
            let bar = progress_bar(quiet, &format!("{progress_label} (statistics)"));
            bar.set_length(height as u64);
            let mut acc = StatsAccumulator::new(bands, nodata);
            const ROWS: usize = 256;
            let windows: Vec<(usize, usize)> = (0..height)
                .step_by(ROWS)
                .map(|row0| (row0, ROWS.min(height - row0)))
                .collect();
            with_read_ahead(
                &windows,
                |row0, rows| Ok(read(row0, rows)?),
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
    let bar = tile_bar(quiet, progress_label, model, (height, width), opts);
    let windows = tile_row_windows((height, width), model.config().patch_size, opts);
    let out = with_read_ahead(
        &windows,
        |row0, rows| {
            let mut data = read(row0, rows)?;
            let nodata_mask = window_norm.apply(&mut data, bands, nodata)?;
            Ok(Window { data, nodata_mask })
        },
        |next| {
            let mut read_window = |row0: usize, rows: usize| -> Result<Window, EmbedError> {
                next(row0, rows).map_err(|source| EmbedError::Read { row0, rows, source })
            };
            embed_streamed(
                model,
                (bands, height, width),
                ids,
                opts,
                &mut read_window,
                &mut |done| bar.set_position(done as u64),
            )
        },
    )
    .with_context(|| format!("embedding {}", src.label))?;
    bar.finish_and_clear();
    warn_skipped(std::path::Path::new(src.label), &out);
    Ok(out)
}
