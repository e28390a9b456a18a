//! Feed-forward layers: `Mlp` (GELU) and `SwiGluFfn` (DINOv2 `SwiGLUFFNFused`).

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::{gelu, silu};

/// `fc1 → GELU (exact, erf) → fc2`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `D → hidden`.
    pub fc1: Linear,
    /// `hidden → D`.
    pub fc2: Linear,
}

/// `w3(silu(x1) · x2)` with `[x1 | x2] = w12(x)`.
#[derive(Module, Debug)]
pub struct SwiGluFfn {
    /// `D → 2·hidden`.
    pub w12: Linear,
    /// `hidden → D`.
    pub w3: Linear,
}

/// The feed-forward layer of a block; the variant name is not part of checkpoint keys.
#[derive(Module, Debug)]
pub enum Ffn {
    /// `mlp.fc1`, `mlp.fc2`.
    Mlp(Mlp),
    /// `mlp.w12`, `mlp.w3`.
    SwiGlu(SwiGluFfn),
}

impl Ffn {
    /// Builds the MLP variant.
    pub fn mlp(dim: usize, hidden: usize, bias: bool, device: &Device) -> Self {
        Self::Mlp(Mlp {
            fc1: crate::init::linear(dim, hidden, bias, device),
            fc2: crate::init::linear(hidden, dim, bias, device),
        })
    }

    /// Builds the SwiGLU variant with an already rounded hidden width.
    pub fn swiglu(dim: usize, hidden: usize, bias: bool, device: &Device) -> Self {
        Self::SwiGlu(SwiGluFfn {
            w12: crate::init::linear(dim, 2 * hidden, bias, device),
            w3: crate::init::linear(hidden, dim, bias, device),
        })
    }

    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Mlp(m) => m.fc2.forward(gelu(m.fc1.forward(x))),
            Self::SwiGlu(m) => m.w3.forward(swiglu(m.w12.forward(x))),
        }
    }
}

/// `silu(x1) · x2` for `[x1 | x2] = x12` split on the last axis.
///
/// # Shapes
/// - `x12`: `[B, N, 2·hidden]` → `[B, N, hidden]`
pub(crate) fn swiglu(x12: Tensor<3>) -> Tensor<3> {
    let hidden = x12.dims()[2] / 2;
    let x1 = x12.clone().narrow(2, 0, hidden);
    let x2 = x12.narrow(2, hidden, hidden);
    silu(x1) * x2
}
