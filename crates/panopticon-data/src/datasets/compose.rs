//! Dataset composition (spec §5.8): concatenation and subsetting.

use std::path::PathBuf;

use super::error::DatasetError;
use super::source::PretrainSource;
use crate::augment::{AugRng, Draws, View};

/// Plain concatenation (upstream `ConcatDataset`): index `i` maps to the part holding it.
/// Samples of all parts mix within a batch (every crop is padded to a fixed channel count).
pub struct ConcatDataset {
    parts: Vec<Box<dyn PretrainSource>>,
    /// `ends[k]` = total length of parts `0..=k`.
    ends: Vec<usize>,
}

impl ConcatDataset {
    /// Concatenates `parts` in order. Errors if there is none or one is empty.
    pub fn new(parts: Vec<Box<dyn PretrainSource>>) -> Result<Self, DatasetError> {
        if parts.is_empty() {
            return Err(DatasetError::Config(
                "ConcatDataset needs at least one part".into(),
            ));
        }
        let mut ends = Vec::with_capacity(parts.len());
        let mut total = 0usize;
        for (k, p) in parts.iter().enumerate() {
            if p.is_empty() {
                return Err(DatasetError::Config(format!(
                    "part {k} of ConcatDataset is empty"
                )));
            }
            total += p.len();
            ends.push(total);
        }
        Ok(Self { parts, ends })
    }

    /// `(part, index inside the part)` of global index `index`.
    pub fn locate(&self, index: usize) -> Option<(usize, usize)> {
        let k = self.ends.partition_point(|&e| e <= index);
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        (k < self.parts.len()).then(|| (k, index - start))
    }
}

impl PretrainSource for ConcatDataset {
    fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        let (k, i) = self.locate(index).ok_or(DatasetError::IndexOutOfRange {
            index,
            len: self.len(),
        })?;
        self.parts[k].load(i, rng)
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        let (k, i) = self.locate(index)?;
        self.parts[k].path_of(i)
    }
}

/// How much of a dataset to keep (upstream per-dataset `subset`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SubsetSize {
    /// A float in `(0, 1]`: a random `floor(fraction · n)` indices, without replacement.
    Fraction(f64),
    /// An integer: `< n` → that many random indices without replacement; `≥ n` →
    /// deterministic tiling `[0..n−1, 0..n−1, …][..count]` (upstream up-weights FMoW with
    /// 800000 this way).
    Count(usize),
}

/// The indices a subset keeps, in order. Random choices are the first `k` entries of a
/// seeded permutation ([`AugRng`] with `seed`; upstream uses `torch.multinomial` with a
/// generator seeded by `train.seed`, which is not reproduced bit for bit).
pub fn subset_indices(n: usize, size: SubsetSize, seed: u64) -> Result<Vec<usize>, DatasetError> {
    if n == 0 {
        return Err(DatasetError::Config(
            "cannot take a subset of an empty dataset".into(),
        ));
    }
    let k = match size {
        SubsetSize::Fraction(f) => {
            if !(f > 0.0 && f <= 1.0) {
                return Err(DatasetError::Config(format!(
                    "subset fraction {f} is not in (0, 1]; give an integer count to tile"
                )));
            }
            let k = (f * n as f64).floor() as usize;
            if k == 0 {
                return Err(DatasetError::Config(format!(
                    "subset fraction {f} of {n} samples keeps none; raise it"
                )));
            }
            k
        }
        SubsetSize::Count(0) => {
            return Err(DatasetError::Config(
                "subset count must be at least 1".into(),
            ));
        }
        SubsetSize::Count(c) if c >= n => return Ok((0..c).map(|i| i % n).collect()),
        SubsetSize::Count(c) => c,
    };
    let mut perm = AugRng::seed_from_u64(seed).permutation(n);
    perm.truncate(k);
    Ok(perm)
}

/// A dataset restricted (or tiled) to some of its indices.
pub struct Subset<S> {
    inner: S,
    indices: Vec<usize>,
}

impl<S: PretrainSource> Subset<S> {
    /// `inner` restricted by `size`, random choices seeded with `seed` (see
    /// [`subset_indices`]).
    pub fn new(inner: S, size: SubsetSize, seed: u64) -> Result<Self, DatasetError> {
        let indices = subset_indices(inner.len(), size, seed)?;
        Ok(Self { inner, indices })
    }

    /// The kept indices of the inner dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<S: PretrainSource> PretrainSource for Subset<S> {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        let i = *self
            .indices
            .get(index)
            .ok_or(DatasetError::IndexOutOfRange {
                index,
                len: self.indices.len(),
            })?;
        self.inner.load(i, rng)
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        self.inner.path_of(*self.indices.get(index)?)
    }
}
