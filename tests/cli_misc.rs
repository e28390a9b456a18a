//! Small CLI contracts: `bench` refuses empty shapes, and error lines do not repeat a cause
//! that the message already quotes.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bench_refuses_empty_batches_and_channel_lists() {
    for args in [
        ["bench", "--config", "tiny-test", "--channels", "0"],
        ["bench", "--config", "tiny-test", "--batch", "0"],
    ] {
        let (ok, err) = run(&args);
        assert!(!ok);
        assert!(err.contains("must be at least 1"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn a_missing_input_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.npy");
    let (ok, err) = run(&[
        "embed",
        "/no/such/scene.tif",
        "--wavelengths",
        "500",
        "--config",
        "tiny-test",
        "--weights",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/panopticon-tiny/weights.pth"
        ),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert!(!out.exists());
}
