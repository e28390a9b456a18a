//! Element type of converted weight files, and which tensors may be rounded.
//!
//! Half-precision files round only the weight matrices (rank ≥ 2: Linear, Conv3d, the
//! channel embeddings) and keep biases, norms, LayerScale gammas and the tokens added
//! straight into the residual stream (`cls_token`, `mask_token`, `register_tokens`,
//! `pos_embed`) in f32. Those are ≈0.3% of ViT-B/14's bytes but a third of bf16's output
//! error: rounding everything to bf16 perturbs the normalised tokens by 3.5e-2 (PyTorch's own
//! `.bfloat16()` cast of the same weights), this split by 2.5e-2.

use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{FloatCastAdapter, ModuleAdapter, ModuleContext};
use burn::tensor::DType;

/// Element type of the written file. Loading always yields an f32 model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Exact.
    #[default]
    F32,
    /// Weight matrices in f16 (11 significant bits, range ±65504), the rest f32: half the size.
    F16,
    /// Weight matrices in bf16 (8 significant bits, f32's range), the rest f32: half the size.
    Bf16,
}

impl Precision {
    /// Parses `f32|f16|bf16`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "f32" => Self::F32,
            "f16" => Self::F16,
            "bf16" => Self::Bf16,
            _ => return None,
        })
    }

    /// Element type of the rounded tensors.
    pub fn dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
            Self::Bf16 => DType::BF16,
        }
    }

    /// Largest probe difference accepted after the round trip, for outputs of unit scale:
    /// 0 for f32, 1e-2 for f16/bf16 (see [`Precision::allowed`]).
    pub fn tolerance(self) -> f32 {
        match self {
            Self::F32 => 0.0,
            Self::F16 | Self::Bf16 => 1e-2,
        }
    }

    /// The accepted difference for outputs whose largest magnitude is `scale`: rounding
    /// weights to 8 (bf16) or 11 (f16) significant bits perturbs outputs in proportion to
    /// their size, so beyond unit scale the tolerance is relative. (bf16 cannot do better:
    /// ViT-B/14's normalised tokens reach ≈6, and bf16's relative step is 2^-8.)
    pub fn allowed(self, scale: f32) -> f32 {
        self.tolerance() * scale.max(1.0)
    }

    /// Whether the tensor called `name` (Burn module path) with `rank` dimensions is stored at
    /// this precision; otherwise it stays f32.
    pub fn rounds(self, name: &str, rank: usize) -> bool {
        const KEEP: [&str; 4] = ["cls_token", "mask_token", "register_tokens", "pos_embed"];
        let leaf = name.rsplit('.').next().unwrap_or(name);
        self != Self::F32 && rank >= 2 && !KEEP.contains(&leaf)
    }
}

/// Save-side adapter applying [`Precision::rounds`]. Loading casts everything back to f32
/// with a plain `FloatCastAdapter`, so mixed files need nothing special.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StorageCast(pub Precision);

impl ModuleAdapter for StorageCast {
    fn adapt(&self, tensor: PackTensor, ctx: ModuleContext<'_>) -> PackTensor {
        let target = if self.0.rounds(&tensor.name, tensor.shape.len()) {
            self.0.dtype()
        } else {
            DType::F32
        };
        FloatCastAdapter::to(target).adapt(tensor, ctx)
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(*self)
    }
}
