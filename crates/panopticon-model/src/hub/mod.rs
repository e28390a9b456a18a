//! Pretrained weights: a registry with provenance, downloads from the Hugging Face hub (or a
//! URL) into the standard caches with integrity checks, and a converted-burnpack cache so
//! later loads need no network at all.
//!
//! ```no_run
//! use burn::prelude::*;
//! use panopticon_model::{Panopticon, PanopticonWeights};
//! let model = Panopticon::pretrained(PanopticonWeights::VitB14, &Device::default())?;
//! # Ok::<(), panopticon_model::PanopticonError>(())
//! ```

mod download;
mod options;
mod pretrained;
mod registry;

pub use download::{fetch_source, sha256_file};
pub use options::HubOptions;
pub use pretrained::{burnpack_path, cached_burnpack, verify_burnpack};
pub use registry::{PanopticonWeights, Registry, Source, WeightsEntry};
