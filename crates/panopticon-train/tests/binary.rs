//! The `panopticon-train` binary: a short quick_check run, then a config with a typo.

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn quick_check_runs_and_a_misspelt_key_is_named() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_panopticon-train"))
        .current_dir(repo())
        .args([
            "--config",
            "configs/train/quick_check.toml",
            "--max-iters",
            "3",
        ])
        .arg("--output-dir")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("3 steps from 0"), "{stdout}");
    assert!(
        out.path()
            .join("checkpoints/ckpt_0000003/teacher_backbone.bpk")
            .is_file()
    );

    let text = std::fs::read_to_string(repo().join("configs/train/quick_check.toml")).unwrap();
    let bad = out.path().join("bad.toml");
    std::fs::write(&bad, text.replace("keep_last", "keep_lats")).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_panopticon-train"))
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("keep_lats") && stderr.contains("bad.toml"),
        "{stderr}"
    );
}
