//! Parity with the official PyTorch model on the shared tiny fixtures: every reference
//! tensor of every case, with weights from `weights.pth` and from `weights.safetensors`.
//! Tolerance: `atol 5e-5` (the fixture README's bound for a float32 port); `pe.chn_emb`
//! is held to `1e-6` since torch's ω table is reproduced bit for bit.

mod common;

use std::collections::BTreeSet;

use burn::prelude::*;
use common::*;
use panopticon::model::patch_embed::HostChnIds;
use panopticon::model::{PatchEmbedding, Prepared};
use panopticon::{LayerSelection, Panopticon, PanopticonConfig};

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

fn check_case(model: &Panopticon, name: &str) -> f32 {
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
    let ids = HostChnIds::read(&input.chn_ids).unwrap();
    check(
        "pe.chn_emb",
        pe.chnfus.chnemb.forward(&ids).unsqueeze(),
        1e-6,
    );
    check("pe.conv3d", pe.conv3d.forward(input.imgs.clone()), ATOL);
    check(
        "pe.out",
        model.embed_patches(&input).unwrap().unsqueeze(),
        ATOL,
    );
    let [_, _, h, w] = input.imgs.dims();
    check(
        "pos_embed_interp",
        model.pos_embed_for(h, w).unsqueeze(),
        ATOL,
    );
    let Prepared { tokens, .. } = model.prepare_tokens(&input, None).unwrap();
    check("tokens.in", tokens.clone().unsqueeze(), ATOL);
    let mut x = tokens;
    for (i, blk) in model.blocks.iter().enumerate() {
        x = blk.forward(x);
        check(
            ["dbg.block.0", "dbg.block.1"][i],
            x.clone().unsqueeze(),
            ATOL,
        );
    }
    check("out.cls", model.forward(&input).unwrap().unsqueeze(), ATOL);
    let ff = model.forward_features(&input, None).unwrap();
    check("ff.x_norm_clstoken", ff.x_norm_clstoken.unsqueeze(), ATOL);
    check(
        "ff.x_norm_patchtokens",
        ff.x_norm_patchtokens.unsqueeze(),
        ATOL,
    );
    check("ff.x_prenorm", ff.x_prenorm.unsqueeze(), ATOL);
    let inter = model
        .intermediate_layers(&input, LayerSelection::Last(2), true)
        .unwrap();
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
        let ff = model.forward_features(&input, Some(masks)).unwrap();
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

fn check_all(weights: &str) {
    check_model(&load(weights), weights);
}

fn check_model(model: &Panopticon, label: &str) {
    for name in CASES {
        let worst = check_case(model, name);
        println!("{label} {name}: max |Δ| = {worst:.2e}");
    }
}

#[test]
fn all_cases_match_pytorch_with_pth_weights() {
    check_all("weights.pth");
}

/// Loaded models run the folded channel attention; the literal one must match PyTorch too.
#[test]
fn all_cases_match_pytorch_on_the_literal_path() {
    let mut model = load("weights.pth");
    assert!(model.is_folded());
    model.unfold();
    assert!(!model.is_folded());
    check_model(&model, "literal");
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
    assert_eq!(panopticon::model::patch_embed::sincos_omega(48), want);
    // The ids of aux's self-check, through the channel embedding.
    let model = load("weights.safetensors");
    let PatchEmbedding::Panopticon(pe) = &model.patch_embed else {
        unreachable!()
    };
    let mus = Tensor::<2>::from_data(aux["check.mus"].clone().convert::<f32>(), &model.device());
    let got = pe.chnfus.chnemb.forward(&HostChnIds::read(&mus).unwrap());
    assert_close("check.chn_emb", got, &aux["check.chn_emb"], 1e-6);
}
