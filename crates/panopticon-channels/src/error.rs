//! Why a value is not a channel id.

/// A value or token that is not a valid channel id; every variant names the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChannelIdError {
    /// NaN or infinite.
    #[error("channel id is {value}, expected a finite number")]
    NonFinite {
        /// The offending value.
        value: f64,
    },
    /// A wavelength below zero (SAR channels are named, or given as ids -1..=-12 only where
    /// numeric ids are expected).
    #[error(
        "wavelength {value} nm is negative: a wavelength is a non-negative number of nm \
         (SAR channels are written vv|vh|hh|hv[-asc|-desc|-both])"
    )]
    NegativeWavelength {
        /// The offending wavelength in nm.
        value: f64,
    },
    /// A wavelength upstream's int16 channel ids cannot hold.
    #[error(
        "wavelength {value} nm is out of range: upstream's int16 channel ids need wavelengths \
         below 32768 nm"
    )]
    WavelengthOutOfRange {
        /// The offending wavelength in nm.
        value: f64,
    },
    /// A negative (SAR) id that is not one of the integers −1 … −12.
    #[error(
        "invalid SAR channel id {value}: SAR ids are the integers -1..=-12 (VV, VH, HH, HV x \
         both/ascending/descending orbit)"
    )]
    InvalidSarId {
        /// The offending id.
        value: f64,
    },
    /// A token that is neither a number nor a SAR channel name.
    #[error(
        "`{token}` is not a channel: expected a wavelength in nm (e.g. 665) or a SAR channel \
         vv|vh|hh|hv with an optional orbit -asc|-ascending|-desc|-descending|-both (e.g. \
         vv-asc; any case)"
    )]
    Unparseable {
        /// The token as given (trimmed).
        token: String,
    },
}
