//! Embedding whole scenes: normalisation, edge padding, a sliding window of model-sized tiles,
//! batched forward passes, and the stitched dense feature map. Used by `panopticon embed`.

mod normalize;
pub mod output;
mod pca;
mod read_ahead;
mod run;
mod tiling;

pub use normalize::{BandStats, Norm, NormError, StatsAccumulator};
pub use pca::principal_components;
pub use read_ahead::{WindowResult, with_read_ahead};
pub use run::{
    EmbedError, EmbedOptions, Embedded, Window, embed_scene, embed_streamed, tile_row_windows,
};
pub use tiling::{Tile, plan_tiles};
