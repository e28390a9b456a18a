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
    /// The string names no device.
    #[error("unknown device `{0}`; use cpu, wgpu, or cuda[:N]")]
    Unknown(String),
}

/// Parses `cpu`, `wgpu` or `cuda[:N]` into a device of a compiled-in backend.
///
/// `cpu` is Burn's Flex backend (feature `flex`, the default) or, when only `ndarray` is
/// compiled, NdArray.
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
            #[cfg(all(not(feature = "flex"), feature = "ndarray"))]
            return Ok(Device::ndarray());
            #[cfg(not(any(feature = "flex", feature = "ndarray")))]
            return Err(not_compiled("flex"));
        }
        "ndarray" => {
            #[cfg(feature = "ndarray")]
            return Ok(Device::ndarray());
            #[cfg(not(feature = "ndarray"))]
            return Err(not_compiled("ndarray"));
        }
        "wgpu" | "vulkan" => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
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
        return Ok(Device::cuda(index));
        #[cfg(not(feature = "cuda"))]
        {
            let _ = index;
            return Err(not_compiled("cuda"));
        }
    }
    Err(DeviceError::Unknown(spec))
}
