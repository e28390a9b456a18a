//! The streamed embedding of a scene read in row windows: scene statistics in a first pass,
//! then one window per row of tiles (shared by single GeoTIFFs and per-band stacks).

use anyhow::Context;
use panopticon::Panopticon;
use panopticon::embed::{
    BandStats, EmbedError, EmbedOptions, Embedded, Norm, StatsAccumulator, Window, embed_streamed,
};

use super::embed::{progress_bar, tile_bar, warn_skipped};

/// A scene read window by window: `read(row0, rows)` returns `[C, rows, W]` raw values.
pub(super) struct RowSource<'a> {
    /// Names the scene in progress bars and errors.
    pub label: &'a str,
    /// `(C, H, W)`.
    pub shape: (usize, usize, usize),
    /// Stored no-data value (NaN always counts as no data).
    pub nodata: Option<f64>,
    /// Reads rows `row0 .. row0 + rows`.
    pub read: &'a mut dyn FnMut(usize, usize) -> anyhow::Result<Vec<f32>>,
}

/// Normalises (scene statistics from a first pass when `norm` is `scene`) and embeds `src`,
/// holding one window of rows in memory at a time.
pub(super) fn embed_rows(
    src: RowSource<'_>,
    model: &Panopticon,
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
            for row0 in (0..height).step_by(ROWS) {
                let rows = ROWS.min(height - row0);
                acc.add(&read(row0, rows)?);
                bar.set_position((row0 + rows) as u64);
            }
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
    let mut read_window = |row0: usize, rows: usize| -> Result<Window, EmbedError> {
        let boxed = |e: Box<dyn std::error::Error + Send + Sync>| EmbedError::Read {
            row0,
            rows,
            source: e,
        };
        let mut data = read(row0, rows).map_err(|e| boxed(e.into()))?;
        let nodata_mask = window_norm
            .apply(&mut data, bands, nodata)
            .map_err(|e| boxed(e.into()))?;
        Ok(Window { data, nodata_mask })
    };
    let out = embed_streamed(
        model,
        (bands, height, width),
        ids,
        opts,
        &mut read_window,
        &mut |done| bar.set_position(done as u64),
    )
    .with_context(|| format!("embedding {}", src.label))?;
    bar.finish_and_clear();
    warn_skipped(std::path::Path::new(src.label), &out);
    Ok(out)
}
