//! Progress bars over tiles, and the note on tiles that were entirely no-data.

use std::path::Path;

use panopticon::FrozenPanopticon;
use panopticon::embed::{EmbedOptions, Embedded};

/// A progress bar over the tiles the sliding window will cut from an `h`×`w` scene.
pub(super) fn tile_bar(
    quiet: bool,
    label: &str,
    model: &FrozenPanopticon,
    (h, w): (usize, usize),
    opts: &EmbedOptions,
) -> indicatif::ProgressBar {
    let p = model.config().patch_size;
    let planned =
        panopticon::embed::plan_tiles(h.div_ceil(p) * p, w.div_ceil(p) * p, opts.tile, opts.stride);
    let bar = progress_bar(quiet, label);
    bar.set_length(planned.len() as u64);
    bar
}

pub(super) fn warn_skipped(path: &Path, out: &Embedded) {
    if out.skipped > 0 {
        eprintln!(
            "{}: {} of {} tiles are entirely no-data; their cls rows are NaN",
            path.display(),
            out.skipped,
            out.tiles.len()
        );
    }
}

/// A progress bar of tiles (hidden with `--quiet`).
pub(super) fn progress_bar(quiet: bool, msg: &str) -> indicatif::ProgressBar {
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
