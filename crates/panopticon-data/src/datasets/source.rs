//! [`PretrainSource`]: what the loader needs from a pre-training dataset.

use std::path::PathBuf;
use std::sync::Arc;

use super::error::DatasetError;
use crate::augment::{AugRng, View};

/// A map-style pre-training dataset: `len` samples, each a list of views (spec §4.1).
///
/// `load` must be deterministic given `index` and the draws of `rng` (the loader passes
/// `AugRng::for_sample(seed, sample_id)` and then augments with the same generator), and must
/// return errors, never panic, on bad data.
pub trait PretrainSource: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;

    /// True if there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads sample `index` (normalised views, spec §4.1), drawing any random choice (e.g.
    /// Satlas' sensor pair) from `rng`.
    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError>;

    /// The main file of sample `index` (used to label errors), if known.
    fn path_of(&self, index: usize) -> Option<PathBuf>;
}

impl<S: PretrainSource + ?Sized> PretrainSource for Arc<S> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        (**self).load(index, rng)
    }
    fn path_of(&self, index: usize) -> Option<PathBuf> {
        (**self).path_of(index)
    }
}

impl<S: PretrainSource + ?Sized> PretrainSource for Box<S> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn load(&self, index: usize, rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        (**self).load(index, rng)
    }
    fn path_of(&self, index: usize) -> Option<PathBuf> {
        (**self).path_of(index)
    }
}
