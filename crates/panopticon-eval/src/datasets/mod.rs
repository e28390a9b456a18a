//! Evaluation datasets (spec §5.9) read from their published on-disk layouts, with the
//! evaluation transforms of spec §4.10, batched into [`PanopticonInput`]s.
//!
//! * EuroSAT-SAR ([`EvalDataset::eurosat_sar`]): split CSVs (`filepath,class_name`) and
//!   2-band float GeoTIFFs (VV, VH in dB), chn_ids `[-1, -2]`.
//! * RESISC45 ([`EvalDataset::resisc45`]): `resisc45-{split}.txt` file lists and
//!   `NWPU-RESISC45/<class>/<file>.jpg`, chn_ids `[664, 559, 492]`.
//! * BigEarthNet v2, 19-class multilabel: the webdataset shards of `.npy` members with
//!   `dataset.yaml` / `dataset.pt` ([`EvalDataset::benv2_webdataset`]) and the raw
//!   `BigEarthNet-S1/S2` folders with `metadata.parquet` ([`EvalDataset::benv2_raw`]).
//! * SpectralEarth Corine ([`EvalDataset::corine`]), 19-class multilabel, 202 EnMAP bands.
//! * GeoBench classification tasks ([`EvalDataset::geobench`]): per-sample HDF5 files,
//!   `default_partition.json`, `band_stats.json`; m-so2sat band selection; m-bigearthnet
//!   (43-label multilabel, numpy multi-hot labels in the pickled attribute dict).
//!
//! Channel ids come from the sensor registry of `panopticon-data`. Samples are decoded
//! lazily, batch by batch; only the sample list and the targets are held.

mod benv2;
mod benv2_raw;
mod corine;
mod eurosat;
mod geobench;
mod kind;
mod npy;
mod pickle;
mod pickle_numpy;
mod resisc45;
mod transform;
mod yaml;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use panopticon_model::{ChannelIds, PanopticonInput};

pub use benv2::{BEN_S1_MEAN, BEN_S1_STD, BEN_S2_MEAN, BEN_S2_STD, BenBands};
pub use benv2_raw::BEN_RAW_SIZE;
pub use geobench::{GeoBenchTask, SO2SAT_KEEP};
pub use kind::{BEN19_CLASSES, DATASET_IDS, DatasetKind, EUROSAT_CLASSES, RESISC45_CLASSES};
pub use npy::{NpyArray, parse_npy};
pub use pickle::{Py, loads as pickle_loads};
pub use pickle_numpy::NdArray;
pub use transform::{EvalImage, EvalTransform, center_crop, chn_select, resize_bilinear_aa};
pub use yaml::{YamlValue, parse_yaml};

use crate::error::{EvalError, Result};

/// The targets of a split.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class index per sample.
    Classes(Vec<i64>),
    /// Multi-hot rows, `[N * num_labels]` row-major, values 0 or 1.
    MultiHot {
        /// Row-major targets.
        values: Vec<f32>,
        /// Labels per sample.
        num_labels: usize,
    },
}

impl Targets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Self::Classes(c) => c.len(),
            Self::MultiHot { values, num_labels } => values.len() / (*num_labels).max(1),
        }
    }

    /// `true` when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i` as text (`3`, or `0100…` for a multi-hot row), for cache keys.
    pub fn describe(&self, i: usize) -> String {
        match self {
            Self::Classes(c) => c[i].to_string(),
            Self::MultiHot { values, num_labels } => values[i * num_labels..(i + 1) * num_labels]
                .iter()
                .map(|&v| if v == 1.0 { '1' } else { '0' })
                .collect(),
        }
    }
}

/// How sample `i` is decoded (per-dataset details live in the dataset's module).
#[derive(Debug, Clone)]
enum Source {
    /// One image file per sample (`files[i]`), read by the kind's reader.
    Files,
    /// Webdataset tar members.
    Wds(benv2::WdsSource),
    /// Raw BigEarthNet v2 band files.
    BenRaw(benv2_raw::RawSource),
    /// SpectralEarth EnMAP patches.
    Corine(panopticon_data::datasets::SpectralEarth),
    /// GeoBench per-sample HDF5 files.
    GeoBench(geobench::GeoBenchSource),
}

/// One split of an evaluation dataset: sample list and targets (pixels are read on demand).
#[derive(Debug, Clone)]
pub struct EvalDataset {
    kind: DatasetKind,
    root: PathBuf,
    split: String,
    files: Vec<PathBuf>,
    names: Vec<String>,
    targets: Targets,
    chn_ids: Vec<f32>,
    source: Source,
}

pub(crate) fn ds_err(path: &Path, reason: impl Into<String>) -> EvalError {
    EvalError::Dataset {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Largest metadata file (split lists, `dataset.yaml`, JSON) read into memory: 256 MiB.
pub(crate) const MAX_TEXT_BYTES: u64 = 256 << 20;

/// Reads a metadata file of at most [`MAX_TEXT_BYTES`] (checked from its length first, so a
/// mistaken multi-GB path is an error, not an allocation).
pub(crate) fn read_text_capped(path: &Path) -> std::io::Result<String> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_TEXT_BYTES {
        return Err(std::io::Error::other(format!(
            "{len} bytes is larger than a metadata file can be ({MAX_TEXT_BYTES} bytes)"
        )));
    }
    std::fs::read_to_string(path)
}

pub(crate) fn read_text(path: &Path) -> Result<String> {
    read_text_capped(path).map_err(|e| {
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

pub(crate) fn check_root(root: &Path) -> Result<()> {
    if !root.is_dir() {
        return Err(ds_err(root, "dataset root is not a directory"));
    }
    Ok(())
}

pub(crate) fn class_index(kind: DatasetKind, name: &str, file: &Path, line: usize) -> Result<i64> {
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
    /// Opens a split of `kind` under `root`. BigEarthNet split names are those of its
    /// folders / metadata (`train`, `validation`, `test`); `subset` keeps that fraction of
    /// the webdataset shards (spec §5.9) or of a GeoBench split's samples (spec §6.6
    /// `1h/geobench/ben-10`), and is refused for other datasets.
    pub fn open(kind: DatasetKind, root: &Path, split: &str, subset: Option<f64>) -> Result<Self> {
        if subset.is_some()
            && !matches!(
                kind,
                DatasetKind::Benv2Webdataset(_) | DatasetKind::GeoBench(_)
            )
        {
            return Err(EvalError::Config {
                field: "dataset.train_subset".into(),
                value: format!("{subset:?}"),
                reason: format!(
                    "only benv2_webdataset and geobench.* take a subset, not {}",
                    kind.id()
                ),
            });
        }
        match kind {
            DatasetKind::EurosatSar => Self::eurosat_sar(root, split),
            DatasetKind::Resisc45 => Self::resisc45(root, split),
            DatasetKind::Benv2Webdataset(b) => Self::benv2_webdataset(root, b, split, subset),
            DatasetKind::Benv2Raw(b) => Self::benv2_raw(root, b, split),
            DatasetKind::Corine => Self::corine(root, split),
            DatasetKind::GeoBench(t) => Self::geobench_subset(root, t, split, subset),
        }
    }

    /// Checks and wraps what a loader found. `names[i]` identifies sample `i` in messages
    /// and cache keys (its file, or `shard.tar:key`).
    fn finish(
        kind: DatasetKind,
        root: &Path,
        split: &str,
        files: Vec<PathBuf>,
        names: Vec<String>,
        targets: Targets,
        source: Source,
    ) -> Result<Self> {
        if files.is_empty() {
            return Err(EvalError::EmptySplit {
                split: format!("{} {split} ({})", kind.id(), root.display()),
            });
        }
        debug_assert_eq!(files.len(), targets.len());
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
            names,
            targets,
            chn_ids: kind.chn_ids()?,
            source,
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

    /// The file holding each sample, in sample order (the shard for webdataset samples).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// A name per sample: its file, or `<shard>.tar:<key>` for webdataset samples.
    pub fn sample_name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Class indices of a multiclass dataset; empty for a multilabel one (see
    /// [`Self::targets`]).
    pub fn labels(&self) -> &[i64] {
        match &self.targets {
            Targets::Classes(c) => c,
            Targets::MultiHot { .. } => &[],
        }
    }

    /// Class indices or multi-hot rows, in sample order.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Channel ids of every sample (before any channel selection).
    pub fn chn_ids(&self) -> &[f32] {
        &self.chn_ids
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
        let (data, shape) = match &self.source {
            Source::Files => match self.kind {
                DatasetKind::EurosatSar => eurosat::load(&self.files[i])?,
                DatasetKind::Resisc45 => resisc45::load(&self.files[i])?,
                _ => unreachable!("only EuroSAT-SAR and RESISC45 read plain files"),
            },
            Source::Wds(w) => w.load(i, &self.files[i])?,
            Source::BenRaw(r) => r.load(i)?,
            Source::Corine(se) => corine::load(se, i)?,
            Source::GeoBench(g) => g.load(&self.files[i])?,
        };
        if shape[0] != self.chn_ids.len() {
            return Err(ds_err(
                &self.files[i],
                format!(
                    "sample {} has {} channels but {} lists {} bands",
                    self.names[i],
                    shape[0],
                    self.kind.registry_name(),
                    self.chn_ids.len()
                ),
            ));
        }
        Ok(EvalImage {
            data,
            shape,
            chn_ids: self.chn_ids.clone(),
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
                            "{} transformed to {:?} but the batch has {s:?}: add `resize` / \
                             `center_crop` to the task's transform so samples share a size",
                            self.names[i], img.shape
                        ),
                    ));
                }
                Some(_) => {}
            }
            pixels.extend_from_slice(&img.data);
            ids.extend_from_slice(&img.chn_ids);
        }
        let [c, h, w] = shape.expect("non-empty batch");
        let input = ChannelIds::new(ids, n, c)
            .and_then(|ids| PanopticonInput::from_host(pixels, [n, c, h, w], ids, None, device))
            .map_err(|e| EvalError::Config {
                field: "input".into(),
                value: "batch".into(),
                reason: e.to_string(),
            })?;
        Ok(input)
    }
}
