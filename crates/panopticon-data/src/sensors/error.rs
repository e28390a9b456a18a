//! Errors of the sensor registry.

/// Errors raised while loading the sensor registry or resolving band names.
///
/// Every variant names the offending sensor, band or dataset and lists what would be valid.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    /// The sensor name (or alias) is not in the registry.
    #[error("unknown sensor `{name}`; known sensors: {}", known.join(", "))]
    UnknownSensor {
        /// The requested name.
        name: String,
        /// Registered names and aliases.
        known: Vec<String>,
    },
    /// The band key is not one of the sensor's bands.
    #[error("sensor `{sensor}` has no band `{band}`; valid bands: {}", valid.join(", "))]
    UnknownBand {
        /// The sensor that was asked.
        sensor: String,
        /// The requested band key.
        band: String,
        /// The sensor's band keys in table order.
        valid: Vec<String>,
    },
    /// A common name (`rededge`) that several of the sensor's bands share.
    #[error(
        "`{name}` is ambiguous for sensor `{sensor}`: bands {} share that common name; name one \
         of them", keys.join(", ")
    )]
    AmbiguousBand {
        /// The sensor that was asked.
        sensor: String,
        /// The common name asked for.
        name: String,
        /// The band keys that share it.
        keys: Vec<String>,
    },
    /// A `<sensor>/<band>` id lacks the slash.
    #[error("band id `{id}` is not of the form `<sensor>/<band>` (e.g. `sentinel2/B04`)")]
    MalformedBandId {
        /// The offending id.
        id: String,
    },
    /// The dataset is not in `configs/sensors/datasets.toml`.
    #[error("unknown dataset `{name}`; known datasets: {}", known.join(", "))]
    UnknownDataset {
        /// The requested name.
        name: String,
        /// Registered dataset names (`pretrain/…`, `eval/…`).
        known: Vec<String>,
    },
    /// A bare dataset stem matches datasets with different band lists.
    #[error(
        "dataset stem `{name}` is ambiguous ({}); use the full `pretrain/…` or `eval/…` name",
        candidates.join(", ")
    )]
    AmbiguousDataset {
        /// The requested stem.
        name: String,
        /// The full names it matches.
        candidates: Vec<String>,
    },
    /// A value that is not a channel id (a SAR id outside −1 … −12, a wavelength out of
    /// range, …), from [`ChannelId`](crate::ChannelId)'s constructors.
    #[error(transparent)]
    ChannelId(#[from] panopticon_channels::ChannelIdError),
    /// A sensor or dataset TOML file does not parse.
    #[error("cannot parse sensor config `{file}`: {message}")]
    Parse {
        /// The config file.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A sensor or dataset TOML file parses but is inconsistent.
    #[error("invalid sensor config `{file}`: {message}")]
    Invalid {
        /// The config file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}
