//! Parity with the official PyTorch model on the shared tiny fixtures: every reference
//! tensor of every case, with weights from `weights.pth` and from `weights.safetensors`.
//! Tolerance: `atol 5e-5` (the fixture README's bound for a float32 port); `pe.chn_emb`
//! is held to `1e-6` since torch's ω table is reproduced bit for bit.

mod common;

use std::collections::BTreeSet;

use burn::prelude::*;
use common::forms::Outputs;
use common::*;
use panopticon::model::{PatchEmbedding, TokenGrid};
use panopticon::{ChannelIds, LayerSelection, Panopticon, PanopticonConfig};

const ATOL: f32 = 5e-5;

fn load(weights: &str) -> Panopticon {
    let device = Device::default();
    let (model, report) = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join(weights),
        &device,
    )
    .unwrap_or_else(|e| panic!("{weights}: {e}"));
    assert_eq!(report.applied.len(), 43, "{report}"); // 13 top-level + 2 blocks × 14 + final norm 2
    assert!(
        report.missing.is_empty() && report.unused.is_empty(),
        "{report}"
    );
    model
}

/// Checks the layers of `model` and the outputs of `outputs` (the model or its frozen form).
fn check_case(model: &Panopticon, outputs: &dyn Outputs, name: &str) -> f32 {
    let device = model.device();
    let case = load_case(name);
    let input = case_input(&case, &device);
    let mut checked: BTreeSet<&str> = [
        "input.imgs",
        "input.chn_ids",
        "input.spec_masks",
        "input.token_masks",
    ]
    .into();
    let mut worst = 0f32;
    let mut check = |key: &'static str, got: Tensor<4>, atol: f32| {
        if let Some(want) = case.get(key) {
            worst = worst.max(assert_close(&format!("{name}/{key}"), got, want, atol));
            checked.insert(key);
        }
    };
    let PatchEmbedding::Panopticon(pe) = &model.patch_embed else {
        unreachable!()
    };
    check(
        "pe.chn_emb",
        pe.chnfus.chnemb.forward(input.chn_ids()).unsqueeze(),
        1e-6,
    );
    // The raw pixels: the checked input has its masked channels zeroed.
    let raw = Tensor::<4>::from_data(case["input.imgs"].clone().convert::<f32>(), &device);
    check("pe.conv3d", pe.conv3d.forward(raw), ATOL);
    check("pe.out", outputs.embed_patches(&input).unsqueeze(), ATOL);
    let [_, _, h, w] = input.dims();
    check(
        "pos_embed_interp",
        model.pos_embed_for(h, w).unsqueeze(),
        ATOL,
    );
    let TokenGrid { tokens, .. } = outputs.prepare_tokens(&input);
    check("tokens.in", tokens.clone().unsqueeze(), ATOL);
    let TokenGrid { tokens: mut x, .. } = model.prepare_tokens(&input, None).unwrap();
    for (i, blk) in model.blocks.iter().enumerate() {
        x = blk.forward(x);
        check(
            ["dbg.block.0", "dbg.block.1"][i],
            x.clone().unsqueeze(),
            ATOL,
        );
    }
    check("out.cls", outputs.cls(&input).unsqueeze(), ATOL);
    let ff = outputs.features(&input, None);
    check("ff.x_norm_clstoken", ff.x_norm_clstoken.unsqueeze(), ATOL);
    check(
        "ff.x_norm_patchtokens",
        ff.x_norm_patchtokens.unsqueeze(),
        ATOL,
    );
    check("ff.x_prenorm", ff.x_prenorm.unsqueeze(), ATOL);
    let inter = outputs.layers(&input, LayerSelection::Last(2));
    assert_eq!(inter.iter().map(|l| l.block).collect::<Vec<_>>(), [0, 1]);
    for l in &inter {
        let (pk, ck, rk) = [
            ("inter.0.patch", "inter.0.cls", "inter_reshape.0.patch"),
            ("inter.1.patch", "inter.1.cls", "inter_reshape.1.patch"),
        ][l.block];
        check(pk, l.patches.clone().unsqueeze(), ATOL);
        check(ck, l.cls.clone().unsqueeze(), ATOL);
        check(rk, l.patch_map(), ATOL);
    }
    if let Some(masks) = case.get("input.token_masks") {
        let masks = Tensor::<2, Bool>::from_data(masks.clone(), &device);
        let ff = outputs.features(&input, Some(masks));
        check(
            "masked.x_norm_clstoken",
            ff.x_norm_clstoken.unsqueeze(),
            ATOL,
        );
        check(
            "masked.x_norm_patchtokens",
            ff.x_norm_patchtokens.unsqueeze(),
            ATOL,
        );
    }
    let unchecked: Vec<_> = case
        .keys()
        .filter(|k| !checked.contains(k.as_str()))
        .collect();
    assert!(
        unchecked.is_empty(),
        "{name}: reference tensors not checked: {unchecked:?}"
    );
    worst
}

/// The frozen form, as inference runs.
fn check_all(weights: &str) {
    let model = load(weights);
    check_model(&model, &model.to_frozen(), weights);
}

fn check_model(model: &Panopticon, outputs: &dyn Outputs, label: &str) {
    for name in CASES {
        let worst = check_case(model, outputs, name);
        println!("{label} {name}: max |Δ| = {worst:.2e}");
    }
}

#[test]
fn all_cases_match_pytorch_with_pth_weights() {
    check_all("weights.pth");
}

/// Inference runs the frozen form; the trainable model must match PyTorch too.
#[test]
fn all_cases_match_pytorch_on_the_trainable_model() {
    let model = load("weights.pth");
    check_model(&model, &model, "trainable");
}

#[test]
fn all_cases_match_pytorch_with_safetensors_weights() {
    check_all("weights.safetensors");
}

#[test]
fn sincos_omega_is_torchs_table() {
    let aux = panopticon::tensor_io::read_safetensors(tiny_dir().join("aux.safetensors")).unwrap();
    let want: Vec<f32> = aux["sincos_omega"]
        .clone()
        .try_into_vec_as::<f32>()
        .unwrap();
    assert_eq!(panopticon::model::sincos_omega(48), want);
    // The ids of aux's self-check, through the channel embedding.
    let model = load("weights.safetensors");
    let PatchEmbedding::Panopticon(pe) = &model.patch_embed else {
        unreachable!()
    };
    let mus = Tensor::<2>::from_data(aux["check.mus"].clone().convert::<f32>(), &model.device());
    let got = pe
        .chnfus
        .chnemb
        .forward(&ChannelIds::from_tensor(&mus).unwrap());
    assert_close("check.chn_emb", got, &aux["check.chn_emb"], 1e-6);
}
