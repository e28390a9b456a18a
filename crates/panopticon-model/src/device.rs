//! Choosing a Burn device from a `--device` string.

use burn::prelude::Device;

/// Errors of [`parse_device`].
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The backend exists but was not compiled into this binary.
    #[error(
        "device `{device}` needs the `{feature}` feature; rebuild with `cargo build --release --features {feature}`"
    )]
    NotCompiled {
        /// What was asked for.
        device: String,
        /// The cargo feature that enables it.
        feature: &'static str,
    },
    /// The backend is compiled in but the device does not work here (no driver, no GPU).
    #[error("device `{device}` is not usable on this machine: {reason}")]
    Unavailable {
        /// What was asked for.
        device: String,
        /// What failed.
        reason: String,
    },
    /// The string names no device.
    #[error("unknown device `{0}`; use cpu, wgpu, or cuda[:N]")]
    Unknown(String),
}

/// Parses `cpu`, `wgpu` or `cuda[:N]` into a device of a compiled-in backend.
///
/// `cpu` is Burn's Flex backend (feature `flex`, the default).
pub fn parse_device(spec: &str) -> Result<Device, DeviceError> {
    let spec = spec.trim().to_ascii_lowercase();
    let not_compiled = |feature| DeviceError::NotCompiled {
        device: spec.clone(),
        feature,
    };
    match spec.as_str() {
        "cpu" | "flex" => {
            #[cfg(feature = "flex")]
            return Ok(Device::flex());
            #[cfg(not(feature = "flex"))]
            return Err(not_compiled("flex"));
        }
        "wgpu" | "vulkan" => {
            #[cfg(feature = "wgpu")]
            return probe(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice), &spec);
            #[cfg(not(feature = "wgpu"))]
            return Err(not_compiled("wgpu"));
        }
        _ => {}
    }
    if let Some(rest) = spec.strip_prefix("cuda") {
        let index = match rest.strip_prefix(':') {
            Some(n) => n
                .parse::<usize>()
                .map_err(|_| DeviceError::Unknown(spec.clone()))?,
            None if rest.is_empty() => 0,
            None => return Err(DeviceError::Unknown(spec.clone())),
        };
        #[cfg(feature = "cuda")]
        return probe(Device::cuda(index), &spec);
        #[cfg(not(feature = "cuda"))]
        {
            let _ = index;
            return Err(not_compiled("cuda"));
        }
    }
    Err(DeviceError::Unknown(spec))
}

/// Runs one tiny op on a GPU device, turning a missing driver (which the backends report by
/// panicking) into an error.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn probe(device: Device, spec: &str) -> Result<Device, DeviceError> {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let hook = std::panic::take_hook();
    let message = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = message.clone();
    std::panic::set_hook(Box::new(move |info| {
        let mut m = sink.lock().unwrap_or_else(|e| e.into_inner());
        if m.is_empty() {
            *m = info
                .payload_as_str()
                .unwrap_or("backend panicked")
                .to_string();
        }
    }));
    let dev = device.clone();
    let ok = catch_unwind(AssertUnwindSafe(move || {
        burn::tensor::Tensor::<1>::zeros([1], &dev).into_data()
    }))
    .is_ok();
    std::panic::set_hook(hook);
    if ok {
        return Ok(device);
    }
    let reason = message.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let reason = reason
        .split(". ")
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    Err(DeviceError::Unavailable {
        device: spec.to_string(),
        reason,
    })
}
