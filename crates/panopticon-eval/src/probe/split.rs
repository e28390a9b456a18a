//! One split's cached features and labels, checked once.

use super::features::ProbeFeatures;
use crate::error::Result;
use crate::labels::Labels;

/// Cached probe features and labels of one split, validated at construction.
#[derive(Debug, Clone)]
pub struct ProbeSplit {
    pub(crate) name: String,
    pub(crate) features: ProbeFeatures,
    pub(crate) labels: Labels,
}

impl ProbeSplit {
    /// Errors on an empty split, a feature/label count mismatch or a non-finite feature.
    pub fn new(name: impl Into<String>, features: ProbeFeatures, labels: Labels) -> Result<Self> {
        let name = name.into();
        crate::split::check_rows(&name, features.len(), labels.len())?;
        features.check_finite(&name)?;
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

    /// The cached features.
    pub fn features(&self) -> &ProbeFeatures {
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

    /// Always `false`: empty splits are rejected by [`ProbeSplit::new`].
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}
