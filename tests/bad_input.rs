//! Every kind of bad input gets a typed error naming the offending value; nothing panics,
//! no NaN comes out, and the caller's tensors are left as they were.

mod common;

use burn::prelude::*;
use common::*;
use panopticon::model::WeightsError;
use panopticon::{Panopticon, PanopticonConfig, PanopticonError, PanopticonInput};

fn model() -> Panopticon {
    Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.safetensors"),
        &Device::default(),
    )
    .unwrap()
    .0
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
    let err = model()
        .forward(&PanopticonInput::new(
            imgs(1, 3, 16, 16),
            ids(&[&[664.0, 559.0]]),
        ))
        .unwrap_err();
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
        let err = m
            .forward(&PanopticonInput::new(
                imgs(1, 2, 16, 16),
                ids(&[&[664.0, bad]]),
            ))
            .unwrap_err();
        assert!(
            matches!(err, PanopticonError::InvalidSarId { value, sample: 0, channel: 1 } if value == bad),
            "{bad}: {err}"
        );
    }
    let err = m
        .forward(&PanopticonInput::new(
            imgs(1, 2, 16, 16),
            ids(&[&[f32::NAN, 664.0]]),
        ))
        .unwrap_err();
    assert!(
        matches!(err, PanopticonError::NonFiniteChannelId { channel: 0, .. }),
        "{err}"
    );
    // All twelve SAR ids are fine.
    let all: Vec<f32> = (1..=12).map(|i| -(i as f32)).collect();
    assert!(
        m.forward(&PanopticonInput::new(imgs(1, 12, 16, 16), ids(&[&all])))
            .is_ok()
    );
}

#[test]
fn images_smaller_than_a_patch_are_rejected() {
    let m = model(); // patch 8
    for (h, w) in [(7, 16), (16, 7), (4, 4)] {
        let err = m
            .forward(&PanopticonInput::new(imgs(1, 1, h, w), ids(&[&[664.0]])))
            .unwrap_err();
        assert!(
            matches!(err, PanopticonError::ImageTooSmall { height, width, patch: 8 } if height == h && width == w),
            "{err}"
        );
    }
    // Exactly one patch works; trailing pixels are dropped like the stride-P convolution does.
    let out = m
        .forward(&PanopticonInput::new(imgs(1, 1, 8, 13), ids(&[&[664.0]])))
        .unwrap();
    assert_eq!(out.dims(), [1, 48]);
}

#[test]
fn a_sample_with_every_channel_masked_is_an_error_not_nan() {
    let device = Device::default();
    let masks = Tensor::<2, Bool>::from_data(
        TensorData::new(vec![false, true, true, true], [2, 2]),
        &device,
    );
    let input = PanopticonInput::new(imgs(2, 2, 16, 16), ids(&[&[664.0, -1.0], &[559.0, -2.0]]))
        .with_spec_masks(masks);
    let err = model().forward(&input).unwrap_err();
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
        let err = m
            .forward(&PanopticonInput::new(
                x,
                ids(&[&[664.0, 559.0, 493.0], &[664.0, 559.0, 493.0]]),
            ))
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
    let a = m
        .forward(&PanopticonInput::new(dirty, chn.clone()).with_spec_masks(masks.clone()))
        .unwrap();
    let b = m
        .forward(&PanopticonInput::new(clean, chn).with_spec_masks(masks))
        .unwrap();
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
    let input = PanopticonInput::new(x.clone(), chn.clone()).with_spec_masks(masks.clone());
    let (x0, c0, m0) = (x.to_data(), chn.to_data(), masks.to_data());
    model().forward_features(&input, None).unwrap();
    assert_eq!(input.imgs.to_data(), x0);
    assert_eq!(
        input.chn_ids.to_data(),
        c0,
        "float wavelengths must not be floored in place"
    );
    assert_eq!(input.spec_masks.as_ref().unwrap().to_data(), m0);
}

#[test]
fn bad_layer_selections() {
    let m = model();
    let input = PanopticonInput::new(imgs(1, 1, 16, 16), ids(&[&[664.0]]));
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
