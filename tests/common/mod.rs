//! Helpers shared by the integration tests: fixture paths and tolerance checks.
#![allow(dead_code)]

pub mod fake_hub;
pub mod forms;
pub mod http;
pub mod range_server;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use burn::prelude::*;
use panopticon::tensor_io::read_safetensors;

/// `tests/fixtures/panopticon-tiny`.
pub fn tiny_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/panopticon-tiny")
}

/// Every case file of the tiny fixture set.
pub const CASES: [&str; 7] = [
    "case_a_rgb",
    "case_b_s2_13band",
    "case_c_sar4",
    "case_d_mixed",
    "case_e_specmask",
    "case_f_12band_40px",
    "case_g_nonsquare",
];

/// Reads a case file.
pub fn load_case(name: &str) -> BTreeMap<String, TensorData> {
    read_safetensors(tiny_dir().join(format!("{name}.safetensors"))).expect("fixture readable")
}

/// Max |a − b| over two same-shaped tensors (NaN counts as infinite).
pub fn max_abs_diff(got: &TensorData, want: &TensorData) -> f32 {
    assert_eq!(got.shape(), want.shape(), "shape mismatch");
    let a: Vec<f32> = got.clone().try_into_vec_as::<f32>().unwrap();
    let b: Vec<f32> = want.clone().try_into_vec_as::<f32>().unwrap();
    a.iter()
        .zip(&b)
        .map(|(x, y)| {
            if x.is_finite() && y.is_finite() {
                (x - y).abs()
            } else {
                f32::INFINITY
            }
        })
        .fold(0.0, f32::max)
}

/// Panics with the key and the error when `got` is not within `atol` of `want`.
pub fn assert_close<const D: usize>(
    key: &str,
    got: Tensor<D>,
    want: &TensorData,
    atol: f32,
) -> f32 {
    let mut got = got.into_data();
    // Tests lift lower-rank outputs to one rank with leading 1s; drop those again.
    let dims = got.shape().to_vec();
    let extra = dims.len().saturating_sub(want.shape().len());
    if extra > 0 && dims[..extra].iter().all(|&d| d == 1) {
        got = TensorData::from_bytes_vec(
            got.as_bytes().to_vec(),
            dims[extra..].to_vec(),
            got.dtype(),
        );
    }
    assert_eq!(
        got.shape(),
        want.shape(),
        "{key}: shape {:?} vs reference {:?}",
        got.shape(),
        want.shape()
    );
    let err = max_abs_diff(&got, want);
    assert!(err <= atol, "{key}: max |Δ| = {err:e} > atol {atol:e}");
    err
}

/// The model input of a case file (`input.imgs`, `input.chn_ids`, optional `input.spec_masks`).
pub fn case_input(
    case: &BTreeMap<String, TensorData>,
    device: &Device,
) -> panopticon::PanopticonInput {
    panopticon::PanopticonInput::from_data(
        case["input.imgs"].clone(),
        case["input.chn_ids"].clone(),
        case.get("input.spec_masks").cloned(),
        device,
    )
    .expect("fixture input is valid")
}

/// Asserts that a CLI run failed with a one-line error containing `needle` and left no `out`.
pub fn assert_one_line_failure(
    o: &std::process::Output,
    what: &str,
    needle: &str,
    out: &std::path::Path,
) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{what} succeeded");
    assert!(err.contains(needle), "{what}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists(), "{what} left {}", out.display());
}

/// `panopticon embed` with the tiny test model, quiet; add the inputs and options.
pub fn tiny_embed_command() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_panopticon"));
    c.arg("embed").args([
        "--weights",
        tiny_dir().join("weights.pth").to_str().unwrap(),
        "--config",
        "tiny-test",
        "--quiet",
    ]);
    c
}

/// `panopticon embed` with the tiny fixture model (`--weights …/weights.pth --config
/// tiny-test`); callers add the rest.
pub fn tiny_embed() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_panopticon"));
    cmd.arg("embed").args([
        "--weights",
        tiny_dir().join("weights.pth").to_str().unwrap(),
        "--config",
        "tiny-test",
    ]);
    cmd
}
