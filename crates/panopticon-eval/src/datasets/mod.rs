//! Evaluation datasets (spec §5.9) read from their published on-disk layouts, with the
//! evaluation transforms of spec §4.10, batched into [`PanopticonInput`]s.
//!
//! * EuroSAT-SAR ([`EvalDataset::eurosat_sar`]): split CSVs (`filepath,class_name`) and
//!   2-band float GeoTIFFs (VV, VH in dB), chn_ids `[-1, -2]`.
//! * RESISC45 ([`EvalDataset::resisc45`]): `resisc45-{split}.txt` file lists and
//!   `NWPU-RESISC45/<class>/<file>.jpg`, chn_ids `[664, 559, 492]`.
//!
//! Samples are decoded lazily, batch by batch; only the file list and labels are held.

mod transform;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use panopticon_model::PanopticonInput;

pub use transform::{EvalImage, EvalTransform, center_crop, chn_select, resize_bilinear_aa};

use crate::error::{EvalError, Result};

/// The 10 EuroSAT classes, in label order.
pub const EUROSAT_CLASSES: [&str; 10] = [
    "AnnualCrop",
    "Forest",
    "HerbaceousVegetation",
    "Highway",
    "Industrial",
    "Pasture",
    "PermanentCrop",
    "Residential",
    "River",
    "SeaLake",
];

/// The 45 RESISC45 classes, alphabetical (= label order).
pub const RESISC45_CLASSES: [&str; 45] = [
    "airplane",
    "airport",
    "baseball_diamond",
    "basketball_court",
    "beach",
    "bridge",
    "chaparral",
    "church",
    "circular_farmland",
    "cloud",
    "commercial_area",
    "dense_residential",
    "desert",
    "forest",
    "freeway",
    "golf_course",
    "ground_track_field",
    "harbor",
    "industrial_area",
    "intersection",
    "island",
    "lake",
    "meadow",
    "medium_residential",
    "mobile_home_park",
    "mountain",
    "overpass",
    "palace",
    "parking_lot",
    "railway",
    "railway_station",
    "rectangular_farmland",
    "river",
    "roundabout",
    "runway",
    "sea_ice",
    "ship",
    "snowberg",
    "sparse_residential",
    "stadium",
    "storage_tank",
    "tennis_court",
    "terrace",
    "thermal_power_station",
    "wetland",
];

const EUROSAT_SAR_MEAN: [f64; 2] = [-11.6568, -18.4975];
const EUROSAT_SAR_STD: [f64; 2] = [6.0908, 6.1924];
const RESISC45_MEAN: [f32; 3] = [0.3682, 0.3808, 0.3434];
const RESISC45_STD: [f32; 3] = [0.2033, 0.1852, 0.1846];

/// Which dataset (and so which reader and normalisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    /// `eurosat-sar`.
    EurosatSar,
    /// `resisc45`.
    Resisc45,
}

impl DatasetKind {
    /// The config id (`eurosat-sar`, `resisc45`).
    pub fn id(self) -> &'static str {
        match self {
            Self::EurosatSar => "eurosat-sar",
            Self::Resisc45 => "resisc45",
        }
    }

    /// Parses a config id.
    pub fn parse(id: &str) -> Result<Self> {
        match id {
            "eurosat-sar" => Ok(Self::EurosatSar),
            "resisc45" => Ok(Self::Resisc45),
            other => Err(EvalError::Config {
                field: "dataset.id".into(),
                value: format!("\"{other}\""),
                reason: "known datasets: eurosat-sar, resisc45".into(),
            }),
        }
    }

    /// Class names in label order.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Self::EurosatSar => &EUROSAT_CLASSES,
            Self::Resisc45 => &RESISC45_CLASSES,
        }
    }

    /// Channel ids of every sample (int16 values of the registry).
    pub fn chn_ids(self) -> &'static [f32] {
        match self {
            Self::EurosatSar => &[-1.0, -2.0],
            Self::Resisc45 => &[664.0, 559.0, 492.0],
        }
    }
}

/// One split of an evaluation dataset: files and labels (pixels are read on demand).
#[derive(Debug, Clone)]
pub struct EvalDataset {
    kind: DatasetKind,
    root: PathBuf,
    split: String,
    files: Vec<PathBuf>,
    labels: Vec<i64>,
}

fn ds_err(path: &Path, reason: impl Into<String>) -> EvalError {
    EvalError::Dataset {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        ds_err(
            path,
            if e.kind() == std::io::ErrorKind::NotFound {
                "split file not found (is the dataset root right?)".to_string()
            } else {
                e.to_string()
            },
        )
    })
}

fn check_root(root: &Path) -> Result<()> {
    if !root.is_dir() {
        return Err(ds_err(root, "dataset root is not a directory"));
    }
    Ok(())
}

fn class_index(kind: DatasetKind, name: &str, file: &Path, line: usize) -> Result<i64> {
    kind.classes()
        .iter()
        .position(|c| *c == name)
        .map(|i| i as i64)
        .ok_or_else(|| {
            ds_err(
                file,
                format!(
                    "line {line}: unknown {} class `{name}` (expected one of {})",
                    kind.id(),
                    kind.classes().join(", ")
                ),
            )
        })
}

impl EvalDataset {
    /// Opens a split of `kind` under `root` (see [`Self::eurosat_sar`], [`Self::resisc45`]).
    pub fn open(kind: DatasetKind, root: &Path, split: &str) -> Result<Self> {
        match kind {
            DatasetKind::EurosatSar => Self::eurosat_sar(root, split),
            DatasetKind::Resisc45 => Self::resisc45(root, split),
        }
    }

    /// EuroSAT-SAR split(s) under `root` (`$RDIR/datasets/eurosat_SAR`): `split` names one
    /// or several (comma-separated, concatenated) of `{train,val,test,small_*}.csv`.
    pub fn eurosat_sar(root: &Path, split: &str) -> Result<Self> {
        let kind = DatasetKind::EurosatSar;
        check_root(root)?;
        let (mut files, mut labels) = (Vec::new(), Vec::new());
        for name in split.split(',').map(str::trim) {
            let csv = root.join(format!("{name}.csv"));
            let text = read_text(&csv)?;
            let mut lines = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty());
            let header: Vec<&str> = match lines.next() {
                Some((_, h)) => h.split(',').map(str::trim).collect(),
                None => return Err(ds_err(&csv, "empty split file (no header, no samples)")),
            };
            let col = |want: &str| {
                header.iter().position(|c| *c == want).ok_or_else(|| {
                    ds_err(
                        &csv,
                        format!("header has no `{want}` column (need filepath,class_name)"),
                    )
                })
            };
            let (fp, cn) = (col("filepath")?, col("class_name")?);
            for (i, line) in lines {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                let (Some(path), Some(class)) = (cells.get(fp), cells.get(cn)) else {
                    return Err(ds_err(
                        &csv,
                        format!("line {}: expected {} columns", i + 1, header.len()),
                    ));
                };
                labels.push(class_index(kind, class, &csv, i + 1)?);
                files.push(root.join(path));
            }
        }
        Self::finish(kind, root, split, files, labels)
    }

    /// RESISC45 split under `root` (`$RDIR/datasets/resisc45`): `resisc45-{split}.txt`
    /// lists file names; the class is the name up to the last `_`, the image
    /// `NWPU-RESISC45/<class>/<file>`.
    pub fn resisc45(root: &Path, split: &str) -> Result<Self> {
        let kind = DatasetKind::Resisc45;
        check_root(root)?;
        let list = root.join(format!("resisc45-{split}.txt"));
        let text = read_text(&list)?;
        let (mut files, mut labels) = (Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            let name = line.trim();
            if name.is_empty() {
                continue;
            }
            let Some((class, _)) = name.rsplit_once('_') else {
                return Err(ds_err(
                    &list,
                    format!(
                        "line {}: `{name}` has no `_` (expected <class>_<nnn>.jpg)",
                        i + 1
                    ),
                ));
            };
            labels.push(class_index(kind, class, &list, i + 1)?);
            files.push(root.join("NWPU-RESISC45").join(class).join(name));
        }
        Self::finish(kind, root, split, files, labels)
    }

    fn finish(
        kind: DatasetKind,
        root: &Path,
        split: &str,
        files: Vec<PathBuf>,
        labels: Vec<i64>,
    ) -> Result<Self> {
        if files.is_empty() {
            return Err(EvalError::EmptySplit {
                split: format!("{} {split} ({})", kind.id(), root.display()),
            });
        }
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            return Err(ds_err(
                missing,
                "image listed in the split file does not exist",
            ));
        }
        Ok(Self {
            kind,
            root: root.to_path_buf(),
            split: split.to_string(),
            files,
            labels,
        })
    }

    /// The dataset kind.
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }

    /// The dataset root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The split name(s) as given.
    pub fn split(&self) -> &str {
        &self.split
    }

    /// Image files, in sample order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Class indices, in sample order.
    pub fn labels(&self) -> &[i64] {
        &self.labels
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the split has no samples (never true for an opened split).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Sample `i`, decoded and normalised (before transforms), `[C, H, W]`.
    pub fn load(&self, i: usize) -> Result<EvalImage> {
        let path = &self.files[i];
        let read = |e: panopticon_data::ReadError| ds_err(path, e.to_string());
        let ids = self.kind.chn_ids().to_vec();
        let (raster, mut data) = match self.kind {
            DatasetKind::EurosatSar => {
                let r = panopticon_data::read_geotiff(path).map_err(read)?;
                let v = r.data.to_f64();
                if r.bands != 2 {
                    return Err(ds_err(
                        path,
                        format!("has {} bands, expected 2 (VV, VH)", r.bands),
                    ));
                }
                let hw = r.height * r.width;
                let data = v
                    .iter()
                    .enumerate()
                    .map(|(j, &x)| {
                        let c = j / hw;
                        ((x - EUROSAT_SAR_MEAN[c]) / EUROSAT_SAR_STD[c]) as f32
                    })
                    .collect();
                (r, data)
            }
            DatasetKind::Resisc45 => {
                let r = panopticon_data::read_jpeg(path).map_err(read)?;
                if r.bands != 3 {
                    return Err(ds_err(path, format!("has {} bands, expected RGB", r.bands)));
                }
                let data = r.to_f32();
                (r, data)
            }
        };
        if self.kind == DatasetKind::Resisc45 {
            let hw = raster.height * raster.width;
            for (j, x) in data.iter_mut().enumerate() {
                let c = j / hw;
                *x = (*x / 255.0 - RESISC45_MEAN[c]) / RESISC45_STD[c];
            }
        }
        Ok(EvalImage {
            data,
            shape: [raster.bands, raster.height, raster.width],
            chn_ids: ids,
        })
    }

    /// Transformed samples in order, `batch_size` at a time, as model inputs on `device`.
    ///
    /// The iterator stops at the first unreadable sample and leaves its error in `error`
    /// (check it after the iterator is drained).
    pub fn batches<'a>(
        &'a self,
        transform: &'a EvalTransform,
        batch_size: usize,
        device: &'a Device,
        error: &'a RefCell<Option<EvalError>>,
    ) -> impl Iterator<Item = PanopticonInput> + 'a {
        let bs = batch_size.max(1);
        (0..self.len().div_ceil(bs)).map_while(move |b| {
            if error.borrow().is_some() {
                return None;
            }
            match self.batch(b * bs..((b + 1) * bs).min(self.len()), transform, device) {
                Ok(input) => Some(input),
                Err(e) => {
                    *error.borrow_mut() = Some(e);
                    None
                }
            }
        })
    }

    /// Samples `range`, transformed and stacked.
    pub fn batch(
        &self,
        range: std::ops::Range<usize>,
        transform: &EvalTransform,
        device: &Device,
    ) -> Result<PanopticonInput> {
        let (mut pixels, mut ids, mut shape) = (Vec::new(), Vec::new(), None);
        let n = range.len();
        for i in range {
            let img = transform.apply(self.load(i)?)?;
            match shape {
                None => shape = Some(img.shape),
                Some(s) if s != img.shape => {
                    return Err(ds_err(
                        &self.files[i],
                        format!(
                            "transformed to {:?} but the batch has {s:?}: add `resize` / \
                             `center_crop` to the task's transform so samples share a size",
                            img.shape
                        ),
                    ));
                }
                Some(_) => {}
            }
            pixels.extend_from_slice(&img.data);
            ids.extend_from_slice(&img.chn_ids);
        }
        let [c, h, w] = shape.expect("non-empty batch");
        let imgs = Tensor::<4>::from_data(TensorData::new(pixels, [n, c, h, w]), device);
        let chn_ids = Tensor::<2>::from_data(TensorData::new(ids, [n, c]), device);
        Ok(PanopticonInput::new(imgs, chn_ids))
    }
}
