//! Pre-training datasets in their upstream on-disk layouts (spec §5.6–§5.8).

mod error;
mod source;

pub use error::DatasetError;
pub use source::PretrainSource;
