//! Embedding whole scenes: normalisation, edge padding, a sliding window of model-sized tiles,
//! batched forward passes, and the stitched dense feature map. Used by `panopticon embed`.

mod normalize;
pub mod output;
mod pca;
mod run;
mod tiling;

pub use normalize::{BandStats, Norm, NormError, StatsAccumulator};
pub use pca::principal_components;
pub use run::{EmbedError, EmbedOptions, Embedded, Window, embed_scene, embed_streamed};
pub use tiling::{Tile, plan_tiles};
