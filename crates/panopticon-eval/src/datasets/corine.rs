//! SpectralEarth Corine (spec §5.7, the eval "sim" tasks), read through `panopticon-data`:
//! EnMAP patches from `spectral_earth_downstream_datasets/enmap_corine/enmap/<entry>`
//! (202 bands, clamped, scaled and standardised as in pre-training) and 19-class multi-hot
//! targets from the CLC code rasters `…/enmap_corine/corine/<entry>`, entries listed in
//! `splits/corine/{train,val,test}.txt`.
//!
//! Targets are read when the split is opened (one single-band raster per sample), so a bad
//! code is reported before any feature extraction.

use std::path::Path;

use panopticon_data::datasets::{CORINE_NUM_CLASSES, SpectralEarth, corine_multilabel};

use super::{DatasetKind, EvalDataset, Source, Targets, check_root, ds_err};
use crate::error::Result;

impl EvalDataset {
    /// The Corine split `split` (`train`, `val` or `test`) under the SpectralEarth root.
    pub fn corine(root: &Path, split: &str) -> Result<Self> {
        let kind = DatasetKind::Corine;
        check_root(root)?;
        let split_file = root.join(format!("splits/corine/{split}.txt"));
        if !split_file.is_file() {
            return Err(ds_err(
                &split_file,
                "split file not found (is the dataset root right? splits are train, val, test)",
            ));
        }
        let base = root.join("spectral_earth_downstream_datasets/enmap_corine");
        let images = SpectralEarth::from_split_file(&base, &split_file)
            .map_err(|e| ds_err(&split_file, e.to_string()))?;
        let (img_dir, lbl_dir) = (base.join("enmap"), base.join("corine"));
        let mut targets = Vec::with_capacity(images.files().len() * CORINE_NUM_CLASSES);
        for img in images.files() {
            let rel = img
                .strip_prefix(&img_dir)
                .expect("joined under the enmap folder");
            let lbl = lbl_dir.join(rel);
            let raster = panopticon_data::read_geotiff(&lbl).map_err(|e| {
                ds_err(
                    &lbl,
                    format!("Corine label raster of {}: {e}", img.display()),
                )
            })?;
            if raster.bands != 1 {
                return Err(ds_err(
                    &lbl,
                    format!("a CLC code raster has 1 band, this one {}", raster.bands),
                ));
            }
            let codes: Vec<i64> = raster.data.to_f64().iter().map(|&v| v as i64).collect();
            let t = corine_multilabel(&codes, &lbl).map_err(|e| ds_err(&lbl, e.to_string()))?;
            targets.extend(t.iter().map(|&v| v as f32));
        }
        let files = images.files().to_vec();
        let names = files.iter().map(|f| f.display().to_string()).collect();
        Self::finish(
            kind,
            root,
            split,
            files,
            names,
            Targets::MultiHot {
                values: targets,
                num_labels: CORINE_NUM_CLASSES,
            },
            Source::Corine(images),
        )
    }
}

/// Sample `i`: the normalised `[202, H, W]` EnMAP patch.
pub(super) fn load(se: &SpectralEarth, i: usize) -> Result<(Vec<f32>, [usize; 3])> {
    let img = se.image(i).map_err(|e| {
        ds_err(
            se.files().get(i).map_or(Path::new("?"), |p| p.as_path()),
            e.to_string(),
        )
    })?;
    let shape = img.shape();
    Ok((img.into_parts().0, shape))
}
