//! Initialisers matching DINOv2's `init_weights_vit_timm` (trunc-normal 0.02, zero bias).

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// `trunc_normal_(std=0.02)` with absolute bounds ±2, i.e. effectively N(0, 0.02²).
pub const TRUNC_NORMAL_02: Initializer = Initializer::Normal {
    mean: 0.0,
    std: 0.02,
};

/// A Linear with weight ~ N(0, 0.02²) and zero bias, as every Linear of the official model.
pub fn linear(d_input: usize, d_output: usize, bias: bool, device: &Device) -> Linear {
    let mut lin = LinearConfig::new(d_input, d_output)
        .with_bias(false)
        .with_initializer(TRUNC_NORMAL_02)
        .init(device);
    if bias {
        lin.bias = Some(Param::from_tensor(Tensor::zeros([d_output], device)));
    }
    lin
}
