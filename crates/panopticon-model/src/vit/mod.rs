//! The DINOv2 trunk: blocks, attention, feed-forward, LayerScale, positions, the model.

mod attention;
mod block;
mod drop_path;
mod ffn;
mod layer_scale;
mod model;
mod pos_embed;
pub(crate) mod tokens;

pub use attention::{Attention, heads_attention};
pub use block::{Block, BlockOptions};
pub use drop_path::residual;
pub(crate) use ffn::swiglu;
pub use ffn::{Ffn, Mlp, SwiGluFfn};
pub use layer_scale::LayerScale;
pub use model::{Panopticon, PatchEmbedding};
pub use pos_embed::{interpolate_pos_embed, scaled_size};
pub use tokens::TokenGrid;
