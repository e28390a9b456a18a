//! # panopticon-model
//!
//! Panopticon ([arXiv 2503.10845](https://arxiv.org/abs/2503.10845)), the any-sensor
//! Earth-observation foundation model, on Burn: a DINOv2 ViT whose patch embedding
//! turns any number of channels (optical wavelengths in nm, SAR polarisations) into tokens.
//! It computes what the official PyTorch model computes (parity tests against PyTorch
//! references, `atol 5e-5`) and loads the official checkpoints directly.
//!
//! Library code takes a `&Device` and never names a backend.

mod config;
mod convert;
pub mod device;
mod error;
mod heads;
#[cfg(feature = "pretrained")]
pub mod hub;
mod init;
mod input;
pub mod limits;
mod load;
pub mod ops;
mod output;
pub mod patch_embed;
mod precision;
pub mod vit;

pub use config::{
    ConvPatchEmbedConfig, FfnLayer, PanopticonConfig, PanopticonPeConfig, PatchEmbedConfig,
};
pub use convert::{ConvertOptions, ConvertReport, SourceKind, convert_checkpoint};
pub use error::{HubError, PanopticonError, Result, WeightsError};
pub use heads::{DinoHead, DinoHeadConfig, WeightNormLinear};
#[cfg(feature = "pretrained")]
pub use hub::{HubOptions, PanopticonWeights, Registry, WeightsEntry};
pub use init::linear;
pub use input::PanopticonInput;
pub use load::{CheckpointPart, LoadOptions, LoadReport, read_checkpoint_tensors};
pub use output::{ForwardFeatures, IntermediateLayer, LayerSelection};
pub use precision::Precision;
pub use vit::{Panopticon, PatchEmbedding, Prepared};
