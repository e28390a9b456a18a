//! A task with its splits opened and checked, and its run: features (cached), then kNN or
//! the probe grid.

use std::cell::RefCell;

use burn::prelude::*;
use panopticon_model::FrozenPanopticon;

use super::config::{TaskConfig, TaskKind};
use crate::datasets::{EvalDataset, Targets};
use crate::error::{EvalError, Result};
use crate::extract::{FeatureCache, extract_features};
use crate::labels::Labels;
use crate::probe::{Pooling, ProbeFeatures, ProbeSplit};
use crate::results::Results;
use crate::split::Split;

impl TaskConfig {
    /// Opens every split and checks labels against `num_classes` (no pixels are read).
    pub fn prepare(&self) -> Result<PreparedTask> {
        let open_subset = |split: &str, subset: Option<f64>| -> Result<EvalDataset> {
            let ds = EvalDataset::open(self.dataset, &self.root, split, subset)?;
            if let Targets::MultiHot { num_labels, .. } = ds.targets()
                && *num_labels != self.num_classes
            {
                return Err(EvalError::Config {
                    field: format!("dataset.num_classes` in `{}", self.path.display()),
                    value: self.num_classes.to_string(),
                    reason: format!("split `{split}` has {num_labels} labels per sample"),
                });
            }
            if let Some((i, &l)) = ds
                .labels()
                .iter()
                .enumerate()
                .find(|&(_, &l)| l as usize >= self.num_classes)
            {
                return Err(EvalError::Config {
                    field: format!("dataset.num_classes` in `{}", self.path.display()),
                    value: self.num_classes.to_string(),
                    reason: format!(
                        "split `{split}` sample {i} ({}) has class {l} (`{}`); the class count \
                         disagrees with the labels ({} has {} classes)",
                        ds.sample_name(i),
                        self.dataset.class_name(l as usize),
                        self.dataset.id(),
                        self.dataset.num_classes()
                    ),
                });
            }
            Ok(ds)
        };
        let open = |split: &str| open_subset(split, None);
        let train = open_subset(&self.train, self.train_subset)?;
        if let TaskKind::Knn(k) = &self.kind {
            let max_k = k.ks.iter().copied().max().unwrap_or(0);
            if max_k > train.len() {
                return Err(EvalError::Config {
                    field: format!("knn.ks` in `{}", self.path.display()),
                    value: format!("{:?}", k.ks),
                    reason: format!(
                        "k = {max_k} exceeds the {} samples of split `{}`",
                        train.len(),
                        self.train
                    ),
                });
            }
        }
        Ok(PreparedTask {
            train,
            val: self.val.as_deref().map(open).transpose()?,
            test: open(&self.test)?,
            config: self.clone(),
        })
    }
}

/// A task whose splits are opened and checked.
#[derive(Debug, Clone)]
pub struct PreparedTask {
    /// The config.
    pub config: TaskConfig,
    /// Training split.
    pub train: EvalDataset,
    /// Validation split.
    pub val: Option<EvalDataset>,
    /// Test split.
    pub test: EvalDataset,
}

impl PreparedTask {
    fn features(
        &self,
        ds: &EvalDataset,
        model: &FrozenPanopticon,
        model_id: &str,
        cache: &FeatureCache,
        device: &Device,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<ProbeFeatures> {
        let c = &self.config;
        let mut listing = String::new();
        for i in 0..ds.len() {
            listing += &format!("{}\t{}\n", ds.sample_name(i), ds.targets().describe(i));
        }
        let root = std::fs::canonicalize(ds.root()).unwrap_or_else(|_| ds.root().to_path_buf());
        let key = FeatureCache::key(&[
            model_id,
            &format!("{}|{}", c.dataset.id(), c.dataset.registry_name()),
            &root.display().to_string(),
            ds.split(),
            &c.transform.describe(),
            &c.n_last_blocks.to_string(),
            &FeatureCache::key(&[&listing]),
        ]);
        cache.get_or_compute(&key, device, || {
            let error = RefCell::new(None);
            let total = ds.len();
            let split = ds.split().to_string();
            let out = extract_features(
                model,
                ds.batches(&c.transform, c.batch_size, device, &error),
                c.n_last_blocks,
                &mut |done| progress(&split, done, total),
            );
            if let Some(e) = error.into_inner() {
                return Err(e);
            }
            let f = out?;
            f.check_finite(&split)?;
            Ok(f)
        })
    }

    /// Runs the task: features (from `cache` when present), then kNN or the probe grid.
    /// `model_id` must change whenever the model's weights do (it keys the cache);
    /// `progress(split, done, total)` reports extraction.
    pub fn run(
        &self,
        model: &FrozenPanopticon,
        model_id: &str,
        cache: &FeatureCache,
        device: &Device,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<Results> {
        let c = &self.config;
        let labels = |ds: &EvalDataset| match ds.targets() {
            Targets::Classes(l) => Labels::multiclass(l, c.num_classes),
            Targets::MultiHot { values, num_labels } => {
                Labels::multilabel(values.clone(), *num_labels)
            }
        };
        let mut feats =
            |ds: &EvalDataset| self.features(ds, model, model_id, cache, device, progress);
        let train = feats(&self.train)?;
        let val = self.val.as_ref().map(&mut feats).transpose()?;
        let test = feats(&self.test)?;
        match &c.kind {
            TaskKind::Knn(knn) => {
                let split = |name: &str, f: &ProbeFeatures, ds: &EvalDataset| {
                    Split::new(name, f.pooled(1, Pooling::Cls)?, labels(ds)?)
                };
                let train = split("train", &train, &self.train)?;
                let val = match (&val, &self.val) {
                    (Some(f), Some(ds)) => Some(split("val", f, ds)?),
                    _ => None,
                };
                let test = split("test", &test, &self.test)?;
                Ok(knn.run(&c.name, &train, val.as_ref(), &test)?.results)
            }
            TaskKind::Linear(probe) => {
                let split = |name: &str, f: ProbeFeatures, ds: &EvalDataset| {
                    ProbeSplit::new(name, f, labels(ds)?)
                };
                let train = split("train", train, &self.train)?;
                let (Some(vf), Some(vds)) = (val, &self.val) else {
                    unreachable!("linear configs require dataset.val");
                };
                let val = split("val", vf, vds)?;
                let test = split("test", test, &self.test)?;
                Ok(probe
                    .run(&c.name, &train, &val, Some(&test), device)?
                    .results)
            }
        }
    }
}
