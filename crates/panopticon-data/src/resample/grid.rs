//! The target grid all bands are resampled onto.

use super::error::ResampleError;
use crate::readers::GeoTransform;

/// A north-up pixel grid: GDAL geotransform `[x0, px, 0, y0, 0, -py]` of the top-left corner,
/// size in pixels, and CRS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Pixel-corner geotransform.
    pub transform: GeoTransform,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// EPSG code of the CRS, when known.
    pub epsg: Option<u32>,
}

/// Tolerance, in pixels, for calling two lattice positions equal (float round-off of
/// coordinates like 399960.0 + 10980 × 10).
const EPS: f64 = 1e-6;

impl Grid {
    /// Checks that the grid is north-up and unrotated; `band` labels the error.
    pub fn check_north_up(&self, band: &str) -> Result<(), ResampleError> {
        let t = self.transform;
        // Written so that NaN pixel sizes are refused too.
        let north_up = t[2] == 0.0 && t[4] == 0.0 && t[1] > 0.0 && t[5] < 0.0;
        if !north_up {
            return Err(ResampleError::Rotated {
                band: band.to_string(),
            });
        }
        Ok(())
    }

    /// Pixel width and height in CRS units (both positive).
    pub fn resolution(&self) -> (f64, f64) {
        (self.transform[1], -self.transform[5])
    }

    /// `[minx, miny, maxx, maxy]`.
    pub fn bounds(&self) -> [f64; 4] {
        let t = self.transform;
        let (px, py) = self.resolution();
        [
            t[0],
            t[3] - self.height as f64 * py,
            t[0] + self.width as f64 * px,
            t[3],
        ]
    }
}

/// The grid every band is brought onto.
///
/// * Extent: the **intersection** of the bands' extents (every output pixel has every band),
///   shrunk to whole pixels of the finest band's lattice. When all bands cover the same area
///   (Sentinel-2 and Landsat tiles) this is simply that area.
/// * Pixel size: the finest band's (smallest pixel area; the first such band on a tie), on that
///   band's pixel lattice — or `resolution` (square pixels) anchored at the extent's top-left
///   corner, the partial last column/row dropped.
///
/// All bands must share one CRS and be north-up; `labels` name them in errors.
pub fn target_grid(
    bands: &[(String, Grid)],
    resolution: Option<f64>,
) -> Result<Grid, ResampleError> {
    let (_, first) = bands.first().ok_or(ResampleError::Empty)?;
    for (label, g) in bands {
        g.check_north_up(label)?;
    }
    if bands.iter().any(|(_, g)| g.epsg != first.epsg) {
        let listing = bands
            .iter()
            .map(|(l, g)| match g.epsg {
                Some(e) => format!("{l} (EPSG:{e})"),
                None => format!("{l} (no EPSG code)"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ResampleError::MixedCrs { listing });
    }
    if let Some(r) = resolution
        && !(r.is_finite() && r > 0.0)
    {
        return Err(ResampleError::BadResolution { value: r });
    }
    let finest = bands
        .iter()
        .map(|(_, g)| g)
        .min_by(|a, b| {
            let (ax, ay) = a.resolution();
            let (bx, by) = b.resolution();
            (ax * ay).total_cmp(&(bx * by))
        })
        .unwrap_or(first);
    let mut inter = first.bounds();
    for (_, g) in bands {
        let b = g.bounds();
        inter = [
            inter[0].max(b[0]),
            inter[1].max(b[1]),
            inter[2].min(b[2]),
            inter[3].min(b[3]),
        ];
    }
    // Snap inwards to the finest band's pixel lattice.
    let (px, py) = finest.resolution();
    let (ox, oy) = (finest.transform[0], finest.transform[3]);
    let left = ox + (((inter[0] - ox) / px) - EPS).ceil() * px;
    let right = ox + (((inter[2] - ox) / px) + EPS).floor() * px;
    let top = oy - (((oy - inter[3]) / py) - EPS).ceil() * py;
    let bottom = oy - (((oy - inter[1]) / py) + EPS).floor() * py;
    let (rx, ry) = resolution.map_or((px, py), |r| (r, r));
    let width = (((right - left) / rx) + EPS).floor();
    let height = (((top - bottom) / ry) + EPS).floor();
    if !(width >= 1.0 && height >= 1.0) {
        let listing = bands
            .iter()
            .map(|(l, g)| {
                let b = g.bounds();
                format!("{l} [{}, {}, {}, {}]", b[0], b[1], b[2], b[3])
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ResampleError::NoOverlap { listing });
    }
    Ok(Grid {
        transform: [left, rx, 0.0, top, 0.0, -ry],
        width: width as usize,
        height: height as usize,
        epsg: first.epsg,
    })
}
