//! Sensor registry: band tables of every sensor Panopticon was trained or evaluated on, and
//! the int16 channel ids upstream derives from them (spec §5.1–5.3).

mod band;
mod dataset;
mod error;
mod registry;
mod sensor;

pub use band::Band;
pub use dataset::Dataset;
pub use error::SensorError;
pub use registry::SensorRegistry;
pub use sensor::Sensor;

// The channel id type lives in `panopticon-channels` (shared with the model); re-exported
// here, where it has always been.
pub use panopticon_channels::{ChannelId, ChannelIdError, Orbit, Polarisation};
