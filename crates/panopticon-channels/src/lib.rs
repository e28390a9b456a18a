//! # panopticon-channels
//!
//! What one input channel is, as Panopticon's channel embedding sees it: an optical band by
//! its centre wavelength in nm, or a SAR band by polarisation and orbit (upstream's ids
//! −1 … −12). Parsing (`"665"`, `"vv-asc"`) and validation live here, once, for the CLI,
//! the data crate (sensor registry) and the model (`ChannelIds`).
//!
//! ```
//! use panopticon_channels::{ChannelId, Orbit, Polarisation};
//!
//! let vh: ChannelId = "VH-desc".parse()?;
//! assert_eq!(vh, ChannelId::Sar { polarisation: Polarisation::Vh, orbit: Orbit::Descending });
//! assert_eq!(vh.to_f32(), -10.0);
//! assert_eq!(ChannelId::from_f32(-10.0)?, vh);
//! assert_eq!(ChannelId::parse("442.92")?.to_i16(), 442); // truncated, as upstream
//! # Ok::<(), panopticon_channels::ChannelIdError>(())
//! ```
//!
//! Depends on nothing of the workspace, so every crate can use it.

mod channel_id;
mod error;
mod parse;
mod sar;

pub use channel_id::{ChannelId, MAX_SAR_ID, MIN_SAR_ID, WAVELENGTH_LIMIT_NM};
pub use error::ChannelIdError;
pub use sar::{Orbit, Polarisation};
