//! The folded channel attention (the inference path of loaded models) against the literal one
//! it rearranges: every fixture case, per-sample ids, spec masks, SAR channels, batch sharing,
//! and refolding (weight panels included) after new weights are loaded.

mod common;

use burn::prelude::*;
use common::*;
use panopticon::{Panopticon, PanopticonConfig, PanopticonInput};

fn pair() -> (Panopticon, Panopticon) {
    let (folded, _) = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &Device::default(),
    )
    .unwrap();
    let mut literal = folded.clone();
    literal.unfold();
    assert!(folded.is_folded() && !literal.is_folded());
    (folded, literal)
}

fn embed(model: &Panopticon, input: &PanopticonInput) -> TensorData {
    model.embed_patches(input).unwrap().into_data()
}

#[test]
fn folded_equals_literal_on_every_case() {
    let (folded, literal) = pair();
    for name in CASES {
        let input = case_input(&load_case(name), &Device::default());
        let d = max_abs_diff(&embed(&folded, &input), &embed(&literal, &input));
        println!("{name}: patch embedding max |folded − literal| = {d:.1e}");
        assert!(d <= 1e-5, "{name}: {d:e}");
        let d = max_abs_diff(
            &folded.forward(&input).unwrap().into_data(),
            &literal.forward(&input).unwrap().into_data(),
        );
        assert!(d <= 1e-4, "{name}: cls {d:e}");
    }
}

#[test]
fn folded_handles_per_sample_ids_masks_and_sar() {
    let (folded, literal) = pair();
    let device = Device::default();
    let imgs = Tensor::<4>::random(
        [3, 5, 24, 40],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    // Three samples with different sensors: optical, SAR, mixed.
    let ids = TensorData::new(
        vec![
            490.0f32, 560.0, 665.0, 842.0, 1610.0, //
            -1.0, -2.0, -5.0, -10.0, -12.0, //
            443.0, -3.0, 705.0, -7.0, 2190.0,
        ],
        [3, 5],
    );
    let masks = TensorData::new(
        vec![
            false, false, true, false, true, //
            false, false, false, false, false, //
            true, false, false, true, false,
        ],
        [3, 5],
    );
    for m in [None, Some(masks)] {
        let input =
            PanopticonInput::from_data(imgs.clone().into_data(), ids.clone(), m, &device).unwrap();
        let d = max_abs_diff(&embed(&folded, &input), &embed(&literal, &input));
        assert!(d <= 1e-5, "{d:e}");
    }
    // Shared ids across the batch take the once-per-batch route; same numbers.
    let input = PanopticonInput::with_shared_ids(imgs, &[490.0, 560.0, 665.0, -1.0, -2.0]);
    let d = max_abs_diff(&embed(&folded, &input), &embed(&literal, &input));
    assert!(d <= 1e-5, "{d:e}");
}

#[test]
fn reloading_weights_refolds() {
    let (mut folded, literal) = pair();
    // Load different weights (the training checkpoint's student) into the folded model.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checkpoints/train_checkpoint.pth");
    let opts = panopticon::LoadOptions {
        part: panopticon::CheckpointPart::Student,
        ..Default::default()
    };
    folded.load_weights(&path, &opts).unwrap();
    assert!(folded.is_folded());
    let mut fresh = literal.clone();
    fresh.load_weights(&path, &opts).unwrap();
    let input = case_input(&load_case("case_b_s2_13band"), &Device::default());
    let changed = max_abs_diff(&embed(&literal, &input), &embed(&fresh, &input));
    assert!(
        changed > 1e-3,
        "the student must differ from the fixture weights"
    );
    let mut fresh_folded = fresh.clone();
    fresh_folded.fold();
    let want = embed(&fresh, &input);
    let scale = want.iter::<f32>().fold(0f32, |m, v| m.max(v.abs()));
    let d0 = max_abs_diff(&embed(&fresh_folded, &input), &want);
    let d = max_abs_diff(&embed(&folded, &input), &want);
    // This checkpoint's embeddings reach ~7e3: judge rounding relative to that.
    assert!(
        d <= 1e-5 * scale.max(1.0),
        "stale fold: {d:e} at scale {scale}"
    );
    assert_eq!(d, d0, "a refold must equal a fresh fold");
    // The blocks' weight panels are laid out again too: the whole forward is the new weights'.
    let want = fresh.forward(&input).unwrap().into_data();
    let d = max_abs_diff(&folded.forward(&input).unwrap().into_data(), &want);
    assert!(d <= 1e-4, "stale weight panels: {d:e}");
}
