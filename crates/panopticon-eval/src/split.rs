//! A validated split: a feature matrix on a device plus the labels of the same samples.

use burn::prelude::*;

use crate::error::{EvalError, Result};
use crate::labels::Labels;

/// Features and labels of one split (train, val or test), checked once at construction.
///
/// # Shapes
/// `features`: `[N, D]` with `N = labels.len() > 0`, all finite.
#[derive(Debug, Clone)]
pub struct Split {
    name: String,
    features: Tensor<2>,
    labels: Labels,
}

impl Split {
    /// Validates and wraps a split; `name` is used in error messages.
    ///
    /// Errors on an empty split, a feature/label count mismatch or a non-finite feature.
    pub fn new(name: impl Into<String>, features: Tensor<2>, labels: Labels) -> Result<Self> {
        let name = name.into();
        let [n, _] = features.dims();
        check_rows(&name, n, labels.len())?;
        check_finite(&name, &features)?;
        Ok(Self {
            name,
            features,
            labels,
        })
    }

    /// Split name (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The feature matrix.
    ///
    /// # Shapes
    /// `[N, D]`.
    pub fn features(&self) -> &Tensor<2> {
        &self.features
    }

    /// The labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always `false`: empty splits are rejected by [`Split::new`].
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// Errors on an empty split or a feature/label count mismatch.
pub(crate) fn check_rows(split: &str, features: usize, labels: usize) -> Result<()> {
    if features == 0 || labels == 0 {
        return Err(EvalError::EmptySplit {
            split: split.into(),
        });
    }
    if features != labels {
        return Err(EvalError::LengthMismatch {
            split: split.into(),
            features,
            labels,
        });
    }
    Ok(())
}

/// Errors on the first sample (row) holding NaN or ±inf.
pub(crate) fn check_finite(split: &str, features: &Tensor<2>) -> Result<()> {
    let bad: Vec<bool> = features
        .clone()
        .is_finite()
        .bool_not()
        .any_dim(1)
        .into_data()
        .try_into_vec_as::<bool>()
        .unwrap_or_default();
    match bad.iter().position(|&b| b) {
        Some(sample) => Err(EvalError::NonFiniteFeature {
            split: split.into(),
            sample,
        }),
        None => Ok(()),
    }
}

/// Host copy of a float tensor, row-major.
pub(crate) fn to_host(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}
