//! Typed model outputs.

use burn::prelude::*;

use crate::error::{PanopticonError, Result};

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
    /// The outputs of the last block `x` `[B, 1 + R + L, D]` and of the final norm.
    pub(crate) fn from_tokens(
        x: Tensor<3>,
        x_norm: Tensor<3>,
        registers: usize,
        masks: Option<Tensor<2, Bool>>,
        grid: (usize, usize),
    ) -> Self {
        let [b, n, d] = x_norm.dims();
        let r = registers;
        Self {
            x_norm_clstoken: x_norm.clone().narrow(1, 0, 1).reshape([b, d]),
            x_norm_regtokens: (r > 0).then(|| x_norm.clone().narrow(1, 1, r)),
            x_norm_patchtokens: x_norm.narrow(1, 1 + r, n - 1 - r),
            x_prenorm: x,
            masks,
            grid,
        }
    }

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
    /// Block `block`'s tokens `y` `[B, 1 + R + L, D]`, registers dropped.
    pub(crate) fn from_tokens(
        block: usize,
        y: Tensor<3>,
        registers: usize,
        grid: (usize, usize),
    ) -> Self {
        let [b, n, d] = y.dims();
        Self {
            block,
            cls: y.clone().narrow(1, 0, 1).reshape([b, d]),
            patches: y.narrow(1, 1 + registers, n - 1 - registers),
            grid,
        }
    }

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

impl LayerSelection {
    /// Sorted, checked block indices of a `depth`-block model (errors name a block the model
    /// lacks, or a duplicate).
    pub fn resolve(self, depth: usize) -> Result<Vec<usize>> {
        match self {
            Self::Last(n) => {
                if n == 0 || n > depth {
                    return Err(PanopticonError::Layers(format!(
                        "asked for the last {n} blocks of a {depth}-block model"
                    )));
                }
                Ok((depth - n..depth).collect())
            }
            Self::Indices(mut v) => {
                if v.is_empty() {
                    return Err(PanopticonError::Layers("no block index given".into()));
                }
                if let Some(bad) = v.iter().find(|&&i| i >= depth) {
                    return Err(PanopticonError::Layers(format!(
                        "block {bad} does not exist (the model has blocks 0..={})",
                        depth - 1
                    )));
                }
                v.sort_unstable();
                if v.windows(2).any(|w| w[0] == w[1]) {
                    return Err(PanopticonError::Layers(format!(
                        "duplicate block index in {v:?}"
                    )));
                }
                Ok(v)
            }
        }
    }
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
