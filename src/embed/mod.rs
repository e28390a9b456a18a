//! Embedding whole scenes: normalisation, edge padding, a sliding window of model-sized tiles,
//! batched forward passes, and the stitched dense feature map. Used by `panopticon embed`.

mod normalize;
mod pca;
mod run;
mod tiling;

pub use normalize::{BandStats, Norm, NormError};
pub use pca::principal_components;
pub use run::{EmbedOptions, Embedded, embed_scene};
pub use tiling::{Tile, plan_tiles};
