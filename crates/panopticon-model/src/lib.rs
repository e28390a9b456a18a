//! # panopticon-model
//!
//! Panopticon ([arXiv 2503.10845](https://arxiv.org/abs/2503.10845)), the any-sensor
//! Earth-observation foundation model, on Burn: a DINOv2 ViT whose patch embedding
//! turns any number of channels (optical wavelengths in nm, SAR polarisations) into tokens.
//! It computes what the official PyTorch model computes (parity tests against PyTorch
//! references, `atol 5e-5`) and loads the official checkpoints directly.
//!
//! The model comes in two forms:
//! - [`Panopticon`], a plain Burn `Module` whose fields are the checkpoint keys, one forward
//!   per layer in Burn operations: the one to read, change and train (any backend, autodiff);
//! - [`FrozenPanopticon`], made by [`Panopticon::to_frozen`]: the inference engine of the
//!   current weights (folded channel attention, cls-only last block, CPU kernels).
//!
//! Inputs are checked once, when a [`PanopticonInput`] is built.
//!
//! Library code takes a `&Device` and never names a backend.

mod channel_ids;
mod checks;
mod config;
mod convert;
pub mod device;
mod error;
mod heads;
#[cfg(feature = "pretrained")]
pub mod hub;
mod inference;
mod init;
mod input;
pub mod limits;
mod load;
mod output;
mod patch_embed;
mod precision;
mod vit;

pub use channel_ids::ChannelIds;
pub use config::{
    ConvPatchEmbedConfig, FfnLayer, PanopticonConfig, PanopticonPeConfig, PatchEmbedConfig,
};
pub use convert::{ConvertOptions, ConvertReport, SourceKind, convert_checkpoint};
pub use error::{HubError, PanopticonError, Result, WeightsError};
pub use heads::{DinoHead, DinoHeadConfig, WeightNormLinear};
#[cfg(feature = "pretrained")]
pub use hub::{HubOptions, PanopticonWeights, Registry, WeightsEntry};
pub use inference::{
    Epilogue, FrozenPanopticon, Panels, erf, exact_gelu, fused_linear, fused_self_attention,
    gelu_in_place, gelu_in_place_par,
};
pub use init::linear;
pub use input::PanopticonInput;
pub use load::{CheckpointPart, LoadOptions, LoadReport, read_checkpoint_tensors};
pub use output::{ForwardFeatures, IntermediateLayer, LayerSelection};
pub use panopticon_channels::{ChannelId, ChannelIdError, MIN_SAR_ID, Orbit, Polarisation};
pub use patch_embed::{
    ChnAttn, ChnEmb, Conv3d, Conv3dWrapper, CrossAttnNoQueryProj, PanopticonPe, PatchEmbed,
    patchify, sincos_embed, sincos_omega,
};
pub use precision::Precision;
pub use vit::{
    Attention, Block, BlockOptions, Ffn, LayerScale, Mlp, Panopticon, PatchEmbedding, SwiGluFfn,
    TokenGrid, heads_attention, interpolate_pos_embed, residual, scaled_size,
};
