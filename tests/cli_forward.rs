//! The `panopticon forward` contract: fixture inputs in, fixture key names out, same numbers;
//! bad invocations fail with one clear line, exit code ≠ 0 and no output file.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use panopticon::tensor_io::read_safetensors;

fn forward(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .arg("forward")
        .args(args)
        .output()
        .expect("binary runs")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn forward_reproduces_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let weights = tiny_dir().join("weights.pth");
    for name in CASES {
        let out = dir.path().join(format!("{name}.out.safetensors"));
        let input = tiny_dir().join(format!("{name}.safetensors"));
        let res = forward(&[
            "--weights",
            p(&weights),
            "--input",
            p(&input),
            "--output",
            p(&out),
            "--config",
            "tiny-test",
            "--layers",
            "0,1",
        ]);
        assert!(
            res.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
        let got = read_safetensors(&out).unwrap();
        let want = load_case(name);
        let mut compared = 0;
        for (k, v) in &got {
            let reference = want
                .get(k)
                .unwrap_or_else(|| panic!("{name}: output {k} has no reference"));
            let err = max_abs_diff(v, reference);
            assert!(err <= 5e-5, "{name}/{k}: {err:e}");
            compared += 1;
        }
        let expected = 10
            + if want.contains_key("masked.x_norm_clstoken") {
                2
            } else {
                0
            };
        assert_eq!(
            compared,
            expected,
            "{name}: {:?}",
            got.keys().collect::<Vec<_>>()
        );
    }
}

fn fails(args: &[&str], needle: &str) {
    let res = forward(args);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "{args:?} should fail");
    assert!(
        stderr.contains(needle),
        "{args:?}: stderr {stderr:?} lacks {needle:?}"
    );
    let error_lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "one error line: {stderr}");
}

/// `fails` for the tiny model with the given weights, input and output.
fn fails_tiny(weights: &str, input: &Path, output: &str, needle: &str) {
    fails(
        &[
            "--weights",
            weights,
            "--input",
            p(input),
            "--output",
            output,
            "--config",
            "tiny-test",
        ],
        needle,
    );
}

#[test]
fn bad_invocations_fail_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let w = tiny_dir().join("weights.pth");
    let case = tiny_dir().join("case_a_rgb.safetensors");
    let (w, case, o) = (p(&w), p(&case), p(&out));
    fails(
        &["--weights", w, "--input", case, "--output", o],
        "expects [1, 1, 768]",
    );
    fails(
        &[
            "--weights",
            w,
            "--input",
            case,
            "--output",
            o,
            "--config",
            "vitz99",
        ],
        "unknown config",
    );
    fails(
        &[
            "--weights",
            w,
            "--input",
            case,
            "--output",
            o,
            "--config",
            "tiny-test",
            "--device",
            "cuda:0",
        ],
        "needs the `cuda` feature",
    );
    fails(
        &[
            "--weights",
            w,
            "--input",
            case,
            "--output",
            o,
            "--config",
            "tiny-test",
            "--layers",
            "0,7",
        ],
        "block 7 does not exist",
    );
    fails(
        &[
            "--weights",
            "/no/such.pth",
            "--input",
            case,
            "--output",
            o,
            "--config",
            "tiny-test",
        ],
        "cannot open weights file",
    );
    fails(
        &[
            "--weights",
            w,
            "--input",
            w,
            "--output",
            o,
            "--config",
            "tiny-test",
        ],
        "not a valid safetensors file",
    );
    fails(
        &[
            "--weights",
            w,
            "--input",
            case,
            "--output",
            "/no/such/dir/out.safetensors",
            "--config",
            "tiny-test",
        ],
        "does not exist",
    );
    assert!(!out.exists(), "no output after failures");
    // An input lacking chn_ids, and one whose ids do not fit the channels.
    let mut t: Vec<_> = load_case("case_a_rgb")
        .into_iter()
        .filter(|(k, _)| k.starts_with("input.imgs"))
        .collect();
    let partial = dir.path().join("partial.safetensors");
    panopticon::tensor_io::write_safetensors(&partial, &t).unwrap();
    fails_tiny(w, &partial, o, "no `input.chn_ids`");
    t.push((
        "input.chn_ids".into(),
        burn::tensor::TensorData::new(vec![664i64, -13, 493], [1, 3]),
    ));
    panopticon::tensor_io::write_safetensors(&partial, &t).unwrap();
    fails_tiny(w, &partial, o, "invalid SAR channel id -13");
    assert!(!out.exists(), "no output after failures");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp files left behind"
    );
}

#[test]
fn config_from_a_json_file() {
    use burn::config::Config;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tiny.json");
    panopticon::PanopticonConfig::tiny_test()
        .save(&cfg)
        .unwrap();
    let out = dir.path().join("out.safetensors");
    let w = tiny_dir().join("weights.safetensors");
    let case = tiny_dir().join("case_g_nonsquare.safetensors");
    let res = forward(&[
        "--weights",
        p(&w),
        "--input",
        p(&case),
        "--output",
        p(&out),
        "--config",
        p(&cfg),
        "--layers",
        "1",
    ]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let got = read_safetensors(&out).unwrap();
    assert!(max_abs_diff(&got["out.cls"], &load_case("case_g_nonsquare")["out.cls"]) <= 5e-5);
    assert!(got.contains_key("inter_reshape.1.patch") && !got.contains_key("inter.0.cls"));
    // An inconsistent config file is refused before any weights are read.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("\"num_heads\": 3", "\"num_heads\": 5"),
    )
    .unwrap();
    let out2 = dir.path().join("out2.safetensors");
    fails(
        &[
            "--weights",
            p(&w),
            "--input",
            p(&case),
            "--output",
            p(&out2),
            "--config",
            p(&bad),
        ],
        "not divisible by num_heads 5",
    );
}
