//! LayerScale: a learned per-feature gain on each residual branch.

use burn::module::Param;
use burn::prelude::*;

/// `x · gamma`. Named `LayerScale` (not a norm), so the PyTorch `gamma` key loads as-is.
#[derive(Module, Debug)]
pub struct LayerScale {
    /// `[D]`.
    pub gamma: Param<Tensor<1>>,
}

impl LayerScale {
    /// All gains start at `init_values`.
    pub fn init(dim: usize, init_values: f64, device: &Device) -> Self {
        Self {
            gamma: Param::from_tensor(Tensor::full([dim], init_values, device)),
        }
    }

    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        x * self.gamma.val().unsqueeze::<3>()
    }
}
