//! SpectralEarth Corine downstream task (spec §5.7): EnMAP image + CLC code raster →
//! 19-class multi-hot target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::error::DatasetError;
use super::spectral_earth::{enmap_chn_ids, read_enmap};
use super::split::{join_entry, read_split};
use crate::augment::Image;
use crate::readers::read_geotiff;

/// Number of classes of the multi-label target.
pub const CORINE_NUM_CLASSES: usize = 19;

/// CLC level-3 code → serial 43-class index (upstream `CORINE_CLASSES_43`; 43 = removed in
/// the 19-class nomenclature, 999 = no data).
pub fn corine_code_to_43(code: i64) -> Option<u8> {
    Some(match code {
        111 => 0,
        112 => 1,
        121 => 2,
        122 | 123 | 124 | 131 | 132 | 133 | 141 | 142 => 43,
        211 => 11,
        212 => 12,
        213 => 13,
        221 => 14,
        222 => 15,
        223 => 16,
        231 => 17,
        241 => 18,
        242 => 19,
        243 => 20,
        244 => 21,
        311 => 22,
        312 => 23,
        313 => 24,
        321 => 25,
        322 => 26,
        323 => 27,
        324 => 28,
        331 => 29,
        332 => 43,
        333 => 31,
        334 | 335 => 43,
        411 => 33,
        412 => 34,
        421 => 35,
        422 => 36,
        423 => 43,
        511 => 38,
        512 => 39,
        521 => 40,
        522 => 41,
        523 => 42,
        999 => 43,
        _ => return None,
    })
}

/// 43-class index → 19-class index (upstream `label_converter`, from BigEarthNet in
/// TorchGeo); `None` for 43 (removed) and for indices the 43-class table never produces.
pub fn corine_43_to_19(class43: u8) -> Option<usize> {
    Some(match class43 {
        0 | 1 => 0,
        2 => 1,
        11..=13 => 2,
        14 | 15 | 16 | 18 => 3,
        17 => 4,
        19 => 5,
        20 => 6,
        21 => 7,
        22 => 8,
        23 => 9,
        24 => 10,
        25 | 31 => 11,
        26 | 27 => 12,
        28 => 13,
        29 => 14,
        33 | 34 => 15,
        35 | 36 => 16,
        38 | 39 => 17,
        40..=42 => 18,
        _ => return None,
    })
}

/// The 19-class multi-hot target of a code raster: every distinct code → 43 → 19; codes
/// mapped to "removed" are dropped; a code outside the table is an error (upstream raises
/// `KeyError`). `path` labels the error.
pub fn corine_multilabel(
    codes: &[i64],
    path: &Path,
) -> Result<[i64; CORINE_NUM_CLASSES], DatasetError> {
    let mut target = [0i64; CORINE_NUM_CLASSES];
    for &code in codes.iter().collect::<BTreeSet<_>>() {
        let class43 = corine_code_to_43(code).ok_or_else(|| DatasetError::UnknownLabelCode {
            path: path.to_path_buf(),
            code,
        })?;
        if let Some(c) = corine_43_to_19(class43) {
            target[c] = 1;
        }
    }
    Ok(target)
}

/// One Corine sample: normalised image and multi-hot target.
#[derive(Debug, Clone, PartialEq)]
pub struct CorineSample {
    /// `[202, H, W]` normalised as in pre-training, with the `spectral_earth` chn_ids.
    pub image: Image,
    /// 19-class multi-hot target (`long` upstream).
    pub target: [i64; CORINE_NUM_CLASSES],
}

/// The SpectralEarth Corine task (upstream `SpectralEarthDataset(task_dir="corine",
/// return_multilabel=True)`).
///
/// Layout under `root`: `splits/corine/{train,val,test}.txt` with paths relative to both
/// `spectral_earth_downstream_datasets/enmap_corine/enmap/` (images) and
/// `…/enmap_corine/corine/` (single-band CLC code rasters).
#[derive(Debug, Clone)]
pub struct CorineDataset {
    images: Vec<PathBuf>,
    labels: Vec<PathBuf>,
    chn_ids: Vec<f32>,
}

impl CorineDataset {
    /// Opens split `split` (`train`, `val` or `test`).
    pub fn open(root: impl AsRef<Path>, split: &str) -> Result<Self, DatasetError> {
        if !matches!(split, "train" | "val" | "test") {
            return Err(DatasetError::Config(format!(
                "Corine split `{split}` does not exist; use train, val or test"
            )));
        }
        let root = root.as_ref();
        let split_file = root.join(format!("splits/corine/{split}.txt"));
        let base = root.join("spectral_earth_downstream_datasets/enmap_corine");
        let (img_dir, lbl_dir) = (base.join("enmap"), base.join("corine"));
        let entries = read_split(&split_file)?;
        let mut images = Vec::with_capacity(entries.len());
        let mut labels = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            images.push(join_entry(&img_dir, e, &split_file, i + 1)?);
            labels.push(join_entry(&lbl_dir, e, &split_file, i + 1)?);
        }
        Ok(Self {
            images,
            labels,
            chn_ids: enmap_chn_ids()?,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// True if the split is empty (never: opening an empty split fails).
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Sample `index`.
    pub fn get(&self, index: usize) -> Result<CorineSample, DatasetError> {
        let (Some(img_path), Some(lbl_path)) = (self.images.get(index), self.labels.get(index))
        else {
            return Err(DatasetError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        };
        let (data, shape) = read_enmap(img_path, true)?;
        let image = Image::new(data, shape, self.chn_ids.clone()).map_err(|source| {
            DatasetError::Augment {
                path: img_path.clone(),
                source,
            }
        })?;
        let label = read_geotiff(lbl_path)?;
        if label.bands != 1 {
            return Err(DatasetError::BandCount {
                path: lbl_path.clone(),
                sensor: "a CORINE code raster".into(),
                expected: 1,
                got: label.bands,
            });
        }
        let codes: Vec<i64> = label.data.to_f64().iter().map(|&v| v as i64).collect();
        let target = corine_multilabel(&codes, lbl_path)?;
        Ok(CorineSample { image, target })
    }
}
