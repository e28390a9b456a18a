//! iBOT block masking (spec §3.6): the [`MaskingGenerator`] and the per-batch mask sampling
//! of the collate ([`IbotMasks`]).

mod error;
mod generator;
mod ibot;

pub use error::MaskingError;
pub use generator::MaskingGenerator;
pub use ibot::{IbotMaskConfig, IbotMasks, linspace_f32};
