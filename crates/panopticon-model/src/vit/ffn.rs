//! Feed-forward layers: `Mlp` (GELU) and `SwiGluFfn` (DINOv2 `SwiGLUFFNFused`).

use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::silu;

use crate::ops::{self, Panels, Then};

/// `fc1 → GELU (exact, erf) → fc2`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// `D → hidden`.
    pub fc1: Linear,
    /// `hidden → D`.
    pub fc2: Linear,
    /// `fc1`'s weight laid out for small-batch CPU inference ([`Ffn::pack`]).
    #[module(skip)]
    pub fc1_panels: Option<Panels>,
    /// `fc2`'s, likewise.
    #[module(skip)]
    pub fc2_panels: Option<Panels>,
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
            fc1_panels: None,
            fc2_panels: None,
        })
    }

    /// Builds the SwiGLU variant with an already rounded hidden width.
    pub fn swiglu(dim: usize, hidden: usize, bias: bool, device: &Device) -> Self {
        Self::SwiGlu(SwiGluFfn {
            w12: crate::init::linear(dim, 2 * hidden, bias, device),
            w3: crate::init::linear(hidden, dim, bias, device),
        })
    }

    /// Gives the MLP's two layers a small-batch weight layout ([`Panels`], made at first use)
    /// when `on`; drops it when not. (SwiGLU runs Burn's own `Linear`.)
    pub fn pack(&mut self, on: bool) {
        if let Self::Mlp(m) = self {
            m.fc1_panels = on.then(Panels::new);
            m.fc2_panels = on.then(Panels::new);
        }
    }

    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward_then(x, Then::Nothing)
    }

    /// [`forward`](Self::forward) with `then` fused into the output projection.
    ///
    /// # Shapes
    /// - `x`: `[B, N, D]` → `[B, N, D]`
    pub fn forward_then(&self, x: Tensor<3>, then: Then) -> Tensor<3> {
        match self {
            Self::Mlp(m) => {
                let h = ops::linear_with(x, &m.fc1, m.fc1_panels.as_ref(), Then::Gelu);
                ops::linear_with(h, &m.fc2, m.fc2_panels.as_ref(), then)
            }
            Self::SwiGlu(m) => {
                let x12 = m.w12.forward(x);
                let hidden = x12.dims()[2] / 2;
                let x1 = x12.clone().narrow(2, 0, hidden);
                let x2 = x12.narrow(2, hidden, hidden);
                then.apply(m.w3.forward(silu(x1) * x2))
            }
        }
    }
}
