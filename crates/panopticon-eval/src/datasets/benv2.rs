//! BigEarthNet v2 as webdataset shards (spec §5.9, upstream id `benv2_webdataset`).
//!
//! Layout under the root (`$RDIR/datasets/benv2/wds`): `{split}-{s1,s2,all}/dataset-*.tar`
//! with, next to the shards, `dataset.yaml` (`sensor`: s1 | s2 | s1s2, `num_classes`: 19,
//! `nsamples_per_shard`: {tar: n}) and `dataset.pt` (`{mean, std}` tensors). Each sample is
//! `<key>.img.npy` (raw f32 `(C, H, W)`) and `<key>.label.npy` (bool `(19,)`); the image is
//! normalised `(x − mean_c) / std_c` in f32 and the label becomes a multi-hot row.
//!
//! Shards are indexed once at open (member offsets), then members are read by seeking.
//! **Deviations**: the shard subset (`subset` fraction) is drawn with a SplitMix64
//! permutation seeded 42, not Python's RNG, so a subset holds different shards than
//! upstream's; samples are read in shard order (no shuffle buffer, no resampling: the
//! probes train on cached features).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::npy::parse_npy;
use super::yaml::{YamlValue, parse_yaml};
use super::{DatasetKind, EvalDataset, Source, Targets, check_root, ds_err};
use crate::error::{EvalError, Result};
use crate::rng::SplitMix64;

/// Number of BigEarthNet v2 classes (the 19-class nomenclature).
pub const BEN_NUM_CLASSES: usize = 19;

/// Sentinel-1 means of the published `dataset.pt` (VH, VV: alphabetical file order). The
/// loader reads `dataset.pt`; these (the f32 values as torch prints them) document it.
#[allow(clippy::excessive_precision)]
pub const BEN_S1_MEAN: [f32; 2] = [-19.352558135986328, -12.643863677978516];
/// Sentinel-1 standard deviations.
#[allow(clippy::excessive_precision)]
pub const BEN_S1_STD: [f32; 2] = [5.590505599975586, 5.133493900299072];
/// Sentinel-2 means (B01..B12 without B10, B8A after B08).
#[allow(clippy::excessive_precision)]
pub const BEN_S2_MEAN: [f32; 12] = [
    360.64678955078125,
    438.3720703125,
    614.0556640625,
    588.4096069335938,
    942.7476806640625,
    1769.8486328125,
    2049.475830078125,
    2193.2919921875,
    2235.48681640625,
    2241.10595703125,
    1568.2115478515625,
    997.715087890625,
];
/// Sentinel-2 standard deviations.
#[allow(clippy::excessive_precision)]
pub const BEN_S2_STD: [f32; 12] = [
    563.1734008789062,
    607.02685546875,
    603.2968139648438,
    684.56884765625,
    727.5784301757812,
    1087.4288330078125,
    1261.4302978515625,
    1369.3717041015625,
    1342.490478515625,
    1294.35546875,
    1063.9197998046875,
    806.8846435546875,
];

/// Which BigEarthNet v2 bands a task reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenBands {
    /// Sentinel-1 (2 bands), folder suffix `s1`, chn_ids `ben-s1`.
    S1,
    /// Sentinel-2 (12 bands), `s2`, `ben-s2`.
    S2,
    /// S1 then S2 (14 bands), `all`, `ben-s1s2`.
    All,
}

impl BenBands {
    /// Parses `s1`, `s2` or `all`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "s1" => Ok(Self::S1),
            "s2" => Ok(Self::S2),
            "all" => Ok(Self::All),
            other => Err(EvalError::Config {
                field: "dataset.bands".into(),
                value: format!("\"{other}\""),
                reason: "BigEarthNet v2 needs bands = \"s1\", \"s2\" or \"all\"".into(),
            }),
        }
    }

    /// The folder suffix (`s1`, `s2`, `all`).
    pub fn suffix(self) -> &'static str {
        match self {
            Self::S1 => "s1",
            Self::S2 => "s2",
            Self::All => "all",
        }
    }

    /// The `sensor` value of `dataset.yaml` (`s1`, `s2`, `s1s2`).
    pub fn sensor(self) -> &'static str {
        match self {
            Self::S1 => "s1",
            Self::S2 => "s2",
            Self::All => "s1s2",
        }
    }

    /// The registry band list (`eval/ben-s1`, `eval/ben-s2`, `eval/ben-s1s2`).
    pub fn registry_name(self) -> &'static str {
        match self {
            Self::S1 => "eval/ben-s1",
            Self::S2 => "eval/ben-s2",
            Self::All => "eval/ben-s1s2",
        }
    }

    /// Number of bands.
    pub fn channels(self) -> usize {
        match self {
            Self::S1 => 2,
            Self::S2 => 12,
            Self::All => 14,
        }
    }
}

/// Where a sample's member lies in its shard; small non-image members (labels) are read
/// while indexing, so opening a split reads each shard once.
#[derive(Debug, Clone)]
struct Member {
    offset: u64,
    size: u64,
    bytes: Option<Vec<u8>>,
}

/// Members up to this size are kept in memory while indexing (a 19-label `.npy` is 147 B).
const INLINE_MEMBER_BYTES: u64 = 4096;

/// Largest tar member read (a BigEarthNet v2 `img.npy` is ≈ 0.7 MB): 256 MiB.
const MAX_MEMBER_BYTES: u64 = 256 << 20;

/// The members and statistics of an opened webdataset split.
#[derive(Debug, Clone)]
pub(super) struct WdsSource {
    images: Vec<Member>,
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl WdsSource {
    /// Reads and normalises sample `i` from `shard`.
    pub(super) fn load(&self, i: usize, shard: &Path) -> Result<(Vec<f32>, [usize; 3])> {
        let bytes = read_member(shard, &self.images[i])?;
        let arr = parse_npy(&bytes).map_err(|e| ds_err(shard, format!("sample {i}: {e}")))?;
        let [c, h, w] = match arr.shape[..] {
            [c, h, w] => [c, h, w],
            _ => {
                return Err(ds_err(
                    shard,
                    format!(
                        "sample {i}: img.npy has shape {:?}, expected (C, H, W)",
                        arr.shape
                    ),
                ));
            }
        };
        if c != self.mean.len() {
            return Err(ds_err(
                shard,
                format!(
                    "sample {i}: img.npy has {c} channels but dataset.pt has {} means",
                    self.mean.len()
                ),
            ));
        }
        let hw = h * w;
        let mut data = arr.to_f32();
        for (j, x) in data.iter_mut().enumerate() {
            let ch = j / hw.max(1);
            *x = (*x - self.mean[ch]) / self.std[ch];
        }
        Ok((data, [c, h, w]))
    }
}

fn read_member(shard: &Path, m: &Member) -> Result<Vec<u8>> {
    if let Some(b) = &m.bytes {
        return Ok(b.clone());
    }
    let io = |e: std::io::Error| ds_err(shard, format!("cannot read tar member: {e}"));
    let mut f = std::fs::File::open(shard).map_err(io)?;
    f.seek(SeekFrom::Start(m.offset)).map_err(io)?;
    let mut buf = vec![0u8; m.size as usize];
    f.read_exact(&mut buf).map_err(io)?;
    Ok(buf)
}

/// Members of one shard grouped by webdataset key (path up to the first `.` of the file
/// name), in tar order: `(key, {extension: member})`.
fn index_shard(shard: &Path) -> Result<Vec<(String, BTreeMap<String, Member>)>> {
    let bad = |e: std::io::Error| ds_err(shard, format!("not a readable tar shard: {e}"));
    let file = std::fs::File::open(shard).map_err(bad)?;
    let shard_len = file.metadata().map_err(bad)?.len();
    let mut archive = tar::Archive::new(file);
    let mut out: Vec<(String, BTreeMap<String, Member>)> = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", &path));
        let Some((stem, ext)) = file.split_once('.') else {
            continue; // webdataset skips members without an extension
        };
        let key = if dir.is_empty() {
            stem.to_string()
        } else {
            format!("{dir}/{stem}")
        };
        let (offset, size) = (entry.raw_file_position(), entry.size());
        // A header's size is untrusted: the member must lie inside the shard (checked, so a
        // size near 2^64 cannot wrap) and stay below a sane bound before anything is read.
        if offset.checked_add(size).is_none_or(|end| end > shard_len) {
            return Err(ds_err(
                shard,
                format!("tar member {path} claims {size} bytes, past the end of the shard"),
            ));
        }
        if size > MAX_MEMBER_BYTES {
            return Err(ds_err(
                shard,
                format!(
                    "tar member {path} holds {size} bytes, more than a sample member can \
                     ({MAX_MEMBER_BYTES})"
                ),
            ));
        }
        // Images are always read later by seeking (the same path for any image size).
        let bytes = if size <= INLINE_MEMBER_BYTES && ext != "img.npy" {
            let mut buf = Vec::with_capacity(size as usize);
            entry.read_to_end(&mut buf).map_err(bad)?;
            Some(buf)
        } else {
            None
        };
        let member = Member {
            offset,
            size,
            bytes,
        };
        match out.last_mut() {
            Some((k, m)) if *k == key => {
                m.insert(ext.to_string(), member);
            }
            _ => out.push((key, BTreeMap::from([(ext.to_string(), member)]))),
        }
    }
    Ok(out)
}

/// `dataset.yaml`: checks sensor and class count, returns the per-shard sample counts.
fn read_yaml(path: &Path, bands: BenBands) -> Result<BTreeMap<String, usize>> {
    let text = super::read_text_capped(path).map_err(|e| {
        ds_err(
            path,
            format!("cannot read dataset.yaml (every webdataset folder has one): {e}"),
        )
    })?;
    let y = parse_yaml(&text).map_err(|e| ds_err(path, e))?;
    let scalar = |k: &str| match y.get(k) {
        Some(YamlValue::Scalar(s)) => Ok(s.clone()),
        _ => Err(ds_err(path, format!("no `{k}:` entry"))),
    };
    let sensor = scalar("sensor")?;
    if sensor != bands.sensor() {
        return Err(ds_err(
            path,
            format!(
                "sensor is `{sensor}` but the task reads bands = \"{}\" (sensor `{}`)",
                bands.suffix(),
                bands.sensor()
            ),
        ));
    }
    let classes = scalar("num_classes")?;
    if classes.parse::<usize>().ok() != Some(BEN_NUM_CLASSES) {
        return Err(ds_err(
            path,
            format!("num_classes is {classes}; BigEarthNet v2 shards hold 19-class labels"),
        ));
    }
    match y.get("nsamples_per_shard") {
        Some(YamlValue::Map(m)) => m
            .iter()
            .map(|(k, v)| {
                v.parse::<usize>()
                    .map(|n| (k.clone(), n))
                    .map_err(|_| ds_err(path, format!("nsamples_per_shard[{k}] = `{v}`")))
            })
            .collect(),
        _ => Err(ds_err(path, "no `nsamples_per_shard:` mapping")),
    }
}

/// `dataset.pt`: the `mean` and `std` tensors (one value per channel).
fn read_stats(path: &Path, channels: usize) -> Result<(Vec<f32>, Vec<f32>)> {
    use burn::store::pytorch_reader::{DType, PytorchReader};
    let reader = PytorchReader::new(path).map_err(|e| {
        ds_err(
            path,
            format!("cannot read dataset.pt (torch.save of {{mean, std}}): {e}"),
        )
    })?;
    let get = |name: &str| -> Result<Vec<f32>> {
        let t = reader
            .get(name)
            .ok_or_else(|| ds_err(path, format!("no `{name}` tensor")))?;
        let bytes = t.read().map_err(|e| ds_err(path, e.to_string()))?;
        let v: Vec<f32> = match t.dtype() {
            DType::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F64 => bytes
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                .collect(),
            other => {
                return Err(ds_err(
                    path,
                    format!("`{name}` is {other:?}, expected a float tensor"),
                ));
            }
        };
        if v.len() != channels {
            return Err(ds_err(
                path,
                format!(
                    "`{name}` has {} values but the shards hold {channels} bands",
                    v.len()
                ),
            ));
        }
        Ok(v)
    };
    let (mean, std) = (get("mean")?, get("std")?);
    if let Some(c) = std.iter().position(|&s| !(s > 0.0 && s.is_finite())) {
        return Err(ds_err(path, format!("std[{c}] = {} (must be > 0)", std[c])));
    }
    Ok((mean, std))
}

impl EvalDataset {
    /// A BigEarthNet v2 webdataset split: `root/{split}-{bands}/dataset-*.tar` (shards sorted
    /// by name), checked against `dataset.yaml` (sensor, 19 classes, per-shard sample
    /// counts) and normalised with `dataset.pt`. `subset` in (0, 1] keeps
    /// `max(1, floor(n · subset))` of the n shards (seeded permutation, seed 42).
    pub fn benv2_webdataset(
        root: &Path,
        bands: BenBands,
        split: &str,
        subset: Option<f64>,
    ) -> Result<Self> {
        let kind = DatasetKind::Benv2Webdataset(bands);
        check_root(root)?;
        let dir = root.join(format!("{split}-{}", bands.suffix()));
        if !dir.is_dir() {
            return Err(ds_err(
                &dir,
                format!(
                    "no such webdataset folder (splits are train, validation, test; \
                     folders <split>-{})",
                    bands.suffix()
                ),
            ));
        }
        let counts = read_yaml(&dir.join("dataset.yaml"), bands)?;
        let (mean, std) = read_stats(&dir.join("dataset.pt"), bands.channels())?;
        let mut shards: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| ds_err(&dir, e.to_string()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tar"))
            .collect();
        shards.sort();
        if let Some(f) = subset {
            if !(f > 0.0 && f <= 1.0) {
                return Err(EvalError::Config {
                    field: "dataset.train_subset".into(),
                    value: f.to_string(),
                    reason: "a fraction of the shards, in (0, 1]".into(),
                });
            }
            let keep = ((shards.len() as f64 * f).floor() as usize).max(1);
            let perm = SplitMix64::new(42).permutation(shards.len());
            let mut picked: Vec<usize> = perm.into_iter().take(keep).collect();
            picked.sort_unstable();
            shards = picked.into_iter().map(|i| shards[i].clone()).collect();
        }
        let (mut files, mut names, mut images, mut targets) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for shard in &shards {
            let shard_name = shard
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let samples = index_shard(shard)?;
            match counts.get(&shard_name) {
                Some(&n) if n == samples.len() => {}
                Some(&n) => {
                    return Err(ds_err(
                        shard,
                        format!("holds {} samples but dataset.yaml says {n}", samples.len()),
                    ));
                }
                None => {
                    return Err(ds_err(
                        shard,
                        "not listed in dataset.yaml's nsamples_per_shard",
                    ));
                }
            }
            for (key, members) in samples {
                let name = format!("{shard_name}:{key}");
                let (Some(img), Some(label)) = (members.get("img.npy"), members.get("label.npy"))
                else {
                    return Err(ds_err(
                        shard,
                        format!("sample `{key}` lacks img.npy or label.npy"),
                    ));
                };
                let arr = parse_npy(&read_member(shard, label)?)
                    .map_err(|e| ds_err(shard, format!("{key}.label.npy: {e}")))?;
                if arr.data.len() != BEN_NUM_CLASSES {
                    return Err(ds_err(
                        shard,
                        format!("{key}.label.npy has shape {:?}, expected (19,)", arr.shape),
                    ));
                }
                if let Some(v) = arr.data.iter().find(|&&v| v != 0.0 && v != 1.0) {
                    return Err(ds_err(
                        shard,
                        format!("{key}.label.npy holds {v}; labels are 0/1"),
                    ));
                }
                targets.extend(arr.data.iter().map(|&v| v as f32));
                images.push(img.clone());
                files.push(shard.clone());
                names.push(name);
            }
        }
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
            Source::Wds(WdsSource { images, mean, std }),
        )
    }
}
