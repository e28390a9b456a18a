//! Feature extraction from a frozen tiny Panopticon: the parts equal the model's own outputs,
//! and the on-disk cache serves repeated requests without running the backbone.

use std::cell::Cell;
use std::path::PathBuf;

use burn::prelude::*;
use panopticon_eval::{EvalError, FeatureCache, extract_features, probe::Pooling};
use panopticon_model::{FrozenPanopticon, Panopticon, PanopticonConfig, PanopticonInput};

fn model() -> FrozenPanopticon {
    let w = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/panopticon-tiny/weights.pth");
    Panopticon::from_file(&PanopticonConfig::tiny_test(), w, &Device::default())
        .unwrap()
        .0
        .to_frozen()
}

fn batch(seed: f64, b: usize) -> PanopticonInput {
    let device = Device::default();
    let imgs = Tensor::<4>::random(
        [b, 4, 32, 40],
        burn::tensor::Distribution::Normal(seed, 1.0),
        &device,
    );
    PanopticonInput::with_shared_ids(imgs, &[490.0, 560.0, 665.0, -1.0]).unwrap()
}

fn max_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

/// Extraction re-batches (2 per forward, here against 3 and 2), and the CPU GEMM's blocking,
/// hence its f32 summation order, depends on the batch and the machine: the layer-normed outputs
/// (magnitude ~1) agree to a few ulps, not bit for bit.
const TOL: f32 = 1e-5;

fn assert_close(a: Tensor<2>, b: Tensor<2>, what: &str) {
    let d = max_diff(a, b);
    assert!(d < TOL, "{what}: max |diff| {d:e} >= {TOL:e}");
}

#[test]
fn parts_equal_the_models_outputs() {
    let m = model();
    let batches = vec![batch(0.0, 3), batch(0.5, 2)];
    let mut seen = Vec::new();
    let f = extract_features(&m, batches.clone(), 2, &mut |n| seen.push(n)).unwrap();
    assert_eq!(seen, [3, 5]);
    assert_eq!((f.len(), f.num_blocks(), f.token_dim()), (5, 2, 48));
    // The last block's normalised cls token is the model's output.
    let want = Tensor::cat(batches.iter().map(|b| m.forward(b).unwrap()).collect(), 0);
    let last = f.pooled(1, Pooling::Cls).unwrap();
    assert_close(last, want, "last-block cls");
    // The patch mean is the mean of the normalised patch tokens.
    let ff: Vec<_> = batches
        .iter()
        .map(|b| {
            m.forward_features(b, None)
                .unwrap()
                .x_norm_patchtokens
                .mean_dim(1)
                .squeeze_dim::<2>(1)
        })
        .collect();
    assert_close(f.patch_mean().clone(), Tensor::cat(ff, 0), "patch mean");
    // DOFA poolings: norm(mean of the raw last-block patch tokens); the last normalised cls.
    let raw: Vec<_> = batches
        .iter()
        .map(|b| {
            let l = m.intermediate_layers(b, 1, false).unwrap().pop().unwrap();
            m.final_norm(l.patches.mean_dim(1).squeeze_dim::<2>(1))
        })
        .collect();
    let global = f.pooled(2, Pooling::DofaGlobalpool).unwrap();
    assert_eq!(global.dims(), [5, 48]);
    assert_close(global, Tensor::cat(raw, 0), "DOFA global pool");
    let no_global = f.pooled(2, Pooling::DofaNoGlobalpool).unwrap();
    assert!(max_diff(no_global, f.pooled(1, Pooling::Cls).unwrap()) == 0.0);
    assert_eq!(
        Pooling::parse("DOFA_globalpool"),
        Some(Pooling::DofaGlobalpool)
    );
    assert_eq!(Pooling::parse("avg"), None);

    let err = extract_features(&m, batches, 3, &mut |_| {}).unwrap_err();
    assert!(matches!(err, EvalError::Config { .. }), "{err}");
}

#[test]
fn the_cache_skips_the_backbone_and_heals_corrupt_files() {
    let m = model();
    let dir = tempfile::tempdir().unwrap();
    let cache = FeatureCache::new(dir.path().join("cache"));
    let key = FeatureCache::key(&["tiny", "split-a", "resize224", "n=2"]);
    assert_ne!(
        key,
        FeatureCache::key(&["tiny", "split-a", "resize224", "n=1"])
    );
    let runs = Cell::new(0);
    let compute = || {
        runs.set(runs.get() + 1);
        extract_features(&m, vec![batch(0.0, 3)], 2, &mut |_| {})
    };
    let device = Device::default();
    let a = cache.get_or_compute(&key, &device, compute).unwrap();
    let b = cache.get_or_compute(&key, &device, compute).unwrap();
    assert_eq!(runs.get(), 1, "second request must come from disk");
    assert!(max_diff(a.patch_mean().clone(), b.patch_mean().clone()) == 0.0);
    assert_eq!(a.cls().clone().into_data(), b.cls().clone().into_data());

    let file = std::fs::read_dir(cache.dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .unwrap();
    std::fs::write(&file, b"garbage").unwrap();
    let c = cache.get_or_compute(&key, &device, compute).unwrap();
    assert_eq!(runs.get(), 2, "a corrupt cache file is recomputed");
    assert_eq!(c.len(), 3);
}
