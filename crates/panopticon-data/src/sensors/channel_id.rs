//! The channel id Panopticon embeds: an optical centre wavelength or a typed SAR channel.

use std::fmt;

use super::error::SensorError;

/// SAR polarisation (transmit/receive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarisation {
    /// Vertical transmit, vertical receive.
    Vv,
    /// Vertical transmit, horizontal receive.
    Vh,
    /// Horizontal transmit, horizontal receive.
    Hh,
    /// Horizontal transmit, vertical receive.
    Hv,
}

/// Orbit direction(s) a SAR channel was acquired on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Orbit {
    /// Both orbit directions mixed (upstream `BOTH`).
    Both,
    /// Ascending passes only.
    Ascending,
    /// Descending passes only.
    Descending,
}

impl Polarisation {
    /// All polarisations in id order (VV = 0 … HV = 3).
    pub const ALL: [Self; 4] = [Self::Vv, Self::Vh, Self::Hh, Self::Hv];

    /// The upstream spelling (`"VV"`, `"VH"`, `"HH"`, `"HV"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vv => "VV",
            Self::Vh => "VH",
            Self::Hh => "HH",
            Self::Hv => "HV",
        }
    }

    /// Parses the upstream spelling, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

impl Orbit {
    /// All orbits in id order (both = 0, ascending = 1, descending = 2).
    pub const ALL: [Self; 3] = [Self::Both, Self::Ascending, Self::Descending];

    /// The lower-case spelling used in `configs/sensors/*.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::Ascending => "ascending",
            Self::Descending => "descending",
        }
    }

    /// Parses the spelling, case-insensitively (upstream writes `BOTH`, `ASCENDING`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(s))
    }
}

/// What one input channel is, as Panopticon's channel embedding sees it.
///
/// Optical channels are embedded by their centre wavelength (sin-cos encoding); SAR channels
/// select one of 12 learned embeddings, addressed upstream by the negative ids −1 … −12:
///
/// | orbit \ pol | VV | VH | HH | HV |
/// |---|---|---|---|---|
/// | both        | −1 | −2 | −3 | −4 |
/// | ascending   | −5 | −6 | −7 | −8 |
/// | descending  | −9 | −10 | −11 | −12 |
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChannelId {
    /// An optical band, by centre wavelength in nanometres (the Gaussian `mu`).
    Optical {
        /// Centre wavelength in nm, untruncated.
        wavelength_nm: f64,
    },
    /// A SAR band.
    Sar {
        /// Polarisation.
        polarisation: Polarisation,
        /// Orbit direction(s).
        orbit: Orbit,
    },
}

impl ChannelId {
    /// The upstream SAR id (−1 … −12) of a polarisation and orbit.
    pub fn sar_id(polarisation: Polarisation, orbit: Orbit) -> i16 {
        let p = match polarisation {
            Polarisation::Vv => 0,
            Polarisation::Vh => 1,
            Polarisation::Hh => 2,
            Polarisation::Hv => 3,
        };
        let o = match orbit {
            Orbit::Both => 0,
            Orbit::Ascending => 1,
            Orbit::Descending => 2,
        };
        -(o * 4 + p + 1)
    }

    /// The SAR channel an upstream id −1 … −12 stands for.
    pub fn from_sar_id(id: i16) -> Result<Self, SensorError> {
        if !(-12..=-1).contains(&id) {
            return Err(SensorError::InvalidSarId { id });
        }
        let k = (-id - 1) as usize;
        Ok(Self::Sar {
            polarisation: Polarisation::ALL[k % 4],
            orbit: Orbit::ALL[k / 4],
        })
    }

    /// The int16 chn_id upstream feeds the model: `int16(mu)`.
    ///
    /// Upstream quirk, reproduced for parity: the wavelength is cast with numpy
    /// `astype(int16)`, i.e. **truncated toward zero** (442.92 nm → 442, never rounded), so the
    /// model was trained on integer wavelengths. Wavelengths are validated to lie in
    /// `0 < mu < 32768` when a sensor is loaded, so the cast never wraps.
    pub fn to_i16(&self) -> i16 {
        match *self {
            Self::Optical { wavelength_nm } => wavelength_nm.trunc() as i16,
            Self::Sar {
                polarisation,
                orbit,
            } => Self::sar_id(polarisation, orbit),
        }
    }

    /// [`Self::to_i16`] as the `f32` the model's `chn_ids` tensor holds.
    pub fn to_f32(&self) -> f32 {
        f32::from(self.to_i16())
    }

    /// Whether this is a SAR channel.
    pub fn is_sar(&self) -> bool {
        matches!(self, Self::Sar { .. })
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Optical { wavelength_nm } => write!(f, "{wavelength_nm} nm"),
            Self::Sar {
                polarisation,
                orbit,
            } => write!(
                f,
                "SAR {} ({} orbit)",
                polarisation.as_str(),
                orbit.as_str()
            ),
        }
    }
}
