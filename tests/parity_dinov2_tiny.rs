//! Parity of the stock-DINOv2 variants (conv patch embedding, 4 register tokens, SwiGLU FFN,
//! antialiased size-based position resize) with PyTorch, on `tests/fixtures/dinov2-tiny`
//! (made by `scripts/gen_dinov2_variants.py`, checked there against the official
//! facebookresearch/dinov2 code to ≤ 2.2e-6). Tolerance `atol 5e-5`.

mod common;

use std::path::PathBuf;

use burn::prelude::*;
use common::forms::Outputs;
use common::*;
use panopticon::model::{ConvPatchEmbedConfig, FfnLayer, PatchEmbedConfig};
use panopticon::tensor_io::read_safetensors;
use panopticon::{LayerSelection, Panopticon, PanopticonConfig, PanopticonInput};

const ATOL: f32 = 5e-5;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dinov2-tiny")
}

fn config() -> PanopticonConfig {
    PanopticonConfig::new(PatchEmbedConfig::Conv(ConvPatchEmbedConfig::new()))
        .with_img_size(32)
        .with_patch_size(8)
        .with_embed_dim(48)
        .with_depth(2)
        .with_num_heads(3)
        .with_ffn_layer(FfnLayer::SwiGlu)
        .with_num_register_tokens(4)
        .with_interpolate_offset(0.0)
        .with_interpolate_antialias(true)
}

/// Both forms of `model`: the trainable one and its frozen inference form.
fn check(model: &Panopticon, name: &str) {
    check_form(model, model, &format!("trainable {name}"), name);
    check_form(model, &model.to_frozen(), &format!("frozen {name}"), name);
}

fn check_form(model: &Panopticon, form: &dyn Outputs, label: &str, name: &str) {
    let device = model.device();
    let case = read_safetensors(dir().join(format!("{name}.safetensors"))).unwrap();
    let imgs = case["input.imgs"].clone();
    let b = imgs.shape()[0];
    let ids = TensorData::new(vec![0f32; b * 3], [b, 3]); // ignored by the conv embedding
    let input = PanopticonInput::from_data(imgs, ids, None, &device).unwrap();
    let [_, _, h, w] = input.dims();
    let mut got: Vec<(&str, TensorData)> = vec![
        ("pos_embed_interp", model.pos_embed_for(h, w).into_data()),
        ("tokens.in", form.prepare_tokens(&input).tokens.into_data()),
        ("out.cls", form.cls(&input).into_data()),
    ];
    let ff = form.features(&input, None);
    got.push(("ff.x_norm_clstoken", ff.x_norm_clstoken.into_data()));
    got.push((
        "ff.x_norm_regtokens",
        ff.x_norm_regtokens.unwrap().into_data(),
    ));
    got.push(("ff.x_norm_patchtokens", ff.x_norm_patchtokens.into_data()));
    got.push(("ff.x_prenorm", ff.x_prenorm.into_data()));
    for l in form.layers(&input, LayerSelection::Last(2)) {
        let i = l.block;
        got.push((
            ["inter_reshape.0.patch", "inter_reshape.1.patch"][i],
            l.patch_map().into_data(),
        ));
        got.push((["inter.0.patch", "inter.1.patch"][i], l.patches.into_data()));
        got.push((["inter.0.cls", "inter.1.cls"][i], l.cls.into_data()));
    }
    if let Some(m) = case.get("input.token_masks") {
        let ff = form.features(&input, Some(Tensor::from_data(m.clone(), &device)));
        got.push(("masked.x_norm_clstoken", ff.x_norm_clstoken.into_data()));
        got.push((
            "masked.x_norm_patchtokens",
            ff.x_norm_patchtokens.into_data(),
        ));
    }
    let references = case.keys().filter(|k| !k.starts_with("input.")).count();
    assert_eq!(
        got.len(),
        references,
        "{name}: every reference tensor is checked"
    );
    let mut worst = 0f32;
    for (key, data) in got {
        let want = case
            .get(key)
            .unwrap_or_else(|| panic!("{name}: no reference {key}"));
        let err = max_abs_diff(&data, want);
        assert!(err <= ATOL, "{label}/{key}: max |Δ| = {err:e}");
        worst = worst.max(err);
    }
    println!("{label}: max |Δ| = {worst:.2e}");
}

#[test]
fn registers_swiglu_conv_and_antialiased_resize_match_pytorch() {
    let (mut model, report) = Panopticon::from_file(
        &config(),
        dir().join("weights.safetensors"),
        &Device::default(),
    )
    .unwrap();
    assert!(
        report.missing.is_empty() && report.unused.is_empty(),
        "{report}"
    );
    for name in [
        "case_a_native",
        "case_b_down",
        "case_c_up",
        "case_d_nonsquare",
    ] {
        check(&model, name);
    }
    // Same weights, DINOv2's default offset-0.1 scale-factor resize without antialias.
    model.config.interpolate_offset = 0.1;
    model.config.interpolate_antialias = false;
    check(&model, "case_e_offset_nonaa");
}
