//! `[init]` weights and the stage configs.
//!
//! * Stage 1 on `tests/fixtures/train/init/` (made by `scripts/gen_train_fixtures.py`): the
//!   DINOv2 tensors land in the student backbone (exactly, f32), `pos_embed` and the whole
//!   patch embedding keep their init, the student head is the file's *student* head and the
//!   teacher a copy of the student.
//! * Stage 2 from a run checkpoint: student, teacher and centres as saved; no optimizer state.
//! * `configs/train/stage{1,2}.toml` parse and validate, and run end to end (tiny model,
//!   fixture datasets, fixture weights) with the data/model sections overridden.

mod common;

use common::repo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{ModuleStore, PytorchStore};
use common::values;
use panopticon_model::Ffn;
use panopticon_model::PatchEmbedding;
use panopticon_train::{
    InitSection, SslMetaArch, TrainConfig, TrainError, init_weights, load_model_state, train,
};

fn init_dir() -> PathBuf {
    repo().join("tests/fixtures/train/init")
}

/// Every tensor of a PyTorch file as f64 values, by flattened key.
fn file_tensors(path: &Path) -> BTreeMap<String, (Vec<usize>, Vec<f64>)> {
    let mut store = PytorchStore::from_file(path);
    store
        .get_all_tensors()
        .unwrap()
        .iter()
        .map(|(k, t)| {
            let data = burn::store::bridge::to_data(t).unwrap();
            let shape = data.shape().to_vec();
            let v = data.convert::<f64>().try_to_vec::<f64>().unwrap();
            (k.clone(), (shape, v))
        })
        .collect()
}

/// A PyTorch `[out, in]` Linear weight as Burn's `[in, out]`.
fn transposed(shape: &[usize], v: &[f64]) -> Vec<f64> {
    let (o, i) = (shape[0], shape[1]);
    (0..i)
        .flat_map(|c| (0..o).map(move |r| v[r * i + c]))
        .collect()
}

/// The Panopticon patch embedding's `A → D` projection weight.
fn pe_proj(m: &panopticon_model::Panopticon) -> Tensor<2> {
    match &m.patch_embed {
        PatchEmbedding::Panopticon(pe) => pe.proj.weight.val(),
        PatchEmbedding::Conv(_) => panic!("tiny-test has a Panopticon patch embedding"),
    }
}

/// `blocks[i].mlp.fc1.weight`.
fn fc1(m: &panopticon_model::Panopticon, i: usize) -> Tensor<2> {
    match m.blocks[i].mlp.as_ref().unwrap() {
        Ffn::Mlp(f) => f.fc1.weight.val(),
        _ => panic!("tiny-test has an MLP FFN"),
    }
}

/// A stage config shrunk to the tiny model, the fixture datasets and `out`.
fn tiny_stage(name: &str, out: &Path, iters: usize) -> TrainConfig {
    let mut c = TrainConfig::from_file(repo().join("configs/train").join(name)).unwrap();
    let ds = repo().join("tests/fixtures/data/datasets");
    c.data.spectral_earth = Some(ds.join("spectral_earth"));
    c.data.satlas_root = Some(ds.join("satlas"));
    c.data.satlas_metadata = Some(ds.join("satlas/metadata_v2/satlas_fixture.jsonl"));
    let fx = repo().join("tests/fixtures/data");
    c.data.fmow_root = c.data.fmow_root.as_ref().map(|_| fx.join("fmow"));
    c.data.fmow_max_crop = c.data.fmow_max_crop.map(|_| 24);
    c.data.fmow_subset = c.data.fmow_subset.map(|_| 40);
    c.data.mmearth = c
        .data
        .mmearth
        .as_ref()
        .map(|_| fx.join("mmearth/data_tiny_v001"));
    c.data.batch_size = 2;
    c.data.workers = 1;
    c.data.global_size = 32;
    c.data.local_size = 16;
    c.data.n_local = 2;
    c.model.preset = "tiny-test".into();
    c.model.head_n_prototypes = 64;
    c.model.head_hidden_dim = 32;
    c.model.head_bottleneck_dim = 16;
    c.run.output_dir = out.into();
    c.run.epoch_length = 10;
    c.run.max_iters = Some(iters);
    c.run.checkpoint_every = 0;
    c
}

fn tiny_arch(cfg: &TrainConfig) -> SslMetaArch {
    let dev = Device::default().autodiff();
    dev.seed(5);
    SslMetaArch::new(
        cfg.meta_arch(0).unwrap(),
        cfg.schedules().unwrap(),
        cfg.rules().unwrap(),
        &dev,
    )
    .unwrap()
}

#[test]
fn stage_configs_parse_validate_and_trace_the_spec() {
    let s1 = TrainConfig::from_file(repo().join("configs/train/stage1.toml")).unwrap();
    let s2 = TrainConfig::from_file(repo().join("configs/train/stage2.toml")).unwrap();
    s1.validate().unwrap();
    s2.validate().unwrap();
    for c in [&s1, &s2] {
        assert_eq!(c.max_iters(), 87_500, "70 epochs × 1250");
        assert_eq!(c.run.seed, 21);
        assert_eq!(c.model.preset, "vitb14");
        assert_eq!(c.model.head_n_prototypes, 65536);
        assert_eq!((c.loss.ibot_weight, c.loss.koleo_weight), (0.1, 0.0));
        assert_eq!(c.data.batch_size, 75);
        assert_eq!((c.data.global_size, c.data.local_size), (224, 98));
        assert_eq!(c.optim.lr_multiplier, "blocks=0.2");
        let sched = c.schedules().unwrap();
        assert_eq!(sched.teacher_temp.at(6250), 0.07, "warm-up over 5 epochs");
    }
    assert!((s1.optim.lr - 5e-4 * (75.0f64 / 1024.0).sqrt()).abs() < 1e-8);
    assert!((s2.optim.lr - 5e-4 * (1200.0f64 / 1024.0).sqrt()).abs() < 1e-8);
    assert_eq!(s1.init.backbone_exclude, ["pos_emb", "patch_embed"]);
    assert!(s1.init.heads.is_some() && s1.init.checkpoint.is_none());
    assert!(s2.init.checkpoint.is_some() && s2.init.backbone.is_none());
    // Stage 1: FMoW only; stage 2: FMoW ×800000, Satlas, MMEarth, SpectralEarth (§3.13, §5.8).
    let d1 = &s1.data;
    assert!(d1.fmow_root.is_some() && d1.fmow_subset.is_none());
    assert!(d1.satlas_root.is_none() && d1.mmearth.is_none() && d1.spectral_earth.is_none());
    let d2 = &s2.data;
    assert_eq!(
        (d2.fmow_subset, d2.fmow_max_crop),
        (Some(800_000), Some(256))
    );
    assert!(d2.satlas_root.is_some() && d2.mmearth.is_some() && d2.spectral_earth.is_some());

    // Invalid combinations are named.
    let mut bad = s2.clone();
    bad.init.backbone = Some("x.pth".into());
    let err = bad.validate().unwrap_err();
    assert!(err.to_string().contains("init.checkpoint"), "{err}");
    let mut bad = s1.clone();
    bad.optim.gradient_accumulation_steps = 0;
    let err = bad.validate().unwrap_err();
    assert!(
        err.to_string().contains("gradient_accumulation_steps"),
        "{err}"
    );
    let mut bad = s1.clone();
    bad.init.backbone_exclude = vec!["(".into()];
    assert!(matches!(bad.validate(), Err(TrainError::Config { .. })));
}

#[test]
fn stage1_init_takes_dinov2_blocks_and_the_student_rgb_head() {
    let _seeded = common::seeded();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny_stage("stage1.toml", dir.path(), 1);
    cfg.init.backbone = Some(init_dir().join("dinov2_tiny.pth"));
    cfg.init.heads = Some(init_dir().join("rgb_heads.pth"));
    let mut arch = tiny_arch(&cfg);
    let pos0 = values(arch.student.backbone.pos_embed.val());
    let cls0 = values(arch.student.backbone.cls_token.val());
    let proj0 = values(pe_proj(&arch.student.backbone));
    let report = init_weights(&mut arch, &cfg.init).unwrap();

    let b = report.backbone.as_ref().unwrap();
    eprint!("{b}");
    assert_eq!(
        b.applied.len(),
        2 + 2 * 14 + 2,
        "cls, mask, 2 blocks × 14, norm"
    );
    assert!(b.missing.is_empty(), "{b}");
    assert!(b.excluded.iter().any(|k| k == "pos_embed"));
    assert!(b.excluded.iter().any(|k| k == "patch_embed.proj.weight"));
    assert!(b.kept_init.iter().any(|k| k == "pos_embed"));
    assert!(
        b.kept_init
            .iter()
            .any(|k| k.starts_with("patch_embed.chnfus"))
    );

    let dv2 = file_tensors(&init_dir().join("dinov2_tiny.pth"));
    let s = &arch.student.backbone;
    // Loaded exactly (f32 → f32).
    assert_eq!(values(s.cls_token.val()), dv2["cls_token"].1);
    assert_ne!(values(s.cls_token.val()), cls0);
    assert_eq!(values(s.mask_token.val()), dv2["mask_token"].1);
    let (shape, v) = &dv2["blocks.1.attn.qkv.weight"];
    assert_eq!(
        values(s.blocks[1].attn.qkv.weight.val()),
        transposed(shape, v)
    );
    assert_eq!(values(s.norm.gamma.val()), dv2["norm.weight"].1);
    assert_eq!(
        values(s.blocks[0].ls2.as_ref().unwrap().gamma.val()),
        dv2["blocks.0.ls2.gamma"].1
    );
    // Excluded: kept their init.
    assert_eq!(values(s.pos_embed.val()), pos0);
    assert_eq!(values(pe_proj(s)), proj0);

    // The student's RGB head; the teacher is the student's copy, not the file's teacher head.
    let heads = file_tensors(&init_dir().join("rgb_heads.pth"));
    let (shape, v) = &heads["model.student.dino_head.mlp.0.weight"];
    let want = transposed(shape, v);
    assert_eq!(values(arch.student.dino_head.mlp[0].weight.val()), want);
    assert_eq!(values(arch.teacher.dino_head.mlp[0].weight.val()), want);
    assert_eq!(
        values(arch.student.dino_head.last_layer.weight_v.val()),
        heads["model.student.dino_head.last_layer.weight_v"].1
    );
    assert_eq!(
        values(arch.teacher.backbone.blocks[1].attn.qkv.weight.val()),
        values(arch.student.backbone.blocks[1].attn.qkv.weight.val())
    );

    // The loaded parameters still train.
    let run = train(&cfg, &Device::default().autodiff(), false, None).unwrap();
    assert_eq!(run.steps.len(), 1);
    assert!(run.steps[0].total.is_finite());
}

#[test]
fn stage1_init_errors_name_the_problem() {
    let _seeded = common::seeded();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny_stage("stage1.toml", dir.path(), 1);
    cfg.init.backbone = Some(init_dir().join("dinov2_tiny.pth"));
    cfg.init.heads = Some(init_dir().join("rgb_heads.pth"));
    // Head sizes that differ from the file's.
    cfg.model.head_n_prototypes = 128;
    let mut arch = tiny_arch(&cfg);
    let err = init_weights(&mut arch, &cfg.init).unwrap_err();
    assert!(err.to_string().contains("head_"), "{err}");
    // A missing file.
    cfg.model.head_n_prototypes = 64;
    cfg.init.backbone = Some(init_dir().join("missing.pth"));
    let mut arch = tiny_arch(&cfg);
    let err = init_weights(&mut arch, &cfg.init).unwrap_err();
    assert!(err.to_string().contains("missing.pth"), "{err}");
}

#[test]
fn stage2_init_loads_a_stage1_checkpoint_model_only() {
    let _seeded = common::seeded();
    let dir = tempfile::tempdir().unwrap();
    let s1_out = dir.path().join("stage1");
    let mut s1 = tiny_stage("stage1.toml", &s1_out, 2);
    s1.init = InitSection::default();
    let dev = Device::default().autodiff();
    let run1 = train(&s1, &dev, false, None).unwrap();
    let ckpt = run1.checkpoints.last().unwrap().clone();

    let s2_out = dir.path().join("stage2");
    let mut s2 = tiny_stage("stage2.toml", &s2_out, 2);
    s2.init.checkpoint = Some(s1_out.clone()); // a run directory: its newest checkpoint
    let mut arch = tiny_arch(&s2);
    let report = init_weights(&mut arch, &s2.init).unwrap();
    assert_eq!(report.checkpoint.as_deref(), Some(ckpt.as_path()));
    assert_eq!(arch.optim.num_states(), 0, "no optimizer state");

    let mut full = tiny_arch(&s1);
    load_model_state(&mut full, &ckpt).unwrap();
    for (got, want) in [
        (
            values(arch.student.backbone.pos_embed.val()),
            values(full.student.backbone.pos_embed.val()),
        ),
        (
            values(fc1(&arch.teacher.backbone, 0)),
            values(fc1(&full.teacher.backbone, 0)),
        ),
        (
            values(arch.teacher.dino_head.mlp[2].weight.val()),
            values(full.teacher.dino_head.mlp[2].weight.val()),
        ),
        (
            values(arch.dino_loss.center.value()),
            values(full.dino_loss.center.value()),
        ),
    ] {
        assert_eq!(got, want);
    }
    assert_ne!(
        values(arch.student.backbone.pos_embed.val()),
        values(arch.teacher.backbone.pos_embed.val()),
        "the teacher comes from the checkpoint, not a student copy"
    );

    // The stage-2 run starts at iteration 0 from those weights.
    let run2 = train(&s2, &dev, false, None).unwrap();
    assert_eq!(run2.start_iter, 0);
    assert_eq!(run2.steps.len(), 2);
    assert!(run2.steps.iter().all(|m| m.total.is_finite()));
}

#[test]
fn stage2_init_from_upstream_checkpoint_and_teacher_snapshot_pth() {
    let _seeded = common::seeded();
    let dir = tempfile::tempdir().unwrap();
    // tests/fixtures/checkpoints (scripts/gen_checkpoint_fixtures.py): tiny-test backbones
    // (student = teacher + 0.5) and one-layer heads 48 → 16 → 32 prototypes.
    let fixtures = repo().join("tests/fixtures/checkpoints");
    let mut cfg = tiny_stage("stage2.toml", dir.path(), 1);
    cfg.model.head_n_prototypes = 32;
    cfg.model.head_bottleneck_dim = 16;
    cfg.model.head_nlayers = 1;
    cfg.init.checkpoint = Some(fixtures.join("train_checkpoint.pth"));
    cfg.validate().unwrap();
    let mut arch = tiny_arch(&cfg);
    init_weights(&mut arch, &cfg.init).unwrap();
    let file = file_tensors(&fixtures.join("train_checkpoint.pth"));
    let (shape, v) = &file["model.student.backbone.blocks.0.attn.qkv.weight"];
    assert_eq!(
        values(arch.student.backbone.blocks[0].attn.qkv.weight.val()),
        transposed(shape, v)
    );
    let (shape, v) = &file["model.teacher.backbone.blocks.0.attn.qkv.weight"];
    assert_eq!(
        values(arch.teacher.backbone.blocks[0].attn.qkv.weight.val()),
        transposed(shape, v)
    );
    assert_eq!(
        values(arch.teacher.dino_head.last_layer.weight_v.val()),
        file["model.teacher.dino_head.last_layer.weight_v"].1
    );
    assert_eq!(
        values(arch.dino_loss.center.value()),
        file["model.dino_loss.center"].1
    );
    // It trains from there (EMA pairs the replaced heads by structure).
    let run = train(&cfg, &Device::default().autodiff(), false, None).unwrap();
    assert!(run.steps[0].total.is_finite());

    // A teacher snapshot `{teacher: {backbone.*, dino_head.*}}` as backbone + heads: the
    // student takes the teacher's weights and the teacher is its copy.
    let snap = fixtures.join("teacher_snapshot.pth");
    cfg.init = InitSection {
        backbone: Some(snap.clone()),
        heads: Some(snap.clone()),
        ..InitSection::default()
    };
    let mut arch = tiny_arch(&cfg);
    let r = init_weights(&mut arch, &cfg.init).unwrap();
    assert_eq!(r.backbone.as_ref().unwrap().prefix, "teacher.backbone.");
    assert_eq!(r.heads.as_ref().unwrap().1, "teacher.dino_head.");
    let file = file_tensors(&snap);
    assert_eq!(
        values(arch.student.backbone.cls_token.val()),
        file["teacher.backbone.cls_token"].1
    );
    assert_eq!(
        values(arch.teacher.backbone.cls_token.val()),
        file["teacher.backbone.cls_token"].1
    );
}
