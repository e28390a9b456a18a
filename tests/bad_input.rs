//! Every kind of bad input gets a typed error naming the offending value; nothing panics,
//! no NaN comes out, and the caller's tensors are left as they were.

mod common;

use burn::prelude::*;
use common::*;
use panopticon::model::{ChannelIdError, WeightsError};
use panopticon::{
    ChannelIds, FrozenPanopticon, Panopticon, PanopticonConfig, PanopticonError, PanopticonInput,
};

fn trainable() -> Panopticon {
    Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.safetensors"),
        &Device::default(),
    )
    .unwrap()
    .0
}

/// The inference form, as loaded models run.
fn model() -> FrozenPanopticon {
    trainable().to_frozen()
}

/// The checked input of images, `[B, C]` ids and optional masks (the errors of bad input).
fn input(
    imgs: Tensor<4>,
    ids: Tensor<2>,
    masks: Option<Tensor<2, Bool>>,
) -> Result<PanopticonInput, PanopticonError> {
    PanopticonInput::new(imgs, ChannelIds::from_tensor(&ids)?, masks)
}

/// The cls embedding of an input built from these parts: an error from building the input
/// or from the forward.
fn cls(
    m: &FrozenPanopticon,
    imgs: Tensor<4>,
    ids: Tensor<2>,
    masks: Option<Tensor<2, Bool>>,
) -> Result<Tensor<2>, PanopticonError> {
    m.forward(&input(imgs, ids, masks)?)
}

fn imgs(b: usize, c: usize, h: usize, w: usize) -> Tensor<4> {
    Tensor::random(
        [b, c, h, w],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &Device::default(),
    )
}

fn ids(v: &[&[f32]]) -> Tensor<2> {
    let (b, c) = (v.len(), v[0].len());
    let flat: Vec<f32> = v.iter().flat_map(|r| r.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [b, c]), &Device::default())
}

#[test]
fn chn_ids_length_must_match_channels() {
    let err = cls(&model(), imgs(1, 3, 16, 16), ids(&[&[664.0, 559.0]]), None).unwrap_err();
    assert!(
        matches!(&err, PanopticonError::Shape { name, got, .. } if name == "chn_ids" && got == &vec![1, 2]),
        "{err}"
    );
    assert!(err.to_string().contains("[B, C] = [1, 3]"), "{err}");
}

#[test]
fn sar_ids_must_be_integers_in_range() {
    let m = model();
    for bad in [-13.0f32, -1.5, -0.25] {
        let err = cls(&m, imgs(1, 2, 16, 16), ids(&[&[664.0, bad]]), None).unwrap_err();
        assert!(
            matches!(err, PanopticonError::ChannelId { sample: 0, channel: 1, source: ChannelIdError::InvalidSarId { value } } if value == f64::from(bad)),
            "{bad}: {err}"
        );
    }
    let err = cls(&m, imgs(1, 2, 16, 16), ids(&[&[f32::NAN, 664.0]]), None).unwrap_err();
    assert!(
        matches!(
            err,
            PanopticonError::ChannelId {
                channel: 0,
                source: ChannelIdError::NonFinite { .. },
                ..
            }
        ),
        "{err}"
    );
    // All twelve SAR ids are fine.
    let all: Vec<f32> = (1..=12).map(|i| -(i as f32)).collect();
    assert!(cls(&m, imgs(1, 12, 16, 16), ids(&[&all]), None).is_ok());
}

#[test]
fn images_smaller_than_a_patch_are_rejected() {
    let m = model(); // patch 8
    for (h, w) in [(7, 16), (16, 7), (4, 4)] {
        let err = cls(&m, imgs(1, 1, h, w), ids(&[&[664.0]]), None).unwrap_err();
        assert!(
            matches!(err, PanopticonError::ImageTooSmall { height, width, patch: 8 } if height == h && width == w),
            "{err}"
        );
    }
    // Exactly one patch works; trailing pixels are dropped like the stride-P convolution does.
    let out = cls(&m, imgs(1, 1, 8, 13), ids(&[&[664.0]]), None).unwrap();
    assert_eq!(out.dims(), [1, 48]);
}

#[test]
fn a_sample_with_every_channel_masked_is_an_error_not_nan() {
    let device = Device::default();
    let masks = Tensor::<2, Bool>::from_data(
        TensorData::new(vec![false, true, true, true], [2, 2]),
        &device,
    );
    // Refused when the input is built, before any forward.
    let err = input(
        imgs(2, 2, 16, 16),
        ids(&[&[664.0, -1.0], &[559.0, -2.0]]),
        Some(masks),
    )
    .unwrap_err();
    assert!(
        matches!(err, PanopticonError::AllChannelsMasked { sample: 1 }),
        "{err}"
    );
}

#[test]
fn nan_or_inf_pixels_are_named_by_channel() {
    let m = model();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut v = vec![0.5f32; 2 * 3 * 16 * 16];
        v[(3 + 2) * 256 + 17] = bad; // sample 1 (offset 3 channels), channel 2
        let x = Tensor::<4>::from_data(TensorData::new(v, [2, 3, 16, 16]), &Device::default());
        let err = cls(
            &m,
            x,
            ids(&[&[664.0, 559.0, 493.0], &[664.0, 559.0, 493.0]]),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                PanopticonError::NonFinitePixels {
                    sample: 1,
                    channel: 2
                }
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn nan_pixels_in_a_masked_channel_are_harmless() {
    let device = Device::default();
    let m = model();
    let clean = imgs(1, 3, 16, 16);
    let mut v: Vec<f32> = clean.to_data().try_into_vec_as::<f32>().unwrap();
    for x in &mut v[2 * 256..3 * 256] {
        *x = f32::NAN; // channel 2 is all no-data
    }
    let dirty = Tensor::<4>::from_data(TensorData::new(v, [1, 3, 16, 16]), &device);
    let masks =
        Tensor::<2, Bool>::from_data(TensorData::new(vec![false, false, true], [1, 3]), &device);
    let chn = ids(&[&[664.0, 559.0, 493.0]]);
    let a = cls(&m, dirty, chn.clone(), Some(masks.clone())).unwrap();
    let b = cls(&m, clean, chn, Some(masks)).unwrap();
    assert_eq!(max_abs_diff(&a.into_data(), &b.into_data()), 0.0);
}

#[test]
fn wrong_rank_or_dtype_of_raw_data() {
    let device = Device::default();
    let f = |shape: Vec<usize>| TensorData::new(vec![0f32; shape.iter().product()], shape);
    let err =
        PanopticonInput::from_data(f(vec![3, 16, 16]), f(vec![1, 3]), None, &device).unwrap_err();
    assert!(
        matches!(&err, PanopticonError::DType { name, .. } if name == "imgs"),
        "{err}"
    );
    let ints = TensorData::new(vec![0i64; 3 * 256], [1, 3, 16, 16]);
    let err = PanopticonInput::from_data(ints, f(vec![1, 3]), None, &device).unwrap_err();
    assert!(
        matches!(&err, PanopticonError::DType { name, .. } if name == "imgs"),
        "{err}"
    );
    let err =
        PanopticonInput::from_data(f(vec![1, 3, 16, 16]), f(vec![3]), None, &device).unwrap_err();
    assert!(
        matches!(&err, PanopticonError::DType { name, .. } if name == "chn_ids"),
        "{err}"
    );
    let bools = TensorData::new(vec![true; 3], [1, 3]);
    let err = PanopticonInput::from_data(f(vec![1, 3, 16, 16]), bools, None, &device).unwrap_err();
    assert!(
        matches!(&err, PanopticonError::DType { name, .. } if name == "chn_ids"),
        "{err}"
    );
    let err = PanopticonInput::from_data(
        f(vec![1, 3, 16, 16]),
        f(vec![1, 3]),
        Some(f(vec![1, 3])),
        &device,
    )
    .unwrap_err();
    assert!(
        matches!(&err, PanopticonError::DType { name, .. } if name == "spec_masks"),
        "{err}"
    );
}

#[test]
fn caller_tensors_are_not_modified() {
    let device = Device::default();
    let x = imgs(1, 3, 16, 16);
    let chn = ids(&[&[664.63, 559.97, -3.0]]);
    let masks =
        Tensor::<2, Bool>::from_data(TensorData::new(vec![false, false, true], [1, 3]), &device);
    let (x0, c0, m0) = (x.to_data(), chn.to_data(), masks.to_data());
    let input = input(x.clone(), chn.clone(), Some(masks.clone())).unwrap();
    model().forward_features(&input, None).unwrap();
    assert_eq!(x.to_data(), x0);
    assert_eq!(chn.to_data(), c0);
    assert_eq!(
        input.chn_ids().values(),
        c0.as_slice::<f32>().unwrap(),
        "float wavelengths must not be floored in place"
    );
    assert_eq!(masks.to_data(), m0);
    assert_eq!(input.spec_masks().unwrap().to_data(), m0);
}

#[test]
fn bad_layer_selections() {
    let m = model();
    let input = input(imgs(1, 1, 16, 16), ids(&[&[664.0]]), None).unwrap();
    for sel in [vec![2usize], vec![0, 0], vec![]] {
        let err = m
            .intermediate_layers(&input, sel.clone(), true)
            .unwrap_err();
        assert!(matches!(err, PanopticonError::Layers(_)), "{sel:?}: {err}");
    }
    assert!(matches!(
        m.intermediate_layers(&input, 3usize, true),
        Err(PanopticonError::Layers(_))
    ));
    let got = m.intermediate_layers(&input, vec![1, 0], false).unwrap();
    assert_eq!(
        got.iter().map(|l| l.block).collect::<Vec<_>>(),
        [0, 1],
        "forward order"
    );
}

fn weights_err(path: &std::path::Path) -> WeightsError {
    let mut m = PanopticonConfig::tiny_test()
        .init(&Device::default())
        .unwrap();
    match m.load_weights(path, &Default::default()) {
        Err(PanopticonError::Weights(e)) => e,
        other => panic!(
            "expected a weights error for {}, got {other:?}",
            path.display()
        ),
    }
}

#[test]
fn missing_truncated_and_foreign_weights_files() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        weights_err(&dir.path().join("nope.pth")),
        WeightsError::Io { .. }
    ));
    let not_ckpt = dir.path().join("notes.pth");
    std::fs::write(&not_ckpt, b"hello, these are not weights").unwrap();
    assert!(matches!(
        weights_err(&not_ckpt),
        WeightsError::Format { .. }
    ));
    for (src, cut) in [
        ("weights.pth", 1000usize),
        ("weights.pth", 200_000),
        ("weights.safetensors", 100_000),
        ("weights.safetensors", 3),
    ] {
        let bytes = std::fs::read(tiny_dir().join(src)).unwrap();
        let p = dir.path().join(format!("cut_{cut}_{src}"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let e = weights_err(&p);
        assert!(
            matches!(e, WeightsError::Format { .. } | WeightsError::Tensor { .. }),
            "{src} cut at {cut}: {e}"
        );
    }
}

fn rewrite(
    edit: impl FnOnce(&mut Vec<(String, TensorData)>),
) -> (tempfile::TempDir, std::path::PathBuf) {
    let src =
        panopticon::tensor_io::read_safetensors(tiny_dir().join("weights.safetensors")).unwrap();
    let mut tensors: Vec<_> = src.into_iter().collect();
    edit(&mut tensors);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.safetensors");
    panopticon::tensor_io::write_safetensors(&path, &tensors).unwrap();
    (dir, path)
}

#[test]
fn wrong_shaped_tensor_is_named() {
    let (_d, path) = rewrite(|t| {
        let e = t
            .iter_mut()
            .find(|(k, _)| k == "blocks.1.mlp.fc1.weight")
            .unwrap();
        e.1 = TensorData::new(vec![0f32; 100 * 48], [100, 48]);
    });
    match weights_err(&path) {
        WeightsError::ShapeMismatch { key, found, .. } => {
            assert_eq!(key, "blocks.1.mlp.fc1.weight");
            assert!(
                found == vec![100, 48] || found == vec![48, 100],
                "{found:?}"
            );
        }
        e => panic!("{e}"),
    }
}

#[test]
fn missing_tensor_is_named_and_unused_ones_too() {
    let (_d, path) = rewrite(|t| {
        t.retain(|(k, _)| k != "blocks.0.norm1.weight" && k != "patch_embed.chnfus.query")
    });
    match weights_err(&path) {
        WeightsError::Missing { keys, .. } => {
            let mut keys = keys;
            keys.sort();
            assert_eq!(keys, ["blocks.0.norm1.weight", "patch_embed.chnfus.query"]);
        }
        e => panic!("{e}"),
    }
    let (_d, path) =
        rewrite(|t| t.push(("head.weight".into(), TensorData::new(vec![0f32; 4], [2, 2]))));
    match weights_err(&path) {
        WeightsError::Unused { keys, .. } => assert_eq!(keys, ["head.weight"]),
        e => panic!("{e}"),
    }
    // Non-strict loading reports instead of failing.
    let mut m = PanopticonConfig::tiny_test()
        .init(&Device::default())
        .unwrap();
    let opts = panopticon::LoadOptions {
        strict: false,
        ..Default::default()
    };
    let report = m.load_weights(&path, &opts).unwrap();
    assert_eq!(report.unused, ["head.weight"]);
    assert_eq!(report.applied.len(), 43);
}

#[test]
fn pixels_within_the_bound_stay_finite_and_beyond_it_are_refused() {
    use panopticon::model::limits::MAX_ABS_PIXEL;
    let m = model();
    let id = ids(&[&[664.0, 559.0, 490.0]]);
    // At the bound (signs mixed, every pixel at ±1e8): the outputs stay finite.
    let at = imgs(1, 3, 32, 32).sign() * MAX_ABS_PIXEL;
    let ff = m
        .forward_features(&input(at, id.clone(), None).unwrap(), None)
        .unwrap();
    for t in [ff.x_norm_clstoken.into_data(), ff.x_prenorm.into_data()] {
        assert!(
            t.try_to_vec::<f32>().unwrap().iter().all(|x| x.is_finite()),
            "NaN at the bound"
        );
    }
    // Beyond it (3e38 is finite, and its sum is too for mixed signs): refused, not NaN.
    for v in [MAX_ABS_PIXEL * 1.5, 3e38] {
        let x = imgs(1, 3, 32, 32).sign() * v;
        let err = cls(&m, x, id.clone(), None).unwrap_err();
        assert!(
            matches!(
                err,
                PanopticonError::PixelTooLarge {
                    sample: 0,
                    channel: 0,
                    ..
                }
            ),
            "{v}: {err}"
        );
    }
}

#[test]
fn empty_batches_and_channels_are_errors() {
    let d = Device::default();
    let err = PanopticonInput::from_data(
        TensorData::new(Vec::<f32>::new(), [0, 3, 32, 32]),
        TensorData::new(Vec::<f32>::new(), [0, 3]),
        None,
        &d,
    )
    .unwrap_err();
    assert!(err.to_string().contains("B = 0"), "{err}");
    let err = PanopticonInput::from_data(
        TensorData::new(Vec::<f32>::new(), [1, 0, 32, 32]),
        TensorData::new(Vec::<f32>::new(), [1, 0]),
        None,
        &d,
    )
    .unwrap_err();
    assert!(err.to_string().contains("C = 0"), "{err}");
}

#[test]
fn masks_must_be_zero_or_one() {
    let d = Device::default();
    let x = || TensorData::new(vec![0.5f32; 3 * 16 * 16], [1, 3, 16, 16]);
    let id = || TensorData::new(vec![664.0f32, 559.0, 490.0], [1, 3]);
    let bad = TensorData::new(vec![0u8, 2, 0], [1, 3]);
    let err = PanopticonInput::from_data(x(), id(), Some(bad), &d).unwrap_err();
    assert!(
        err.to_string().contains("holds 2 at sample 0, channel 1"),
        "{err}"
    );
    let bool_two = TensorData::from_bytes_vec(
        vec![0, 2, 0],
        vec![1, 3],
        burn::tensor::DType::Bool(burn::tensor::BoolStore::Native),
    );
    assert!(PanopticonInput::from_data(x(), id(), Some(bool_two), &d).is_err());
    let ok = TensorData::new(vec![0i64, 1, 0], [1, 3]);
    assert!(PanopticonInput::from_data(x(), id(), Some(ok), &d).is_ok());
}

#[test]
fn the_token_cap_refuses_large_images_before_any_work() {
    let mut m = model();
    assert!(m.max_tokens() > 10_000, "default cap {}", m.max_tokens());
    m.set_max_tokens(16);
    let id = ids(&[&[664.0]]);
    // 32² at patch 8: 16 patches + cls = 17 tokens.
    let err = cls(&m, imgs(1, 1, 32, 32), id.clone(), None).unwrap_err();
    assert!(
        matches!(
            err,
            PanopticonError::TooManyTokens {
                tokens: 17,
                max: 16,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("--tile"), "{err}");
    assert!(cls(&m, imgs(1, 1, 24, 32), id, None).is_ok());
    // Checked from the size alone, before an image exists.
    assert!(m.check_image_size(1 << 20, 1 << 20).is_err());
}

#[test]
fn non_finite_weights_are_named_unless_allowed() {
    for (key, bad) in [
        ("blocks.1.mlp.fc2.weight", f32::NAN),
        ("pos_embed", f32::INFINITY),
    ] {
        let (_dir, path) = rewrite(|t| {
            let (_, v) = t.iter_mut().find(|(k, _)| k == key).unwrap();
            let shape = v.shape().to_vec();
            let mut vals = v.try_to_vec::<f32>().unwrap();
            vals[3] = bad;
            *v = TensorData::new(vals, shape);
        });
        match weights_err(&path) {
            WeightsError::NonFinite {
                key: k, count: 1, ..
            } => assert_eq!(k, key),
            e => panic!("{key}: {e}"),
        }
        let mut m = PanopticonConfig::tiny_test()
            .init(&Device::default())
            .unwrap();
        let opts = panopticon::LoadOptions {
            allow_nonfinite: true,
            ..Default::default()
        };
        m.load_weights(&path, &opts).unwrap();
    }
}

#[test]
fn configs_out_of_bounds_name_the_field() {
    let base = PanopticonConfig::tiny_test;
    let cases: Vec<(PanopticonConfig, &str)> = vec![
        (base().with_embed_dim(3_000_000_000), "embed_dim"),
        (base().with_depth(0), "depth 0"),
        (base().with_num_heads(5), "num_heads 5"),
        (base().with_mlp_ratio(1e300), "mlp_ratio"),
        (base().with_mlp_ratio(f64::NAN), "mlp_ratio"),
        (base().with_img_size(1_000_000_000), "img_size"),
        (base().with_patch_size(0), "patch_size 0"),
        (base().with_layer_norm_eps(0.0), "layer_norm_eps"),
        (base().with_init_values(Some(f64::INFINITY)), "init_values"),
        (
            base().with_num_register_tokens(1 << 30),
            "num_register_tokens",
        ),
        (
            base()
                .with_embed_dim(16384)
                .with_num_heads(16)
                .with_depth(1024),
            "parameters",
        ),
    ];
    for (cfg, field) in cases {
        let err = cfg.init(&Device::default()).unwrap_err();
        assert!(
            matches!(&err, PanopticonError::Config(m) if m.contains(field)),
            "{field}: {err}"
        );
    }
    for name in PanopticonConfig::PRESETS {
        let name = name.trim_end_matches("[_reg]");
        PanopticonConfig::preset(name).unwrap().validate().unwrap();
        if name.starts_with("dinov2") {
            let reg = format!("{name}_reg");
            PanopticonConfig::preset(&reg).unwrap().validate().unwrap();
        }
    }
}

#[test]
fn dino_head_configs_are_bounded() {
    use panopticon::model::DinoHeadConfig;
    let err = DinoHeadConfig::new(48)
        .with_out_dim(1 << 30)
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("head.out_dim"), "{err}");
    let err = DinoHeadConfig::new(48)
        .with_hidden_dim(65536)
        .with_nlayers(64)
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("parameters"), "{err}");
    DinoHeadConfig::new(768).validate().unwrap();
}

#[test]
fn save_burnpack_is_atomic_and_leaves_nothing_on_failure() {
    let m = trainable();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.bpk");
    m.save_burnpack(&out).unwrap();
    m.save_burnpack(&out).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["m.bpk"]);
    let (back, _) =
        Panopticon::from_file(&PanopticonConfig::tiny_test(), &out, &Device::default()).unwrap();
    assert_eq!(back.num_parameters(), m.num_parameters());
    // Into a missing directory: a typed error, no stray temp file anywhere.
    let err = m
        .save_burnpack(dir.path().join("no/such/m.bpk"))
        .unwrap_err();
    assert!(
        matches!(err, PanopticonError::Weights(WeightsError::Write { .. })),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
