//! Per-dataset band lists (`configs/sensors/datasets.toml`, upstream
//! `configs/data/{pretrain,eval}/*.yaml`).
//!
//! Upstream quirks kept on purpose (the chn_ids must match what the released model saw):
//!
//! * **B8/B8A order (MMEarth).** `pretrain/mmearth_s2` lists `B08, B8A` (ids 827, 864) although
//!   MMEarth stores B8A before B8; upstream pairs the pixels with swapped ids. The list is
//!   kept as upstream wrote it; a reader must not "fix" the order silently.
//! * **VV/VH order (BigEarthNet-S1).** `eval/ben-s1*` say `[VV, VH]` (−1, −2) while the files
//!   are sorted VH, VV. Kept as written.
//! * **Duplicates.** `eval/m-so2sat` lists the same SAR bands several times, and EnMAP's
//!   overlapping detectors give duplicate ids (911, 993) in `hyspecnet`/`spectral_earth`.
//! * **Dropped metadata.** Hyperview's `img_size: variable` and cashew's `yaml` file name are
//!   not carried over.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::SensorError;

/// One dataset's band list and the metadata upstream records with it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Full name, `pretrain/<stem>` or `eval/<stem>` (filled from the TOML table name).
    #[serde(skip)]
    pub name: String,
    /// Band ids `<upstream sensor>/<band key>`, in the order the data stores them.
    pub bands: Vec<String>,
    /// Native image size of each band, aligned with `bands`, where upstream gives one per
    /// band (Satlas: Landsat 256/512/64 px, Sentinel-2 512 px).
    pub band_img_size: Option<Vec<u32>>,
    /// `optical` or `sar`, when upstream says.
    pub modality: Option<String>,
    /// Evaluation task (`classification`, `segmentation`, `multilabelclass`, …).
    pub task_id: Option<String>,
    /// Number of classes of the evaluation task.
    pub num_classes: Option<u32>,
    /// Number of regression targets (hyperview).
    pub num_variables: Option<u32>,
    /// Ground sample distance in metres.
    pub gsd: Option<f64>,
    /// Evaluation image size in pixels.
    pub img_size: Option<u32>,
    /// Whether the evaluation keeps the GSD constant.
    pub constant_gsd: Option<bool>,
    /// Band ids of the RGB composite used for visualisation.
    pub rgb_bands: Option<Vec<String>>,
    /// GEO-Bench band names selected from the files, in order.
    pub band_subselect_by_geob_id: Option<Vec<String>>,
}

impl Dataset {
    /// The stem (`m-eurosat` of `eval/m-eurosat`).
    pub fn stem(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }
}

/// Parses `datasets.toml` (a table per dataset); `file` only labels error messages.
pub(crate) fn parse_datasets(file: &str, text: &str) -> Result<Vec<Dataset>, SensorError> {
    let map: BTreeMap<String, Dataset> = toml::from_str(text).map_err(|e| SensorError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Ok(map
        .into_iter()
        .map(|(name, mut d)| {
            d.name = name;
            d
        })
        .collect())
}
