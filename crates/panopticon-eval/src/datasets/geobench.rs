//! GeoBench classification tasks (spec §5.9, ids `geobench.<task>`), read from the
//! published per-sample HDF5 files.
//!
//! Layout of a task folder (`$GEO_BENCH_DIR/classification_v1.0/<task>/`):
//! `default_partition.json` (`{"train": [names], "valid": [...], "test": [...]}`; split
//! `val` means `valid`), `band_stats.json` (`{band name: {"mean", "std", ...}}`) and one
//! `<name>.hdf5` per sample: a 2-D dataset per band and a root attribute `pickle` holding
//! `str(pickle.dumps(attrs))`, whose dict gives `bands_order` and the `label`: an integer
//! class, or for **m-bigearthnet** (43-label multilabel) the numpy int64 multi-hot array
//! GeoBench's converter stored (`np.array(torchgeo_sample["label"])`; lists of 0/1 are
//! accepted too). The dict is read with [`super::pickle`], which decodes numpy arrays.
//!
//! The image stacks the bands in `bands_order` (the `label` band, if any, excluded) as f32
//! and normalises each with its `band_stats.json` mean/std before any transform. The band
//! count must match the registry's band list of the task (`eval/m-<task>`), which gives the
//! chn_ids. **m-so2sat** then keeps bands `[0, 2, 8..17]` (VH real, VV real and the ten S2
//! bands) with chn_ids `[-2, -1, 492, …, 2203]`.

use std::path::{Path, PathBuf};

use panopticon_data::readers::Hdf5File;

use super::pickle::{self, Py};
use super::{DatasetKind, EvalDataset, Source, Targets, check_root, ds_err};
use crate::error::{EvalError, Result};
use crate::rng::SplitMix64;

/// The GeoBench classification tasks the paper evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeoBenchTask {
    /// `m-eurosat`: 13 S2 bands, 10 classes.
    Eurosat,
    /// `m-brick-kiln`: 13 S2 bands, 2 classes.
    BrickKiln,
    /// `m-forestnet`: 6 bands, 12 classes.
    Forestnet,
    /// `m-pv4ger`: RGB, 4 classes.
    Pv4ger,
    /// `m-so2sat`: 18 bands (8 S1 parts + 10 S2) → 12 kept, 17 classes.
    So2sat,
    /// `m-bigearthnet`: 12 S2 bands, 43 labels (multilabel).
    Bigearthnet,
}

/// m-so2sat: the bands kept after normalisation.
pub const SO2SAT_KEEP: [usize; 12] = [0, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];

impl GeoBenchTask {
    /// Parses `m-eurosat`, `m-brick-kiln`, `m-forestnet`, `m-pv4ger`, `m-so2sat`,
    /// `m-bigearthnet`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "m-eurosat" => Self::Eurosat,
            "m-brick-kiln" => Self::BrickKiln,
            "m-forestnet" => Self::Forestnet,
            "m-pv4ger" => Self::Pv4ger,
            "m-so2sat" => Self::So2sat,
            "m-bigearthnet" => Self::Bigearthnet,
            _ => return None,
        })
    }

    /// The config id (`geobench.m-eurosat`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Self::Eurosat => "geobench.m-eurosat",
            Self::BrickKiln => "geobench.m-brick-kiln",
            Self::Forestnet => "geobench.m-forestnet",
            Self::Pv4ger => "geobench.m-pv4ger",
            Self::So2sat => "geobench.m-so2sat",
            Self::Bigearthnet => "geobench.m-bigearthnet",
        }
    }

    /// The task name (`m-eurosat`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Eurosat => "m-eurosat",
            Self::BrickKiln => "m-brick-kiln",
            Self::Forestnet => "m-forestnet",
            Self::Pv4ger => "m-pv4ger",
            Self::So2sat => "m-so2sat",
            Self::Bigearthnet => "m-bigearthnet",
        }
    }

    /// Number of classes.
    pub fn num_classes(self) -> usize {
        match self {
            Self::Eurosat => 10,
            Self::BrickKiln => 2,
            Self::Forestnet => 12,
            Self::Pv4ger => 4,
            Self::So2sat => 17,
            Self::Bigearthnet => 43,
        }
    }

    /// The registry band list (`eval/m-<task>`).
    pub fn registry_name(self) -> &'static str {
        match self {
            Self::Eurosat => "eval/m-eurosat",
            Self::BrickKiln => "eval/m-brick-kiln",
            Self::Forestnet => "eval/m-forestnet",
            Self::Pv4ger => "eval/m-pv4ger",
            Self::So2sat => "eval/m-so2sat",
            Self::Bigearthnet => "eval/m-bigearthnet",
        }
    }

    /// `true` for the multilabel task (m-bigearthnet).
    pub fn is_multilabel(self) -> bool {
        self == Self::Bigearthnet
    }

    /// Bands kept after normalisation (`None`: all).
    pub fn keep(self) -> Option<&'static [usize]> {
        match self {
            Self::So2sat => Some(&SO2SAT_KEEP),
            _ => None,
        }
    }
}

/// Per-sample files and band statistics of an opened GeoBench split.
#[derive(Debug, Clone)]
pub(super) struct GeoBenchSource {
    bands: Vec<String>,
    mean: Vec<f32>,
    std: Vec<f32>,
    keep: Option<&'static [usize]>,
}

/// Decodes the Python `str(bytes)` literal h5py stores (`b'\x80\x04...'`).
fn bytes_literal(s: &str) -> std::result::Result<Vec<u8>, String> {
    let body = s
        .strip_prefix("b'")
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix("b\"").and_then(|r| r.strip_suffix('"')))
        .ok_or("the `pickle` attribute is not a Python bytes literal (b'...')")?;
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let esc = *b
            .get(i + 1)
            .ok_or("dangling backslash in the bytes literal")?;
        i += 2;
        out.push(match esc {
            b'\\' => b'\\',
            b'\'' => b'\'',
            b'"' => b'"',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'x' => {
                let hex = body.get(i..i + 2).ok_or("truncated \\x escape")?;
                i += 2;
                u8::from_str_radix(hex, 16).map_err(|_| format!("bad \\x escape `{hex}`"))?
            }
            other => return Err(format!("unsupported escape `\\{}`", other as char)),
        });
    }
    Ok(out)
}

/// The attribute dict of a sample: `pickle.loads` of the `pickle` attribute.
fn sample_attrs(h5: &Hdf5File, path: &Path) -> Result<Py> {
    let text = h5
        .attr("/", "pickle")
        .map_err(|e| ds_err(path, format!("no `pickle` attribute: {e}")))?;
    let text = text
        .as_str()
        .ok_or_else(|| ds_err(path, "the `pickle` attribute is not a string"))?;
    let bytes = bytes_literal(text).map_err(|e| ds_err(path, e))?;
    let attrs = pickle::loads(&bytes)
        .map_err(|e| ds_err(path, format!("cannot unpickle the attribute dict: {e}")))?;
    if !matches!(attrs, Py::Dict(_)) {
        return Err(ds_err(path, "the attribute dict is not a dict"));
    }
    Ok(attrs)
}

/// The `label` of a sample: a class index in `0..n`, or (multilabel) `n` values 0/1 from a
/// numpy array or a list, appended to `multi_hot`.
fn sample_label(
    attrs: &Py,
    task: GeoBenchTask,
    path: &Path,
    multi_hot: &mut Vec<f32>,
) -> Result<i64> {
    let n = task.num_classes();
    let label = attrs
        .get("label")
        .ok_or_else(|| ds_err(path, "the attribute dict has no `label`"))?;
    if !task.is_multilabel() {
        return match label {
            Py::Int(l) if (0..n as i64).contains(l) => Ok(*l),
            other => Err(ds_err(
                path,
                format!("label {other:?} is not a class index in 0..{n}"),
            )),
        };
    }
    let values: Vec<f64> = match (label.ndarray(), label) {
        (Some(arr), _) => {
            let arr = arr.map_err(|e| ds_err(path, format!("label array: {e}")))?;
            if arr.shape != [n] {
                return Err(ds_err(
                    path,
                    format!("label array has shape {:?}, expected ({n},)", arr.shape),
                ));
            }
            arr.values
        }
        (None, Py::List(v) | Py::Tuple(v)) => v
            .iter()
            .map(|x| match x {
                Py::Int(i) => Ok(*i as f64),
                Py::Bool(b) => Ok(*b as u8 as f64),
                Py::Float(f) => Ok(*f),
                other => Err(ds_err(path, format!("label entry {other:?} is not 0 or 1"))),
            })
            .collect::<Result<_>>()?,
        (None, other) => {
            return Err(ds_err(
                path,
                format!("label {other:?} is not a multi-hot vector of {n} labels"),
            ));
        }
    };
    if values.len() != n {
        return Err(ds_err(
            path,
            format!("label has {} entries, expected {n}", values.len()),
        ));
    }
    if let Some(v) = values.iter().find(|&&v| v != 0.0 && v != 1.0) {
        return Err(ds_err(
            path,
            format!("multi-hot label holds {v}, not 0 or 1"),
        ));
    }
    multi_hot.extend(values.iter().map(|&v| v as f32));
    Ok(0)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = super::read_text_capped(path).map_err(|e| ds_err(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| ds_err(path, format!("invalid JSON: {e}")))
}

impl GeoBenchSource {
    /// Sample `file`: bands stacked, normalised, selected.
    pub(super) fn load(&self, file: &Path) -> Result<(Vec<f32>, [usize; 3])> {
        let h5 = Hdf5File::open(file).map_err(|e| ds_err(file, e.to_string()))?;
        let (mut data, mut hw) = (Vec::new(), None);
        let idx: Vec<usize> = match self.keep {
            Some(k) => k.to_vec(),
            None => (0..self.bands.len()).collect(),
        };
        for &c in &idx {
            let band = &self.bands[c];
            let arr = h5
                .read(band)
                .map_err(|e| ds_err(file, format!("band `{band}`: {e}")))?;
            let [h, w] = arr.shape[..] else {
                return Err(ds_err(
                    file,
                    format!("band `{band}` has shape {:?}, expected (H, W)", arr.shape),
                ));
            };
            match hw {
                None => hw = Some((h, w)),
                Some(s) if s != (h, w) => {
                    return Err(ds_err(
                        file,
                        format!("band `{band}` is {h}x{w}, others {}x{}", s.0, s.1),
                    ));
                }
                _ => {}
            }
            let (m, s) = (self.mean[c], self.std[c]);
            data.extend(arr.to_f32().iter().map(|&v| (v - m) / s));
        }
        let (h, w) = hw.unwrap_or((0, 0));
        Ok((data, [idx.len(), h, w]))
    }
}

impl EvalDataset {
    /// GeoBench task `task`, split `split` (`train`, `val`/`valid` or `test`) of the task
    /// folder `root`. Labels come from each sample's attribute dict, so every file is opened
    /// once here (only its attribute, no pixels).
    pub fn geobench(root: &Path, task: GeoBenchTask, split: &str) -> Result<Self> {
        Self::geobench_subset(root, task, split, None)
    }

    /// [`Self::geobench`] keeping the fraction `subset` in (0, 1] of the split's samples:
    /// `max(1, floor(n · subset))` of them, drawn with a SplitMix64 permutation seeded 42,
    /// in partition order. (Deviation: the reference draws with torch's seeded multinomial,
    /// so the subset holds different samples.)
    pub fn geobench_subset(
        root: &Path,
        task: GeoBenchTask,
        split: &str,
        subset: Option<f64>,
    ) -> Result<Self> {
        let kind = DatasetKind::GeoBench(task);
        check_root(root)?;
        let part_path = root.join("default_partition.json");
        let part = read_json(&part_path)?;
        let key = if split == "val" { "valid" } else { split };
        let names = part[key].as_array().ok_or_else(|| {
            ds_err(
                &part_path,
                format!("no `{key}` list (splits are train, valid (= val), test)"),
            )
        })?;
        let files: Vec<PathBuf> = names
            .iter()
            .map(|n| {
                n.as_str()
                    .map(|n| root.join(format!("{n}.hdf5")))
                    .ok_or_else(|| ds_err(&part_path, format!("`{key}` holds a non-string {n}")))
            })
            .collect::<Result<_>>()?;
        let files = match subset {
            None => files,
            Some(f) if f > 0.0 && f <= 1.0 => {
                let keep = ((files.len() as f64 * f).floor() as usize).max(1);
                let mut picked: Vec<usize> = SplitMix64::new(42)
                    .permutation(files.len())
                    .into_iter()
                    .take(keep)
                    .collect();
                picked.sort_unstable();
                picked.into_iter().map(|i| files[i].clone()).collect()
            }
            Some(f) => {
                return Err(EvalError::Config {
                    field: "dataset.train_subset".into(),
                    value: f.to_string(),
                    reason: "a fraction of the samples, in (0, 1]".into(),
                });
            }
        };
        let n_registry = kind.registry_bands()?;
        let (mut labels, mut bands) = (Vec::with_capacity(files.len()), None::<Vec<String>>);
        let mut multi_hot = Vec::new();
        for f in &files {
            if !f.is_file() {
                return Err(ds_err(
                    f,
                    "sample listed in default_partition.json does not exist",
                ));
            }
            let h5 = Hdf5File::open(f).map_err(|e| ds_err(f, e.to_string()))?;
            let attrs = sample_attrs(&h5, f)?;
            labels.push(sample_label(&attrs, task, f, &mut multi_hot)?);
            let order: Vec<String> = match attrs.get("bands_order") {
                Some(Py::List(v)) => v
                    .iter()
                    .filter_map(|b| match b {
                        Py::Str(s) if s != "label" => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => h5
                    .dataset_names("/")
                    .map_err(|e| ds_err(f, e.to_string()))?
                    .into_iter()
                    .filter(|b| b != "label")
                    .collect(),
            };
            match &bands {
                None => {
                    if order.len() != n_registry {
                        return Err(ds_err(
                            f,
                            format!(
                                "has {} bands ({}) but {} lists {n_registry}",
                                order.len(),
                                order.join(", "),
                                task.registry_name()
                            ),
                        ));
                    }
                    bands = Some(order);
                }
                Some(b) if *b != order => {
                    return Err(ds_err(
                        f,
                        format!("bands_order {order:?} differs from the first sample's {b:?}"),
                    ));
                }
                _ => {}
            }
        }
        let bands = bands.unwrap_or_default();
        let stats_path = root.join("band_stats.json");
        let stats = read_json(&stats_path)?;
        let (mut mean, mut std) = (Vec::new(), Vec::new());
        for b in &bands {
            let get = |k: &str| {
                stats[b][k]
                    .as_f64()
                    .ok_or_else(|| ds_err(&stats_path, format!("no `{k}` for band `{b}`")))
            };
            let (m, s) = (get("mean")?, get("std")?);
            if !(s > 0.0 && s.is_finite()) {
                return Err(ds_err(&stats_path, format!("band `{b}` has std {s}")));
            }
            mean.push(m as f32);
            std.push(s as f32);
        }
        let names = files.iter().map(|f| f.display().to_string()).collect();
        Self::finish(
            kind,
            root,
            split,
            files,
            names,
            if task.is_multilabel() {
                Targets::MultiHot {
                    values: multi_hot,
                    num_labels: task.num_classes(),
                }
            } else {
                Targets::Classes(labels)
            },
            Source::GeoBench(GeoBenchSource {
                bands,
                mean,
                std,
                keep: task.keep(),
            }),
        )
    }
}

impl DatasetKind {
    /// Number of bands of the registry list (before any GeoBench band selection).
    fn registry_bands(self) -> Result<usize> {
        let reg = panopticon_data::SensorRegistry::builtin()
            .and_then(|r| r.dataset_chn_ids(self.registry_name()))
            .map_err(|e| EvalError::Config {
                field: "dataset.id".into(),
                value: self.id().into(),
                reason: format!("sensor registry: {e}"),
            })?;
        Ok(reg.len())
    }
}

#[cfg(test)]
mod tests {
    use super::bytes_literal;

    #[test]
    fn python_bytes_literals() {
        assert_eq!(
            bytes_literal(r"b'\x80\x04K\x03.\\ \'q\n'").unwrap(),
            b"\x80\x04K\x03.\\ 'q\n"
        );
        assert!(bytes_literal("'not bytes'").is_err());
        assert!(bytes_literal(r"b'\x8'").is_err());
    }
}
