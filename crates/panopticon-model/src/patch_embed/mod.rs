//! Patch embeddings: Panopticon's any-channel embedding and DINOv2's convolution.

mod chn_attn;
mod chn_emb;
mod conv3d;
mod conv_pe;
mod panopticon_pe;
mod sincos;
mod xattn;

pub use chn_attn::ChnAttn;
pub use chn_emb::ChnEmb;
pub use conv_pe::PatchEmbed;
pub(crate) use conv3d::crop_to_patch_grid;
pub use conv3d::{Conv3d, Conv3dWrapper, patchify};
pub use panopticon_pe::PanopticonPe;
pub use sincos::{sincos_embed, sincos_omega};
pub use xattn::CrossAttnNoQueryProj;
