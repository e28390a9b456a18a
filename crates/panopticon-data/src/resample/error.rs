//! Errors of the band stack.

use crate::readers::ReadError;

/// Errors raised while building or reading a [`super::BandStack`]; each names the band.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    /// A band's file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A per-band input holds more than one band.
    #[error("band {band}: the file has {bands} bands; per-band inputs must be single-band files")]
    MultiBand {
        /// The band's label.
        band: String,
        /// How many bands the file has.
        bands: usize,
    },
    /// A band has no geotransform, so it cannot be placed next to the others.
    #[error(
        "band {band}: the file is not georeferenced (no geotransform), so it cannot be aligned with the other bands"
    )]
    NotGeoreferenced {
        /// The band's label.
        band: String,
    },
    /// A band's grid is rotated or not north-up.
    #[error(
        "band {band}: rotated or south-up grids are not supported (warp it north-up first, e.g. gdalwarp)"
    )]
    Rotated {
        /// The band's label.
        band: String,
    },
    /// The bands are not all in one CRS (no silent reprojection).
    #[error(
        "the bands are in different CRSs: {listing}; reproject them to one CRS first (gdalwarp -t_srs)"
    )]
    MixedCrs {
        /// `band (EPSG:n)` for every band.
        listing: String,
    },
    /// The bands' extents do not overlap.
    #[error("the bands do not overlap: {listing}")]
    NoOverlap {
        /// `band [minx, miny, maxx, maxy]` for every band.
        listing: String,
    },
    /// `--resolution` is not a positive number of CRS units.
    #[error("resolution {value} must be a positive number of CRS units (metres for UTM)")]
    BadResolution {
        /// The value given.
        value: f64,
    },
    /// No band was given.
    #[error("no bands to stack")]
    Empty,
}
