//! Per-band rasters at mixed resolutions brought onto one target grid, window by window.
//!
//! A scene published as one file per band (Sentinel-2 at 10, 20 and 60 m; Landsat at 15, 30
//! and 100 m) is read through a [`BandStack`]: every band is resampled onto the
//! [`target_grid`] — area-average when the band is finer than the grid (as `gdalwarp -r
//! average`), bilinear otherwise (as `gdalwarp -r bilinear`) — for one window of grid rows at
//! a time, reading only the source rows that window needs.

mod error;
mod grid;
mod stack;
mod taps;

pub use error::ResampleError;
pub use grid::{Grid, target_grid};
pub use stack::{BandReader, BandSource, BandStack, Method};
