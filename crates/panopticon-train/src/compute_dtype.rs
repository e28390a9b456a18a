//! `run.precision`: the float dtype training computes in, f32 (default) or pure bf16 (not
//! the element type a weights file is stored in, which conversion chooses).
//!
//! Burn 0.22.1 has no autocast, gradient scaler or f32 master weights, so `bf16` is *pure*
//! bf16: the device's default float dtype becomes bf16 before any tensor exists, and
//! parameters, activations, gradients and AdamW moments are all bf16 (upstream trains with
//! fp16 autocast over fp32 master weights; spec §3.10).

use burn::prelude::*;
use burn::tensor::FloatDType;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// The float dtype training computes in (`run.precision = "f32" | "bf16"` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComputeDtype {
    /// f32 everywhere.
    #[default]
    F32,
    /// Pure bf16 (no master weights).
    Bf16,
}

/// Sets every device's default float dtype to `precision`. Must run before any tensor is
/// created on the devices: Burn locks the dtype on first use. A device already locked to the
/// requested dtype is accepted; f32 on an unconfigured device changes nothing.
pub fn configure_compute_dtype(devices: &[Device], precision: ComputeDtype) -> Result<()> {
    let want = match precision {
        ComputeDtype::F32 => FloatDType::F32,
        ComputeDtype::Bf16 => FloatDType::BF16,
    };
    let err = |device: &Device, hint: &'static str| TrainError::Config {
        key: "run.precision",
        value: format!("{precision:?} on {device:?}"),
        hint,
    };
    for device in devices {
        if precision == ComputeDtype::F32 {
            if device.settings().float_dtype != FloatDType::F32 {
                return Err(err(
                    device,
                    "the device was already configured to another float dtype",
                ));
            }
            continue;
        }
        if !device.supports_dtype(want) {
            return Err(err(device, "this device has no bf16 arithmetic; use `f32`"));
        }
        let mut d = device.clone();
        if d.configure(want).is_err() && device.settings().float_dtype != want {
            return Err(err(
                device,
                "the device already holds f32 tensors; choose the precision before anything runs on it (a new process)",
            ));
        }
    }
    Ok(())
}
