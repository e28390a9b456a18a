//! GeoBench classification tasks (spec §5.9, ids `geobench.<task>`), read from the
//! published per-sample HDF5 files.
//!
//! Layout of a task folder (`$GEO_BENCH_DIR/classification_v1.0/<task>/`):
//! `default_partition.json` (`{"train": [names], "valid": [...], "test": [...]}`; split
//! `val` means `valid`), `band_stats.json` (`{band name: {"mean", "std", ...}}`) and one
//! `<name>.hdf5` per sample: a 2-D dataset per band and a root attribute `pickle` holding
//! `str(pickle.dumps(attrs))`, whose dict gives `bands_order` and the integer `label`.
//!
//! The image stacks the bands in `bands_order` (the `label` band, if any, excluded) as f32
//! and normalises each with its `band_stats.json` mean/std before any transform. The band
//! count must match the registry's band list of the task (`eval/m-<task>`), which gives the
//! chn_ids. **m-so2sat** then keeps bands `[0, 2, 8..17]` (VH real, VV real and the ten S2
//! bands) with chn_ids `[-2, -1, 492, …, 2203]`.

use std::path::{Path, PathBuf};

use burn::store::pytorch_reader::{PickleValue, PytorchReader};
use panopticon_data::readers::Hdf5File;

use super::{DatasetKind, EvalDataset, Source, Targets, check_root, ds_err};
use crate::error::{EvalError, Result};

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
}

/// m-so2sat: the bands kept after normalisation.
pub const SO2SAT_KEEP: [usize; 12] = [0, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];

impl GeoBenchTask {
    /// Parses `m-eurosat`, `m-brick-kiln`, `m-forestnet`, `m-pv4ger`, `m-so2sat`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "m-eurosat" => Self::Eurosat,
            "m-brick-kiln" => Self::BrickKiln,
            "m-forestnet" => Self::Forestnet,
            "m-pv4ger" => Self::Pv4ger,
            "m-so2sat" => Self::So2sat,
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
        }
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

/// The attribute dict of a sample: `pickle.loads` of the `pickle` attribute (read through
/// burn-store's pickle reader, which takes a file).
fn sample_attrs(h5: &Hdf5File, path: &Path) -> Result<PickleValue> {
    let text = h5
        .attr("/", "pickle")
        .map_err(|e| ds_err(path, format!("no `pickle` attribute: {e}")))?;
    let text = text
        .as_str()
        .ok_or_else(|| ds_err(path, "the `pickle` attribute is not a string"))?;
    let bytes = bytes_literal(text).map_err(|e| ds_err(path, e))?;
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "panopticon-geobench-{}-{}.pkl",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&tmp, &bytes).map_err(|e| ds_err(&tmp, e.to_string()))?;
    let value = PytorchReader::read_pickle_data(&tmp, None);
    let _ = std::fs::remove_file(&tmp);
    value.map_err(|e| ds_err(path, format!("cannot unpickle the attribute dict: {e}")))
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| ds_err(path, e.to_string()))?;
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
        let n_registry = kind.registry_bands()?;
        let (mut labels, mut bands) = (Vec::with_capacity(files.len()), None::<Vec<String>>);
        for f in &files {
            if !f.is_file() {
                return Err(ds_err(
                    f,
                    "sample listed in default_partition.json does not exist",
                ));
            }
            let h5 = Hdf5File::open(f).map_err(|e| ds_err(f, e.to_string()))?;
            let PickleValue::Dict(attrs) = sample_attrs(&h5, f)? else {
                return Err(ds_err(f, "the attribute dict is not a dict"));
            };
            let label = match attrs.get("label") {
                Some(PickleValue::Int(l)) if (0..task.num_classes() as i64).contains(l) => *l,
                other => {
                    return Err(ds_err(
                        f,
                        format!(
                            "label {other:?} is not a class index in 0..{}",
                            task.num_classes()
                        ),
                    ));
                }
            };
            labels.push(label);
            let order: Vec<String> = match attrs.get("bands_order") {
                Some(PickleValue::List(v)) => v
                    .iter()
                    .filter_map(|b| match b {
                        PickleValue::String(s) if s != "label" => Some(s.clone()),
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
            Targets::Classes(labels),
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
