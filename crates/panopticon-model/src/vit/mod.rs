//! The DINOv2 trunk: blocks, attention, feed-forward, LayerScale, positions, the model.

mod attention;
mod block;
pub(crate) mod checks;
mod drop_path;
mod ffn;
mod fold;
mod layer_scale;
mod model;
mod pos_embed;

pub use attention::Attention;
pub use block::{Block, BlockOptions};
pub use drop_path::residual;
pub use ffn::{Ffn, Mlp, SwiGluFfn};
pub use layer_scale::LayerScale;
pub use model::{Panopticon, PatchEmbedding, Prepared};
pub use pos_embed::{interpolate_pos_embed, scaled_size};
