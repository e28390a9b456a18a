//! `cargo xtask import-weights` converts the tiny fixture checkpoint exactly and refuses bad
//! arguments by name.

use std::path::PathBuf;
use std::process::Command;

fn tiny_weights() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/panopticon-tiny/weights.pth")
}

#[test]
fn converts_the_tiny_checkpoint_and_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny.bpk");
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "import-weights",
            "--preset",
            "tiny-test",
            "--kind",
            "teacher",
        ])
        .arg("--src")
        .arg(tiny_weights())
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
    assert!(out.is_file());
}

#[test]
fn a_bad_precision_is_refused_by_name() {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["import-weights", "--precision", "f8", "--src"])
        .arg(tiny_weights())
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--precision f8"));
}
