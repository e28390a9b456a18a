//! Typed model outputs.

use burn::prelude::*;

/// Output of `forward_features` (the official dict, as a struct).
#[derive(Debug, Clone)]
pub struct ForwardFeatures {
    /// `[B, D]` final-normed cls token (`x_norm_clstoken`).
    pub x_norm_clstoken: Tensor<2>,
    /// `[B, R, D]` final-normed register tokens (`x_norm_regtokens`); `None` when `R = 0`.
    pub x_norm_regtokens: Option<Tensor<3>>,
    /// `[B, L, D]` final-normed patch tokens (`x_norm_patchtokens`).
    pub x_norm_patchtokens: Tensor<3>,
    /// `[B, 1+R+L, D]` tokens before the final norm (`x_prenorm`).
    pub x_prenorm: Tensor<3>,
    /// `[B, L]` the iBOT token masks given, if any.
    pub masks: Option<Tensor<2, Bool>>,
    /// Patch grid `(rows, cols)`.
    pub grid: (usize, usize),
}

impl ForwardFeatures {
    /// Patch tokens as a feature map.
    ///
    /// # Shapes
    /// - output: `[B, D, rows, cols]`
    pub fn patch_map(&self) -> Tensor<4> {
        to_map(self.x_norm_patchtokens.clone(), self.grid)
    }
}

/// One block's output from `intermediate_layers`.
#[derive(Debug, Clone)]
pub struct IntermediateLayer {
    /// Block index (0-based).
    pub block: usize,
    /// `[B, D]` cls token.
    pub cls: Tensor<2>,
    /// `[B, L, D]` patch tokens (registers dropped).
    pub patches: Tensor<3>,
    /// Patch grid `(rows, cols)`.
    pub grid: (usize, usize),
}

impl IntermediateLayer {
    /// Patch tokens reshaped to a feature map (upstream's `reshape=True`, which crashes there
    /// for dict inputs).
    ///
    /// # Shapes
    /// - output: `[B, D, rows, cols]`
    pub fn patch_map(&self) -> Tensor<4> {
        to_map(self.patches.clone(), self.grid)
    }
}

fn to_map(tokens: Tensor<3>, (rows, cols): (usize, usize)) -> Tensor<4> {
    let [b, _, d] = tokens.dims();
    tokens.reshape([b, rows, cols, d]).permute([0, 3, 1, 2])
}

/// Which blocks `intermediate_layers` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerSelection {
    /// The last `n` blocks.
    Last(usize),
    /// These block indices (0-based), returned in forward order.
    Indices(Vec<usize>),
}

impl From<usize> for LayerSelection {
    fn from(n: usize) -> Self {
        Self::Last(n)
    }
}

impl From<&[usize]> for LayerSelection {
    fn from(v: &[usize]) -> Self {
        Self::Indices(v.to_vec())
    }
}

impl From<Vec<usize>> for LayerSelection {
    fn from(v: Vec<usize>) -> Self {
        Self::Indices(v)
    }
}
