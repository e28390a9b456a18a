//! The frozen inference form (`Panopticon::to_frozen`: folded channel attention, cls-only last
//! block, fused CPU kernels, weight panels) against the trainable model it was made from: every
//! fixture case, per-sample ids, spec masks, SAR channels, batch sharing; and `to_frozen` again
//! after the weights change gives the new model's outputs (nothing stale).

mod common;

use burn::prelude::*;
use common::*;
use panopticon::{FrozenPanopticon, LayerSelection, Panopticon, PanopticonConfig, PanopticonInput};

fn pair() -> (FrozenPanopticon, Panopticon) {
    let (literal, _) = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &Device::default(),
    )
    .unwrap();
    (literal.to_frozen(), literal)
}

fn embed(model: &Panopticon, input: &PanopticonInput) -> TensorData {
    model.embed_patches(input).unwrap().into_data()
}

fn embed_frozen(model: &FrozenPanopticon, input: &PanopticonInput) -> TensorData {
    model.embed_patches(input).unwrap().into_data()
}

#[test]
fn frozen_equals_trainable_on_every_case() {
    let (folded, literal) = pair();
    for name in CASES {
        let input = case_input(&load_case(name), &Device::default());
        let d = max_abs_diff(&embed_frozen(&folded, &input), &embed(&literal, &input));
        println!("{name}: patch embedding max |frozen − trainable| = {d:.1e}");
        assert!(d <= 1e-5, "{name}: {d:e}");
        let d = max_abs_diff(
            &folded.forward(&input).unwrap().into_data(),
            &literal.forward(&input).unwrap().into_data(),
        );
        println!("{name}: cls max |frozen − trainable| = {d:.1e}");
        assert!(d <= 1e-4, "{name}: cls {d:e}");
        let want = literal.forward_features(&input, None).unwrap();
        let got = folded.forward_features(&input, None).unwrap();
        let d = max_abs_diff(
            &got.x_norm_patchtokens.into_data(),
            &want.x_norm_patchtokens.into_data(),
        );
        println!("{name}: patch tokens max |frozen − trainable| = {d:.1e}");
        assert!(d <= 1e-4, "{name}: patch tokens {d:e}");
        let sel = || LayerSelection::Indices(vec![0, 1]);
        let want = literal.intermediate_layers(&input, sel(), false).unwrap();
        let got = folded.intermediate_layers(&input, sel(), false).unwrap();
        for (g, w) in got.into_iter().zip(want) {
            let d = max_abs_diff(&g.patches.into_data(), &w.patches.into_data());
            assert!(d <= 1e-4, "{name}: block {} {d:e}", w.block);
        }
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
        let d = max_abs_diff(&embed_frozen(&folded, &input), &embed(&literal, &input));
        assert!(d <= 1e-5, "{d:e}");
    }
    // Shared ids across the batch take the once-per-batch route; same numbers.
    let input = PanopticonInput::with_shared_ids(imgs, &[490.0, 560.0, 665.0, -1.0, -2.0]).unwrap();
    let d = max_abs_diff(&embed_frozen(&folded, &input), &embed(&literal, &input));
    assert!(d <= 1e-5, "{d:e}");
}

#[test]
fn freezing_again_after_new_weights_gives_the_new_model() {
    let (old_frozen, mut model) = pair();
    let input = case_input(&load_case("case_b_s2_13band"), &Device::default());
    // Two forwards of one image each: the first lays the blocks' weight panels out, the second
    // reads them, so a stale layout would show below.
    let one = PanopticonInput::new(
        input.imgs().clone().narrow(0, 0, 1),
        panopticon::ChannelIds::new(
            input.chn_ids().values()[..input.chn_ids().channels()].to_vec(),
            1,
            input.chn_ids().channels(),
        )
        .unwrap(),
        None,
    )
    .unwrap();
    let before = old_frozen.forward(&one).unwrap().into_data();
    let _ = old_frozen.forward(&one).unwrap();
    // Load different weights (the training checkpoint's student) into the model.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checkpoints/train_checkpoint.pth");
    let opts = panopticon::LoadOptions {
        part: panopticon::CheckpointPart::Student,
        ..Default::default()
    };
    model.load_weights(&path, &opts).unwrap();
    let frozen = model.to_frozen();
    for input in [&input, &one] {
        let want = embed(&model, input);
        let scale = want.iter::<f32>().fold(0f32, |m, v| m.max(v.abs()));
        let d = max_abs_diff(&embed_frozen(&frozen, input), &want);
        // This checkpoint's embeddings reach ~7e3: judge rounding relative to that.
        assert!(
            d <= 1e-5 * scale.max(1.0),
            "stale fold: {d:e} at scale {scale}"
        );
        let want = model.forward(input).unwrap().into_data();
        let d = max_abs_diff(&frozen.forward(input).unwrap().into_data(), &want);
        assert!(d <= 1e-4, "stale blocks: {d:e}");
        let _ = frozen.forward(input).unwrap(); // panels laid out by now
        let d = max_abs_diff(&frozen.forward(input).unwrap().into_data(), &want);
        assert!(d <= 1e-4, "stale weight panels: {d:e}");
    }
    let changed = max_abs_diff(&frozen.forward(&one).unwrap().into_data(), &before);
    assert!(
        changed > 1e-3,
        "the student must differ from the fixture weights"
    );
    // The engine frozen before the change still computes the old weights' outputs.
    let d = max_abs_diff(&old_frozen.forward(&one).unwrap().into_data(), &before);
    assert_eq!(d, 0.0, "a frozen engine never changes");
}
