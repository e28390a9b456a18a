//! Frozen-backbone features (spec §6.2): the normalised cls tokens of the last `n` blocks and
//! the mean patch token of the last one, batch by batch, with an on-disk cache so repeated
//! probes skip the backbone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use panopticon_model::{FrozenPanopticon, LayerSelection, PanopticonInput};
use safetensors::tensor::{Dtype, TensorView};
use sha2::{Digest, Sha256};

use crate::error::{EvalError, Result};
use crate::probe::ProbeFeatures;

/// Runs `model` over `batches` and collects what every probe needs.
///
/// `n_last_blocks` ≥ 1 (4 in the paper's probes); `progress` gets the number of samples done.
///
/// # Shapes
/// output: `cls` `[N, n, D]` (oldest block first), `patch_mean` `[N, D]`, `global_pool`
/// `[N, D]` (DOFA: norm of the mean raw patch token; registers excluded).
pub fn extract_features(
    model: &FrozenPanopticon,
    batches: impl IntoIterator<Item = PanopticonInput>,
    n_last_blocks: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<ProbeFeatures> {
    if n_last_blocks == 0 || n_last_blocks > model.depth() {
        return Err(EvalError::Config {
            field: "n_last_blocks".into(),
            value: n_last_blocks.to_string(),
            reason: format!("must be between 1 and the model depth {}", model.depth()),
        });
    }
    let backbone = |e: panopticon_model::PanopticonError| EvalError::Config {
        field: "input".into(),
        value: "batch".into(),
        reason: e.to_string(),
    };
    let (mut cls, mut means, mut globals, mut done) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for input in batches {
        // Raw block outputs, normalised here: DOFA's global pool needs the raw patch mean.
        let layers = model
            .intermediate_layers(&input, LayerSelection::Last(n_last_blocks), false)
            .map_err(backbone)?;
        let tokens: Vec<Tensor<3>> = layers
            .iter()
            .map(|l| model.final_norm(l.cls.clone()).unsqueeze_dim(1))
            .collect();
        let last = layers.last().expect("n_last_blocks >= 1");
        let patches = last.patches.clone();
        means.push(
            model
                .final_norm(patches.clone())
                .mean_dim(1)
                .squeeze_dim::<2>(1),
        );
        globals.push(model.final_norm(patches.mean_dim(1).squeeze_dim::<2>(1)));
        done += last.cls.dims()[0];
        cls.push(Tensor::cat(tokens, 1));
        progress(done);
    }
    if cls.is_empty() {
        return Err(EvalError::EmptySplit {
            split: "features".into(),
        });
    }
    ProbeFeatures::new(Tensor::cat(cls, 0), Tensor::cat(means, 0))?
        .with_global_pool(Tensor::cat(globals, 0))
}

/// Extracted features on disk, one safetensors file per key.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    /// A cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache key of model, dataset split and transform descriptions (any strings that
    /// change whenever the features would: a weights hash, a split file hash, the transform
    /// config, the block count).
    pub fn key(parts: &[&str]) -> String {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update([0]);
        }
        h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("features-{key}.safetensors"))
    }

    /// The cached features of `key`, or `compute`'s (stored for next time). A cache file that
    /// cannot be read back is recomputed and replaced.
    pub fn get_or_compute(
        &self,
        key: &str,
        device: &Device,
        compute: impl FnOnce() -> Result<ProbeFeatures>,
    ) -> Result<ProbeFeatures> {
        if let Some(f) = self.load(key, device) {
            return Ok(f);
        }
        let features = compute()?;
        self.store(key, &features)?;
        Ok(features)
    }

    fn load(&self, key: &str, device: &Device) -> Option<ProbeFeatures> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let st = safetensors::SafeTensors::deserialize(&bytes).ok()?;
        let read = |name: &str| -> Option<TensorData> {
            let t = st.tensor(name).ok()?;
            if t.dtype() != Dtype::F32 {
                return None;
            }
            let v: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Some(TensorData::new(v, t.shape().to_vec()))
        };
        let cls = read("cls")?;
        let mean = read("patch_mean")?;
        // Caches written before the DOFA pool existed lack it: recomputed.
        let global = read("global_pool")?;
        if cls.shape().len() != 3 || mean.shape().len() != 2 {
            return None;
        }
        ProbeFeatures::new(
            Tensor::from_data(cls, device),
            Tensor::from_data(mean, device),
        )
        .and_then(|f| f.with_global_pool(Tensor::from_data(global, device)))
        .ok()
    }

    fn store(&self, key: &str, f: &ProbeFeatures) -> Result<()> {
        let path = self.path(key);
        let io = |source| EvalError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let cls = f.cls().clone().into_data();
        let mean = f.patch_mean().clone().into_data();
        let mut parts = vec![("cls", cls), ("patch_mean", mean)];
        if let Some(g) = f.global_pool() {
            parts.push(("global_pool", g.clone().into_data()));
        }
        let mut views = HashMap::new();
        for (name, data) in &parts {
            let view = TensorView::new(Dtype::F32, data.shape().to_vec(), data.as_bytes())
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
            views.insert(name.to_string(), view);
        }
        panopticon_atomic::write_with(&path, |tmp| {
            safetensors::serialize_to_file(views, None, tmp)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .map_err(io)
    }

    /// Where the cache lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
