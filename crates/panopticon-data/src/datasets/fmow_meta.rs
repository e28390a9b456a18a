//! FMoW footprint metadata (spec §5.4): one Parquet row per location with aligned list
//! columns describing its views, and upstream's row/view filters.

use std::path::Path;

use super::error::DatasetError;
use super::fmow_sensor::FmowSensor;
use crate::readers::ParquetTable;

/// One view (acquisition) of a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmowView {
    /// Image path relative to the dataset root (`$RDIR/datasets`).
    pub path: String,
    /// Source.
    pub sensor: FmowSensor,
    /// Image height in pixels (`img_height`).
    pub height: usize,
    /// Image width in pixels (`img_width`).
    pub width: usize,
}

impl FmowView {
    /// `min(height, width)` (upstream's derived `img_size`).
    pub fn img_size(&self) -> usize {
        self.height.min(self.width)
    }
}

/// A location: its metadata row and the views that survived the filters, in list order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmowLocation {
    /// 0-based row in the metadata file.
    pub row: usize,
    /// The views.
    pub views: Vec<FmowView>,
}

/// Which side the `min_img_size` / `max_img_size` filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImgSizeFilter {
    /// Both sides within the bounds (what the table name "min42max1024" means: image sides
    /// between 42 and 1024 px). The default: upstream's height-only test looks like an
    /// oversight, and no upstream configuration sets these bounds.
    #[default]
    BothSides,
    /// Upstream: the height only (`img_height`), so a 1000×2000 image passes
    /// `max_img_size = 1024`. For parity.
    Height,
}

/// The row/view filters applied at load (upstream `FmowDataset._subset`), in upstream order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FmowFilters {
    /// Views of other sources are dropped (no effect when all three are kept).
    pub keep_sensors: Vec<FmowSensor>,
    /// Views whose `path` equals one of these are dropped.
    pub relpaths_to_drop: Vec<String>,
    /// Views smaller than this are dropped (see [`ImgSizeFilter`]).
    pub min_img_size: Option<usize>,
    /// Views larger than this are dropped.
    pub max_img_size: Option<usize>,
    /// Side(s) the two bounds above test.
    pub img_size_filter: ImgSizeFilter,
    /// Rows without any view with `img_size >= max_crop` are dropped.
    pub max_crop: Option<usize>,
    /// Views with `img_size < min_crop` are dropped (after the `max_crop` row filter, as
    /// upstream).
    pub min_crop: Option<usize>,
    /// Rows with fewer views than this are dropped (`num_sens`).
    pub min_views: usize,
    /// Rows with fewer distinct sources than this are dropped ("unique" view selection).
    pub min_distinct_sensors: usize,
}

impl FmowFilters {
    /// The views of one location that pass, or `None` if the row is dropped.
    pub fn apply(&self, mut views: Vec<FmowView>) -> Option<Vec<FmowView>> {
        if !FmowSensor::ALL
            .iter()
            .all(|s| self.keep_sensors.contains(s))
        {
            views.retain(|v| self.keep_sensors.contains(&v.sensor));
        }
        if !self.relpaths_to_drop.is_empty() {
            views.retain(|v| !self.relpaths_to_drop.contains(&v.path));
        }
        if self.min_img_size.is_some() || self.max_img_size.is_some() {
            let (lo, hi) = (
                self.min_img_size.unwrap_or(0),
                self.max_img_size.unwrap_or(usize::MAX),
            );
            let within = |s: usize| lo <= s && s <= hi;
            views.retain(|v| match self.img_size_filter {
                ImgSizeFilter::Height => within(v.height),
                ImgSizeFilter::BothSides => within(v.height) && within(v.width),
            });
        }
        if let Some(max_crop) = self.max_crop
            && !views.iter().any(|v| v.img_size() >= max_crop)
        {
            return None;
        }
        if let Some(min_crop) = self.min_crop {
            views.retain(|v| v.img_size() >= min_crop);
        }
        if views.len() < self.min_views.max(1) {
            return None;
        }
        let mut distinct: Vec<FmowSensor> = views.iter().map(|v| v.sensor).collect();
        distinct.sort_by_key(|s| s.name());
        distinct.dedup();
        (distinct.len() >= self.min_distinct_sensors).then_some(views)
    }
}

/// Reads the footprint table: columns `path`, `sensor` (lists of strings) and `img_height`,
/// `img_width` (lists of integers), aligned per row. Other columns (`img_id`, `gsd`,
/// `timestamp`, …) are not read: upstream never returns them.
///
/// Errors: [`DatasetError::Parquet`] for an unreadable table, a missing column or a wrong
/// column type; [`DatasetError::MetadataRow`] for lists of different lengths, an unknown
/// source name or a negative size.
pub fn read_fmow_metadata(path: &Path) -> Result<Vec<Vec<FmowView>>, DatasetError> {
    let table = ParquetTable::open(path)?;
    let paths: Vec<Vec<String>> = table.column("path")?;
    let sensors: Vec<Vec<String>> = table.column("sensor")?;
    let heights: Vec<Vec<i64>> = table.column("img_height")?;
    let widths: Vec<Vec<i64>> = table.column("img_width")?;
    let mut rows = Vec::with_capacity(paths.len());
    for (r, (((p, s), h), w)) in paths
        .into_iter()
        .zip(sensors)
        .zip(heights)
        .zip(widths)
        .enumerate()
    {
        let bad = |message: String| DatasetError::MetadataRow {
            path: path.to_path_buf(),
            row: r,
            message,
        };
        if s.len() != p.len() || h.len() != p.len() || w.len() != p.len() {
            return Err(bad(format!(
                "list columns disagree in length: path {}, sensor {}, img_height {}, \
                 img_width {}",
                p.len(),
                s.len(),
                h.len(),
                w.len()
            )));
        }
        let size = |v: i64, what: &str| {
            usize::try_from(v).map_err(|_| bad(format!("{what} {v} is negative")))
        };
        let mut views = Vec::with_capacity(p.len());
        for (k, (((path, sensor), height), width)) in p.into_iter().zip(s).zip(h).zip(w).enumerate()
        {
            let sensor = FmowSensor::parse(&sensor).ok_or_else(|| {
                bad(format!(
                    "view {k} has unknown sensor `{sensor}`; use wv23, s2 or rgb"
                ))
            })?;
            views.push(FmowView {
                path,
                sensor,
                height: size(height, "img_height")?,
                width: size(width, "img_width")?,
            });
        }
        rows.push(views);
    }
    Ok(rows)
}
