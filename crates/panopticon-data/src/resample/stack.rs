//! Several single-band rasters read as one `[C, rows, W]` window on the target grid.

use std::io::{Read, Seek};

use super::error::ResampleError;
use super::grid::{Grid, target_grid};
use super::taps::Taps;
use crate::readers::{GeoTiff, ReadError};

/// A single-band raster whose pixels can be read window by window.
pub trait BandReader {
    /// `rows`×`cols` samples from (`row0`, `col0`) as `f32`, row-major; the window lies
    /// inside the raster.
    fn read_band(
        &mut self,
        row0: usize,
        col0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, ReadError>;
}

impl<R: Read + Seek> BandReader for GeoTiff<R> {
    fn read_band(
        &mut self,
        row0: usize,
        col0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Vec<f32>, ReadError> {
        // Pixels outside the file's internal mask come back as NaN: no-data from here on.
        self.read_f32(row0, col0, rows, cols)
    }
}

/// One band of a stack: where its pixels come from and how stored values become physical ones.
pub struct BandSource {
    /// Names the band in errors (`B04`, the STAC asset key, the file).
    pub label: String,
    /// The pixels.
    pub reader: Box<dyn BandReader + Send>,
    /// The band's own grid.
    pub grid: Grid,
    /// Stored value meaning "no data" (excluded from resampling; NaN in the output).
    pub nodata: Option<f64>,
    /// `physical = stored × scale + offset` (STAC `raster:bands`; 1 and 0 when absent).
    pub scale: f64,
    /// See `scale`.
    pub offset: f64,
}

impl BandSource {
    /// A band from an open single-band GeoTIFF, with its own no-data value and no scaling.
    pub fn from_geotiff<R: Read + Seek + Send + 'static>(
        label: impl Into<String>,
        tif: GeoTiff<R>,
    ) -> Result<Self, ResampleError> {
        let label = label.into();
        if tif.bands != 1 {
            return Err(ResampleError::MultiBand {
                band: label,
                bands: tif.bands,
            });
        }
        let transform = tif
            .geotransform
            .ok_or_else(|| ResampleError::NotGeoreferenced {
                band: label.clone(),
            })?;
        let grid = Grid {
            transform,
            width: tif.width,
            height: tif.height,
            epsg: tif.epsg,
        };
        Ok(Self {
            label,
            grid,
            nodata: tif.nodata,
            scale: 1.0,
            offset: 0.0,
            reader: Box::new(tif),
        })
    }
}

/// How a band is brought onto the target grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The band is finer than the grid: area-weighted average (`gdalwarp -r average`).
    Average,
    /// The band is as coarse or coarser: bilinear (`gdalwarp -r bilinear`).
    Bilinear,
    /// The band's pixels are the grid's (same size, whole-pixel offset): bilinear taps of
    /// weight 1, i.e. the values as they are.
    Aligned,
}

struct Plan {
    method: Method,
    cols: Taps,
    rows: Taps,
}

/// Single-band rasters at mixed resolutions, read as windows of the common target grid.
///
/// # Shapes
/// [`Self::read_rows`] returns `[C, rows, W]` (`C` bands in the order given, `W` the grid
/// width), no-data as NaN.
pub struct BandStack {
    sources: Vec<BandSource>,
    plans: Vec<Plan>,
    /// The target grid (see [`target_grid`]).
    pub grid: Grid,
}

impl BandStack {
    /// Plans the resampling of every band onto [`target_grid`] of the bands at `resolution`.
    pub fn new(sources: Vec<BandSource>, resolution: Option<f64>) -> Result<Self, ResampleError> {
        let grids: Vec<(String, Grid)> =
            sources.iter().map(|s| (s.label.clone(), s.grid)).collect();
        let grid = target_grid(&grids, resolution)?;
        let (dx, dy) = grid.resolution();
        let plans = sources
            .iter()
            .map(|s| {
                let (sx, sy) = s.grid.resolution();
                let st = s.grid.transform;
                let finer = sx < dx * (1.0 - 1e-9) || sy < dy * (1.0 - 1e-9);
                let col_origin = (grid.transform[0] - st[0]) / sx;
                let row_origin = (st[3] - grid.transform[3]) / sy;
                let whole = |v: f64| (v - v.round()).abs() < 1e-9;
                let same = (sx - dx).abs() <= dx * 1e-9 && (sy - dy).abs() <= dy * 1e-9;
                let method = if finer {
                    Method::Average
                } else if same && whole(col_origin) && whole(row_origin) {
                    Method::Aligned
                } else {
                    Method::Bilinear
                };
                let taps = match method {
                    Method::Average => Taps::average,
                    Method::Bilinear | Method::Aligned => Taps::bilinear,
                };
                Plan {
                    method,
                    cols: taps(grid.width, col_origin, dx / sx, s.grid.width),
                    rows: taps(grid.height, row_origin, dy / sy, s.grid.height),
                }
            })
            .collect();
        Ok(Self {
            sources,
            plans,
            grid,
        })
    }

    /// Number of bands `C`.
    pub fn bands(&self) -> usize {
        self.sources.len()
    }

    /// Each band's label and how it is resampled.
    pub fn methods(&self) -> Vec<(&str, Method)> {
        self.sources
            .iter()
            .zip(&self.plans)
            .map(|(s, p)| (s.label.as_str(), p.method))
            .collect()
    }

    /// Grid rows `row0 .. row0 + rows` of every band, `[C, rows, W]`, no-data as NaN. Each band
    /// reads only the source rows and columns those grid rows need.
    pub fn read_rows(&mut self, row0: usize, rows: usize) -> Result<Vec<f32>, ResampleError> {
        let w = self.grid.width;
        let rows = rows.min(self.grid.height.saturating_sub(row0));
        let mut out = vec![f32::NAN; self.sources.len() * rows * w];
        for ((src, plan), band_out) in self
            .sources
            .iter_mut()
            .zip(&self.plans)
            .zip(out.chunks_mut((rows * w).max(1)))
        {
            let (r_lo, r_hi) = plan.rows.span(row0..row0 + rows);
            let (c_lo, c_hi) = plan.cols.span(0..w);
            if r_hi <= r_lo || c_hi <= c_lo {
                continue;
            }
            let (sr, sc) = (r_hi - r_lo, c_hi - c_lo);
            let mut window = src.reader.read_band(r_lo, c_lo, sr, sc)?;
            for v in &mut window {
                *v = if v.is_nan() || src.nodata.is_some_and(|nd| f64::from(*v) == nd) {
                    f32::NAN
                } else {
                    (f64::from(*v) * src.scale + src.offset) as f32
                };
            }
            resample_rows(&window, sc, (r_lo, c_lo), plan, row0, rows, w, band_out);
        }
        Ok(out)
    }
}

/// Weighted sums of the 2-D taps, renormalised over valid (non-NaN) source pixels as GDAL
/// does; a target pixel without valid taps stays NaN.
#[allow(clippy::too_many_arguments)]
fn resample_rows(
    window: &[f32],
    window_cols: usize,
    (r_lo, c_lo): (usize, usize),
    plan: &Plan,
    row0: usize,
    rows: usize,
    width: usize,
    out: &mut [f32],
) {
    for r in 0..rows {
        let (fr, wr) = plan.rows.get(row0 + r);
        for c in 0..width {
            let (fc, wc) = plan.cols.get(c);
            let (mut acc, mut wsum) = (0.0f64, 0.0f64);
            for (i, &wy) in wr.iter().enumerate() {
                let line = &window[(fr + i - r_lo) * window_cols..];
                for (j, &wx) in wc.iter().enumerate() {
                    let v = line[fc + j - c_lo];
                    let wgt = wy * wx;
                    if !v.is_nan() && wgt > 0.0 {
                        acc += wgt * f64::from(v);
                        wsum += wgt;
                    }
                }
            }
            // GDAL's bilinear kernel treats accumulated weights below 1e-6 as no data.
            if wsum > 1e-6 {
                out[r * width + c] = (acc / wsum) as f32;
            }
        }
    }
}
