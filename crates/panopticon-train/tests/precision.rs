//! `run.precision` parsing and the f32 default (the bf16 run is `precision_bf16.rs`, its own
//! process).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use panopticon_train::{ComputeDtype, TrainConfig, TrainError, configure_compute_dtype};

fn quick_check() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/train/quick_check.toml")
}

#[test]
fn precision_key_defaults_to_f32_and_bad_values_are_named() {
    let c = TrainConfig::from_file(quick_check()).unwrap();
    assert_eq!(c.run.precision, ComputeDtype::F32);
    assert!(c.to_toml().unwrap().contains("precision = \"f32\""));
    let sets = |s: &str| vec![s.to_string()];
    let c = TrainConfig::from_file_with(quick_check(), &sets("run.precision=bf16")).unwrap();
    assert_eq!(c.run.precision, ComputeDtype::Bf16);
    for bad in [
        "run.precision=fp16",
        "run.precision=BF16",
        "run.precision=1",
    ] {
        let err = TrainConfig::from_file_with(quick_check(), &sets(bad)).unwrap_err();
        assert!(matches!(err, TrainError::Format { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("precision"), "{bad}: {err}");
    }
}

#[test]
fn f32_is_the_unconfigured_default() {
    let dev = Device::default().autodiff();
    configure_compute_dtype(&[dev.clone(), dev.clone()], ComputeDtype::F32).unwrap();
    assert_eq!(
        Tensor::<1>::zeros([1], &dev).dtype(),
        burn::tensor::DType::F32
    );
    // Once f32 tensors exist the device cannot switch to bf16.
    let err = configure_compute_dtype(&[dev], ComputeDtype::Bf16).unwrap_err();
    assert!(matches!(err, TrainError::Config { .. }), "{err}");
    assert!(err.to_string().contains("run.precision"), "{err}");
}
