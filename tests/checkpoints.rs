//! Loading the checkpoint layouts the official training code writes (fixtures made by
//! `scripts/gen_checkpoint_fixtures.py`), and the burnpack round trip.

mod common;

use std::path::PathBuf;

use burn::prelude::*;
use common::*;
use panopticon::{CheckpointPart, LoadOptions, Panopticon, PanopticonConfig};

fn ckpt(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/checkpoints")
        .join(name)
}

fn cls_of(path: &std::path::Path, part: CheckpointPart) -> (Tensor<2>, panopticon::LoadReport) {
    let device = Device::default();
    let mut m = PanopticonConfig::tiny_test().init(&device).unwrap();
    let report = m
        .load_weights(
            path,
            &LoadOptions {
                part,
                strict: true,
                ..Default::default()
            },
        )
        .unwrap();
    let case = load_case("case_b_s2_13band");
    let input = case_input(&case, &device);
    (m.forward(&input).unwrap(), report)
}

#[test]
fn training_checkpoint_teacher_and_student() {
    let want = load_case("case_b_s2_13band")["out.cls"].clone();
    for part in [CheckpointPart::Auto, CheckpointPart::Teacher] {
        let (cls, report) = cls_of(&ckpt("train_checkpoint.pth"), part);
        assert_eq!(report.prefix, "model.teacher.backbone.");
        assert_eq!(report.applied.len(), 43);
        assert!(
            report.ignored > 43,
            "student, heads, centre and optimizer state are ignored: {report}"
        );
        assert_close("teacher out.cls", cls, &want, 5e-5);
    }
    let (cls, report) = cls_of(&ckpt("train_checkpoint.pth"), CheckpointPart::Student);
    assert_eq!(report.prefix, "model.student.backbone.");
    assert!(
        max_abs_diff(&cls.into_data(), &want) > 1e-2,
        "the student differs from the teacher"
    );
}

#[test]
fn teacher_snapshot() {
    let (cls, report) = cls_of(&ckpt("teacher_snapshot.pth"), CheckpointPart::Auto);
    assert_eq!(report.prefix, "teacher.backbone.");
    assert_close(
        "snapshot out.cls",
        cls,
        &load_case("case_b_s2_13band")["out.cls"],
        5e-5,
    );
}

#[test]
fn burnpack_round_trip_is_exact() {
    let device = Device::default();
    let (m, _) = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &device,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bpk = dir.path().join("tiny.bpk");
    m.save_burnpack(&bpk).unwrap();
    let (m2, report) =
        Panopticon::from_file(&PanopticonConfig::tiny_test(), &bpk, &device).unwrap();
    assert_eq!(report.format, "burnpack");
    let case = load_case("case_d_mixed");
    let input = case_input(&case, &device);
    let a = m.forward(&input).unwrap().into_data();
    let b = m2.forward(&input).unwrap().into_data();
    assert_eq!(max_abs_diff(&a, &b), 0.0);
}
