//! Checkpoint → burnpack conversion (`convert_checkpoint`, `cargo xtask import-weights`,
//! `panopticon weights convert`): exact for f32, within 1e-2 for f16/bf16, every layout,
//! heads, stage-1 DINOv2 initialisation, and refusals.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::*;
use common::*;
use panopticon::model::{
    ConvertOptions, DinoHead, PanopticonPeConfig, Precision, SourceKind, WeightsError,
    convert_checkpoint,
};
use panopticon::{
    CheckpointPart, FfnLayer, Panopticon, PanopticonConfig, PanopticonError, PatchEmbedConfig,
};

fn ckpt(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checkpoints")
        .join(name)
}

/// Output of a converted file on a fixture case.
fn cls_of(config: &PanopticonConfig, bpk: &Path) -> Tensor<2> {
    let device = Device::default();
    let (m, _) = Panopticon::from_file(config, bpk, &device).unwrap();
    m.forward(&case_input(&load_case("case_b_s2_13band"), &device))
        .unwrap()
}

#[test]
fn tiny_teacher_f32_is_exact_and_half_precisions_are_close() {
    let dir = tempfile::tempdir().unwrap();
    let want = load_case("case_b_s2_13band")["out.cls"].clone();
    let cfg = PanopticonConfig::tiny_test();
    let mut sizes = Vec::new();
    let scale = want.iter::<f32>().fold(0.0f32, |m, v| m.max(v.abs()));
    for precision in [Precision::F32, Precision::F16, Precision::Bf16] {
        // PyTorch's f32 output vs ours from the rounded weights.
        let atol = 5e-5 + precision.allowed(scale);
        let out = dir.path().join(format!("tiny-{precision:?}.bpk"));
        let opts = ConvertOptions {
            kind: SourceKind::Teacher,
            precision,
            ..Default::default()
        };
        let r = convert_checkpoint(
            &cfg,
            tiny_dir().join("weights.pth"),
            &out,
            &opts,
            &Device::default(),
        )
        .unwrap();
        assert_eq!(r.load.applied.len(), 43);
        assert!(r.load.missing.is_empty() && r.load.unused.is_empty());
        assert!(
            r.max_abs_diff <= r.allowed,
            "{precision:?}: {}",
            r.max_abs_diff
        );
        eprintln!(
            "{precision:?}: max diff {:e}, allowed {:e}",
            r.max_abs_diff, r.allowed
        );
        if precision == Precision::F32 {
            assert_eq!(r.max_abs_diff, 0.0);
        }
        assert_eq!(r.bytes, std::fs::metadata(&out).unwrap().len());
        sizes.push(r.bytes);
        // Against PyTorch's own output, not only against our source load.
        assert_close("out.cls", cls_of(&cfg, &out), &want, atol);
    }
    assert!(sizes[1] < sizes[0] * 6 / 10, "f16 not smaller: {sizes:?}");
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}

/// Every tensor of a converted file: name → (dtype, little-endian bytes).
fn tensors_of(bpk: &Path) -> std::collections::BTreeMap<String, (burn::tensor::DType, Vec<u8>)> {
    use burn::store::burn_pack::Reader;
    Reader::from_file(bpk)
        .unwrap()
        .into_tensors()
        .unwrap()
        .into_iter()
        .map(|t| {
            let (name, dtype, _, _, bytes) = t.into_parts().unwrap();
            (name, (dtype, bytes.to_vec()))
        })
        .collect()
}

/// bf16 by round-to-nearest-even of the upper 16 bits: PyTorch's `.bfloat16()` for finite values.
fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

#[test]
fn half_precision_rounds_weight_matrices_like_torch_and_keeps_the_rest_f32() {
    use burn::tensor::DType;
    let dir = tempfile::tempdir().unwrap();
    let cfg = PanopticonConfig::tiny_test();
    let mut files = Vec::new();
    for precision in [Precision::F32, Precision::Bf16, Precision::F16] {
        let out = dir.path().join(format!("{precision:?}.bpk"));
        let opts = ConvertOptions {
            kind: SourceKind::Teacher,
            precision,
            ..Default::default()
        };
        let src = tiny_dir().join("weights.pth");
        convert_checkpoint(&cfg, src, &out, &opts, &Device::default()).unwrap();
        files.push(tensors_of(&out));
    }
    let (exact, bf16, f16) = (&files[0], &files[1], &files[2]);
    assert_eq!(exact.len(), bf16.len());
    let (mut rounded, mut kept) = (0, Vec::new());
    for (name, (dtype, bytes)) in exact {
        assert_eq!(*dtype, DType::F32, "{name}");
        let src: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        let (bf_dtype, bf_bytes) = &bf16[name];
        let (f16_dtype, f16_bytes) = &f16[name];
        if *bf_dtype == DType::BF16 {
            rounded += 1;
            assert_eq!(*f16_dtype, DType::F16, "{name}");
            for (i, (x, b)) in src.iter().zip(bf_bytes.chunks_exact(2)).enumerate() {
                let got = u16::from_le_bytes([b[0], b[1]]);
                assert_eq!(got, bf16_bits(*x), "{name}[{i}] = {x}");
            }
            for (x, b) in src.iter().zip(f16_bytes.chunks_exact(2)) {
                let got = burn::tensor::f16::from_le_bytes([b[0], b[1]]).to_f32();
                assert!(
                    (got - x).abs() <= x.abs() * 2f32.powi(-11) + 6e-8,
                    "{name}: {x} vs {got}"
                );
            }
        } else {
            assert_eq!((*bf_dtype, *f16_dtype), (DType::F32, DType::F32), "{name}");
            assert_eq!((bf_bytes, f16_bytes), (bytes, bytes), "{name} changed");
            kept.push(name.as_str());
        }
    }
    // Weight matrices rounded; biases, norms, gammas and the residual-stream tokens kept.
    assert!(rounded >= 10, "{rounded} rounded");
    for must_keep in [
        "cls_token",
        "pos_embed",
        "mask_token",
        "norm.gamma",
        "blocks.0.ls1.gamma",
    ] {
        assert!(kept.contains(&must_keep), "{must_keep} not kept: {kept:?}");
    }
    assert!(kept.iter().all(|n| !n.ends_with("qkv.weight")), "{kept:?}");
}

#[test]
fn training_checkpoint_backbone_and_heads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = PanopticonConfig::tiny_test();
    let want = load_case("case_b_s2_13band")["out.cls"].clone();
    let out = dir.path().join("teacher.bpk");
    let opts = ConvertOptions {
        kind: SourceKind::TrainCheckpoint,
        ..Default::default()
    };
    let r = convert_checkpoint(
        &cfg,
        ckpt("train_checkpoint.pth"),
        &out,
        &opts,
        &Device::default(),
    )
    .unwrap();
    assert_eq!(r.load.prefix, "model.teacher.backbone.");
    assert_eq!(r.max_abs_diff, 0.0);
    assert_close("out.cls", cls_of(&cfg, &out), &want, 5e-5);
    let names: Vec<_> = r.heads.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"dino_head"), "{names:?}");
    for (_, path) in &r.heads {
        assert!(path.exists());
    }
    // The written head equals the one read from the checkpoint.
    let device = Device::default();
    let src = DinoHead::from_checkpoint(
        ckpt("train_checkpoint.pth"),
        "model.teacher.dino_head.",
        &device,
    )
    .unwrap()
    .unwrap();
    let x = Tensor::<2>::random(
        [3, src.config().in_dim],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let mut written = src.config().init(&device).unwrap();
    let store_path = &r.heads.iter().find(|(n, _)| n == "dino_head").unwrap().1;
    let mut store = burn::store::BurnpackStore::from_file(store_path);
    use burn::store::ModuleSnapshot;
    written.load_from(&mut store).unwrap();
    let d = max_abs_diff(
        &written.forward(x.clone()).into_data(),
        &src.forward(x).into_data(),
    );
    assert_eq!(d, 0.0);

    // The student, explicitly.
    let student = dir.path().join("student.bpk");
    let opts = ConvertOptions {
        kind: SourceKind::TrainCheckpoint,
        part: CheckpointPart::Student,
        ..Default::default()
    };
    let r =
        convert_checkpoint(&cfg, ckpt("train_checkpoint.pth"), &student, &opts, &device).unwrap();
    assert_eq!(r.load.prefix, "model.student.backbone.");
}

#[test]
fn teacher_snapshot_layout() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ConvertOptions {
        kind: SourceKind::TeacherSnapshot,
        ..Default::default()
    };
    let r = convert_checkpoint(
        &PanopticonConfig::tiny_test(),
        ckpt("teacher_snapshot.pth"),
        dir.path().join("s.bpk"),
        &opts,
        &Device::default(),
    )
    .unwrap();
    assert_eq!(r.load.prefix, "teacher.backbone.");
    assert_eq!(r.max_abs_diff, 0.0);
}

#[test]
fn a_kind_that_does_not_match_the_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.bpk");
    let opts = ConvertOptions {
        kind: SourceKind::TrainCheckpoint,
        ..Default::default()
    };
    let err = convert_checkpoint(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &out,
        &opts,
        &Device::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, PanopticonError::Weights(WeightsError::Format { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("kind"), "{err}");
    assert!(!out.exists());
}

/// The tiny stock-DINOv2 fixture's architecture with Panopticon's patch embedding.
fn stage1_config() -> PanopticonConfig {
    PanopticonConfig::new(PatchEmbedConfig::Panopticon(
        PanopticonPeConfig::new(48).with_num_heads(4),
    ))
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

#[test]
fn dinov2_into_panopticon_is_the_stage1_initialisation() {
    let dir = tempfile::tempdir().unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dinov2-tiny/weights.safetensors");
    let out = dir.path().join("stage1.bpk");
    let opts = ConvertOptions {
        kind: SourceKind::Dinov2,
        ..Default::default()
    };
    let r = convert_checkpoint(&stage1_config(), &src, &out, &opts, &Device::default()).unwrap();
    assert_eq!(r.max_abs_diff, 0.0);
    assert!(r.load.missing.is_empty(), "{:?}", r.load.missing);
    let mut excluded = r.load.excluded.clone();
    excluded.sort();
    assert_eq!(
        excluded,
        [
            "patch_embed.proj.bias",
            "patch_embed.proj.weight",
            "pos_embed"
        ]
    );
    // Panopticon's own patch embedding and position table keep their init.
    assert!(r.load.kept_init.iter().any(|k| k == "pos_embed"));
    assert!(
        r.load
            .kept_init
            .iter()
            .any(|k| k == "patch_embed.chnfus.query")
    );
    assert!(
        r.load
            .kept_init
            .iter()
            .all(|k| k == "pos_embed" || k.starts_with("patch_embed."))
    );
    // Every block, norm and token came over.
    assert!(r.load.applied.iter().any(|k| k == "blocks.1.mlp.w3.weight"));
    assert!(r.load.applied.iter().any(|k| k == "register_tokens"));
}

#[test]
fn missing_tensors_refuse_unless_partial_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    // The tiny weights without block 1's MLP.
    let bytes = std::fs::read(tiny_dir().join("weights.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView)> = st
        .tensors()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("blocks.1.mlp."))
        .collect();
    let src = dir.path().join("partial.safetensors");
    safetensors::serialize_to_file(kept, None, &src).unwrap();

    let out = dir.path().join("p.bpk");
    let mut opts = ConvertOptions::default();
    let cfg = PanopticonConfig::tiny_test();
    let err = convert_checkpoint(&cfg, &src, &out, &opts, &Device::default()).unwrap_err();
    assert!(
        matches!(err, PanopticonError::Weights(WeightsError::Missing { ref keys, .. }) if keys.len() == 4),
        "{err}"
    );
    assert!(!out.exists());
    opts.allow_partial = true;
    let r = convert_checkpoint(&cfg, &src, &out, &opts, &Device::default()).unwrap();
    assert_eq!(r.load.missing.len(), 4);
    assert_eq!(r.max_abs_diff, 0.0);
    assert!(out.exists());
}

#[test]
fn cli_convert_prints_the_report_and_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.bpk");
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args([
            "weights",
            "convert",
            "--preset",
            "tiny-test",
            "--kind",
            "teacher",
            "--src",
        ])
        .arg(tiny_dir().join("weights.pth"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(text.contains("applied 43, missing 0, unused 0"), "{text}");
    assert!(text.contains("max |source − converted| = 0e0"), "{text}");
    assert!(out.exists());

    // `info` reads the provenance and the recorded config back.
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .arg("info")
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("panopticon.source: "), "{text}");
    assert!(text.contains("model: D 48, depth 2"), "{text}");
    assert!(text.contains("applied 43, missing 0, unused 0"), "{text}");

    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["weights", "convert", "--precision", "f8", "--src"])
        .arg(tiny_dir().join("weights.pth"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--precision f8"));
}
