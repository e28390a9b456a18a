//! BigEarthNet v2 from its raw folders (spec §5.9, upstream id `benv2`,
//! `BigEarthNetv2Wrapper`): `metadata.parquet` (columns `patch_id`, `s1_name`, `split`,
//! `labels` as 19-class names), `BigEarthNet-S2/<tile>/<patch_id>/<patch_id>_B??.tif` and
//! `BigEarthNet-S1/<tile>/<s1_name>/<s1_name>_{VH,VV}.tif`, where `<tile>` is the name
//! without its last two `_` parts.
//!
//! Band files are ordered as upstream sorts them: S1 by name (VH, VV — spec quirk 12: the
//! chn_ids say VV, VH), S2 by band with B8A ordered as "B08A". Every band is resampled to
//! 120×120 and read as int32, then normalised with the published statistics
//! ([`BEN_S1_MEAN`](super::BEN_S1_MEAN) … ; `all` = S1 then S2).
//!
//! **Deviation**: upstream resamples on read with rasterio's (GDAL's) bilinear; here a band
//! whose size differs from 120 is resized with the antialiased bilinear of
//! [`resize_bilinear_aa`](super::resize_bilinear_aa) (torch's, align_corners = false) and
//! rounded half away from zero, so resampled bands may differ from upstream by a few
//! units. Native 120×120 bands (the 10 m ones) are exact.

use std::path::{Path, PathBuf};

use panopticon_data::readers::ParquetTable;

use super::benv2::{BEN_NUM_CLASSES, BEN_S1_MEAN, BEN_S1_STD, BEN_S2_MEAN, BEN_S2_STD, BenBands};
use super::{
    BEN19_CLASSES, DatasetKind, EvalDataset, EvalImage, Source, Targets, check_root, ds_err,
    resize_bilinear_aa,
};
use crate::error::Result;

/// Side of every band after resampling.
pub const BEN_RAW_SIZE: usize = 120;

/// Sentinel-2 band suffixes in upstream's order (B8A sorted as "B08A").
const S2_BANDS: [&str; 12] = [
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12",
];
/// Sentinel-1 band suffixes sorted by file name.
const S1_BANDS: [&str; 2] = ["VH", "VV"];

/// The band files of every sample and the normalisation statistics.
#[derive(Debug, Clone)]
pub(super) struct RawSource {
    bands: Vec<Vec<PathBuf>>,
    mean: Vec<f32>,
    std: Vec<f32>,
}

fn tile_of(name: &str) -> &str {
    let mut cut = name;
    for _ in 0..2 {
        cut = cut.rsplit_once('_').map_or(cut, |(head, _)| head);
    }
    cut
}

impl RawSource {
    /// Sample `i`: every band read, resampled to 120×120, rounded to int32, normalised.
    pub(super) fn load(&self, i: usize) -> Result<(Vec<f32>, [usize; 3])> {
        let hw = BEN_RAW_SIZE * BEN_RAW_SIZE;
        let mut data = Vec::with_capacity(self.bands[i].len() * hw);
        for (c, path) in self.bands[i].iter().enumerate() {
            let r = panopticon_data::read_geotiff(path).map_err(|e| ds_err(path, e.to_string()))?;
            if r.bands != 1 {
                return Err(ds_err(
                    path,
                    format!("a BigEarthNet band file has 1 band, this one {}", r.bands),
                ));
            }
            let img = EvalImage {
                data: r.data.to_f64().iter().map(|&v| v as f32).collect(),
                shape: [1, r.height, r.width],
                chn_ids: vec![0.0],
            };
            let img = resize_bilinear_aa(&img, BEN_RAW_SIZE, BEN_RAW_SIZE)?;
            let (m, s) = (self.mean[c], self.std[c]);
            data.extend(img.data.iter().map(|&v| (v.round() - m) / s));
        }
        Ok((data, [self.bands[i].len(), BEN_RAW_SIZE, BEN_RAW_SIZE]))
    }
}

impl EvalDataset {
    /// The raw BigEarthNet v2 split `split` (`train`, `validation` or `test`: the values of
    /// the metadata's `split` column) under `root`, in metadata row order.
    pub fn benv2_raw(root: &Path, bands: BenBands, split: &str) -> Result<Self> {
        let kind = DatasetKind::Benv2Raw(bands);
        check_root(root)?;
        let meta = root.join("metadata.parquet");
        let table = ParquetTable::open(&meta).map_err(|e| ds_err(&meta, e.to_string()))?;
        let col_err = |e: panopticon_data::readers::ParquetError| ds_err(&meta, e.to_string());
        let patch: Vec<String> = table.column("patch_id").map_err(col_err)?;
        let splits: Vec<String> = table.column("split").map_err(col_err)?;
        let labels: Vec<Vec<String>> = table.column("labels").map_err(col_err)?;
        let s1: Vec<String> = if bands == BenBands::S2 {
            vec![String::new(); patch.len()]
        } else {
            table.column("s1_name").map_err(col_err)?
        };
        let (mut files, mut names, mut targets, mut band_files) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (row, p) in patch.iter().enumerate() {
            if splits[row] != split {
                continue;
            }
            let mut paths = Vec::new();
            if bands != BenBands::S2 {
                let dir = root
                    .join("BigEarthNet-S1")
                    .join(tile_of(&s1[row]))
                    .join(&s1[row]);
                paths.extend(
                    S1_BANDS
                        .iter()
                        .map(|b| dir.join(format!("{}_{b}.tif", s1[row]))),
                );
            }
            if bands != BenBands::S1 {
                let dir = root.join("BigEarthNet-S2").join(tile_of(p)).join(p);
                paths.extend(S2_BANDS.iter().map(|b| dir.join(format!("{p}_{b}.tif"))));
            }
            if let Some(missing) = paths.iter().find(|f| !f.is_file()) {
                return Err(ds_err(
                    missing,
                    format!("band file of metadata row {row} (patch {p}) does not exist"),
                ));
            }
            let mut t = [0f32; BEN_NUM_CLASSES];
            for name in &labels[row] {
                let c = BEN19_CLASSES
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| {
                        ds_err(
                            &meta,
                            format!("row {row} (patch {p}): `{name}` is not a 19-class label"),
                        )
                    })?;
                t[c] = 1.0;
            }
            targets.extend(t);
            files.push(paths[0].clone());
            names.push(p.clone());
            band_files.push(paths);
        }
        let (mean, std) = match bands {
            BenBands::S1 => (BEN_S1_MEAN.to_vec(), BEN_S1_STD.to_vec()),
            BenBands::S2 => (BEN_S2_MEAN.to_vec(), BEN_S2_STD.to_vec()),
            BenBands::All => (
                [&BEN_S1_MEAN[..], &BEN_S2_MEAN[..]].concat(),
                [&BEN_S1_STD[..], &BEN_S2_STD[..]].concat(),
            ),
        };
        Self::finish(
            kind,
            root,
            split,
            files,
            names,
            Targets::MultiHot {
                values: targets,
                num_labels: BEN_NUM_CLASSES,
            },
            Source::BenRaw(RawSource {
                bands: band_files,
                mean,
                std,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tiles_drop_the_last_two_parts() {
        assert_eq!(
            super::tile_of("S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_26_57"),
            "S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP"
        );
        assert_eq!(super::tile_of("x"), "x");
    }
}
