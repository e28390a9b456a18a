//! Cached probe features: what every (last n blocks, pooling) head reads (spec §6.2).

use burn::prelude::*;

use crate::error::{EvalError, Result};

/// How block outputs become one feature vector (DINOv2's `create_linear_input`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pooling {
    /// The last n normalised cls tokens, concatenated (oldest block first), then the mean of
    /// the last block's patch tokens: `(n + 1)·D`.
    Avgpool,
    /// The last n normalised cls tokens, concatenated: `n·D`.
    Cls,
    /// DOFA's: the mean of the last block's raw patch tokens, then the final norm: `D`
    /// (independent of n).
    DofaGlobalpool,
    /// DOFA's: the last block's normalised cls token: `D` (independent of n).
    DofaNoGlobalpool,
}

impl Pooling {
    /// Name used in classifier names (`avgpool` / `cls`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Avgpool => "avgpool",
            Self::Cls => "cls",
            Self::DofaGlobalpool => "DOFA_globalpool",
            Self::DofaNoGlobalpool => "DOFA_no_globalpool",
        }
    }

    /// Parses a [`Pooling::name`].
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Avgpool,
            Self::Cls,
            Self::DofaGlobalpool,
            Self::DofaNoGlobalpool,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }
}

/// The parts every probe input is built from, cached once per split.
///
/// # Shapes
/// `cls`: `[N, B, D]`, the normalised cls tokens of the last `B` blocks, oldest first;
/// `patch_mean`: `[N, D]`, the mean over the patch tokens of the last normalised block output;
/// `global_pool` (optional, for [`Pooling::DofaGlobalpool`]): `[N, D]`, the final norm of the
/// mean over the last block's raw patch tokens.
#[derive(Debug, Clone)]
pub struct ProbeFeatures {
    cls: Tensor<3>,
    patch_mean: Tensor<2>,
    global_pool: Option<Tensor<2>>,
}

impl ProbeFeatures {
    /// Wraps precomputed parts; errors if their sample count or width disagree.
    ///
    /// # Shapes
    /// `cls`: `[N, B, D]`; `patch_mean`: `[N, D]`.
    pub fn new(cls: Tensor<3>, patch_mean: Tensor<2>) -> Result<Self> {
        let [n, _, d] = cls.dims();
        let [n2, d2] = patch_mean.dims();
        if n != n2 {
            return Err(EvalError::Shape {
                what: "patch_mean rows vs cls rows".into(),
                expected: n,
                got: n2,
            });
        }
        if d != d2 {
            return Err(EvalError::Shape {
                what: "patch_mean width vs cls token width".into(),
                expected: d,
                got: d2,
            });
        }
        Ok(Self {
            cls,
            patch_mean,
            global_pool: None,
        })
    }

    /// Adds the DOFA global-pool features (`[N, D]`, see [`Pooling::DofaGlobalpool`]).
    pub fn with_global_pool(mut self, global_pool: Tensor<2>) -> Result<Self> {
        let (want, got) = (self.patch_mean.dims(), global_pool.dims());
        if want != got {
            return Err(EvalError::Shape {
                what: "global_pool rows/width vs patch_mean".into(),
                expected: want[0] * want[1],
                got: got[0] * got[1],
            });
        }
        self.global_pool = Some(global_pool);
        Ok(self)
    }

    /// The DOFA global-pool features, when extracted.
    ///
    /// # Shapes
    /// `[N, D]`
    pub fn global_pool(&self) -> Option<&Tensor<2>> {
        self.global_pool.as_ref()
    }

    /// Builds the cache from the already **normalised** outputs of the last blocks (oldest
    /// first), e.g. the backbone's final norm applied to `intermediate_layers` outputs.
    ///
    /// # Shapes
    /// each block: `[N, 1 + L, D]` with the cls token first and `L >= 1` patch tokens.
    pub fn from_blocks(blocks: &[Tensor<3>]) -> Result<Self> {
        let last = blocks.last().ok_or(EvalError::Config {
            field: "blocks".into(),
            value: "[]".into(),
            reason: "needs the output of at least one block".into(),
        })?;
        let [n, t, d] = last.dims();
        if t < 2 {
            return Err(EvalError::Shape {
                what: "tokens per block output (cls + at least one patch)".into(),
                expected: 2,
                got: t,
            });
        }
        for b in blocks {
            let [bn, bt, bd] = b.dims();
            if (bn, bt, bd) != (n, t, d) {
                return Err(EvalError::Shape {
                    what: "block outputs must all have the same shape; sample count".into(),
                    expected: n,
                    got: bn,
                });
            }
        }
        let cls = Tensor::cat(
            blocks
                .iter()
                .map(|b| b.clone().slice([0..n, 0..1, 0..d]))
                .collect(),
            1,
        ); // [N, B, D]
        let patch_mean = last
            .clone()
            .slice([0..n, 1..t, 0..d])
            .mean_dim(1)
            .reshape([n, d]);
        Self::new(cls, patch_mean)
    }

    /// The normalised cls tokens of the last blocks, oldest first.
    ///
    /// # Shapes
    /// `[N, B, D]`
    pub fn cls(&self) -> &Tensor<3> {
        &self.cls
    }

    /// The mean patch token of the last block.
    ///
    /// # Shapes
    /// `[N, D]`
    pub fn patch_mean(&self) -> &Tensor<2> {
        &self.patch_mean
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.cls.dims()[0]
    }

    /// `true` when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of cached blocks `B` (the largest usable `n`).
    pub fn num_blocks(&self) -> usize {
        self.cls.dims()[1]
    }

    /// Token width `D`.
    pub fn token_dim(&self) -> usize {
        self.cls.dims()[2]
    }

    /// Width of the pooled input for `n` blocks.
    pub fn pooled_dim(&self, n: usize, pooling: Pooling) -> usize {
        match pooling {
            Pooling::Avgpool => (n + 1) * self.token_dim(),
            Pooling::Cls => n * self.token_dim(),
            Pooling::DofaGlobalpool | Pooling::DofaNoGlobalpool => self.token_dim(),
        }
    }

    /// The probe input for the last `n` blocks with `pooling`.
    ///
    /// # Shapes
    /// `[N, pooled_dim(n, pooling)]`.
    pub fn pooled(&self, n: usize, pooling: Pooling) -> Result<Tensor<2>> {
        let [len, b, d] = self.cls.dims();
        if n == 0 || n > b {
            return Err(EvalError::Config {
                field: "n_last_blocks".into(),
                value: n.to_string(),
                reason: format!("must be in 1..={b} (the number of cached blocks)"),
            });
        }
        let cls = self
            .cls
            .clone()
            .slice([0..len, b - n..b, 0..d])
            .reshape([len, n * d]);
        Ok(match pooling {
            Pooling::Cls => cls,
            Pooling::Avgpool => Tensor::cat(vec![cls, self.patch_mean.clone()], 1),
            Pooling::DofaNoGlobalpool => self
                .cls
                .clone()
                .slice([0..len, b - 1..b, 0..d])
                .reshape([len, d]),
            Pooling::DofaGlobalpool => self.global_pool.clone().ok_or(EvalError::Config {
                field: "linear.poolings".into(),
                value: "DOFA_globalpool".into(),
                reason: "these features were extracted without the global pool".into(),
            })?,
        })
    }

    /// Errors on the first sample holding NaN or ±inf.
    pub(crate) fn check_finite(&self, split: &str) -> Result<()> {
        let [n, b, d] = self.cls.dims();
        crate::split::check_finite(split, &self.cls.clone().reshape([n, b * d]))?;
        crate::split::check_finite(split, &self.patch_mean)?;
        match &self.global_pool {
            Some(g) => crate::split::check_finite(split, g),
            None => Ok(()),
        }
    }
}
