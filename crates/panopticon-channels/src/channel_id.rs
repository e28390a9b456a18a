//! `ChannelId`: the channel id Panopticon embeds, its checks and its numeric forms.

use std::fmt;

use crate::{ChannelIdError, Orbit, Polarisation};

/// The most negative SAR id (−12, HV on descending passes).
pub const MIN_SAR_ID: i16 = -12;

/// The SAR id closest to zero (−1, VV on both orbits).
pub const MAX_SAR_ID: i16 = -1;

/// Exclusive upper bound of a wavelength in nm: upstream feeds the model `int16(mu)`, which
/// wraps from 32768 on.
pub const WAVELENGTH_LIMIT_NM: f64 = 32768.0;

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
///
/// Build one with [`parse`](Self::parse) (the CLI's tokens), [`optical`](Self::optical),
/// [`from_sar_id`](Self::from_sar_id) or [`from_f32`](Self::from_f32) (the model's numeric
/// ids); a value built from the variants directly can be checked with [`check`](Self::check).
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
    /// An optical channel, checked: a finite wavelength in `0 ≤ nm < 32768`
    /// ([`WAVELENGTH_LIMIT_NM`]), so that [`to_i16`](Self::to_i16) never wraps.
    pub fn optical(wavelength_nm: f64) -> Result<Self, ChannelIdError> {
        let id = Self::Optical { wavelength_nm };
        id.check()?;
        Ok(id)
    }

    /// Checks a channel built from the variants: an optical wavelength must be finite and in
    /// `0 ≤ nm < 32768`; every SAR channel is valid.
    pub fn check(&self) -> Result<(), ChannelIdError> {
        match *self {
            Self::Optical { wavelength_nm: v } if !v.is_finite() => {
                Err(ChannelIdError::NonFinite { value: v })
            }
            Self::Optical { wavelength_nm: v } if v < 0.0 => {
                Err(ChannelIdError::NegativeWavelength { value: v })
            }
            Self::Optical { wavelength_nm: v } if v >= WAVELENGTH_LIMIT_NM => {
                Err(ChannelIdError::WavelengthOutOfRange { value: v })
            }
            Self::Optical { .. } | Self::Sar { .. } => Ok(()),
        }
    }

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
    pub fn from_sar_id(id: i16) -> Result<Self, ChannelIdError> {
        if !(MIN_SAR_ID..=MAX_SAR_ID).contains(&id) {
            return Err(ChannelIdError::InvalidSarId {
                value: f64::from(id),
            });
        }
        let k = (-id - 1) as usize;
        Ok(Self::Sar {
            polarisation: Polarisation::ALL[k % 4],
            orbit: Orbit::ALL[k / 4],
        })
    }

    /// The channel a numeric id of the model's `chn_ids` stands for: negative ⇒ a SAR id
    /// (an integer in −12 ..= −1), otherwise a wavelength in nm.
    ///
    /// Accepts every finite non-negative wavelength, as the model's embedding does (it floors
    /// any float); unlike [`optical`](Self::optical) it does not require `< 32768`, so
    /// [`to_i16`](Self::to_i16) of such a channel saturates at 32767.
    pub fn from_f32(value: f32) -> Result<Self, ChannelIdError> {
        if !value.is_finite() {
            return Err(ChannelIdError::NonFinite {
                value: shown(value),
            });
        }
        if value >= 0.0 {
            return Ok(Self::Optical {
                wavelength_nm: f64::from(value),
            });
        }
        if value.fract() != 0.0 || value < f32::from(MIN_SAR_ID) {
            return Err(ChannelIdError::InvalidSarId {
                value: shown(value),
            });
        }
        // An integer in -12..=-1 here, so the cast is exact.
        Self::from_sar_id(value as i16)
    }

    /// The int16 chn_id upstream feeds the model: `int16(mu)`.
    ///
    /// Upstream quirk, reproduced for parity: the wavelength is cast with numpy
    /// `astype(int16)`, i.e. **truncated toward zero** (442.92 nm → 442, never rounded), so the
    /// model was trained on integer wavelengths. [`optical`](Self::optical), [`parse`](Self::parse)
    /// and the sensor registry keep wavelengths in `0 ≤ mu < 32768`, so the cast never wraps
    /// (a larger wavelength admitted by [`from_f32`](Self::from_f32) saturates at 32767).
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

/// The `f64` that prints as `v` does (its shortest decimal), so that messages show the `-2.3`
/// the caller wrote rather than `-2.299999952316284`.
fn shown(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sar(polarisation: Polarisation, orbit: Orbit) -> ChannelId {
        ChannelId::Sar {
            polarisation,
            orbit,
        }
    }

    #[test]
    fn all_twelve_sar_ids_follow_the_spec_table() {
        let mut id = -1;
        for orbit in [Orbit::Both, Orbit::Ascending, Orbit::Descending] {
            for pol in [
                Polarisation::Vv,
                Polarisation::Vh,
                Polarisation::Hh,
                Polarisation::Hv,
            ] {
                let c = sar(pol, orbit);
                assert_eq!(ChannelId::sar_id(pol, orbit), id);
                assert_eq!(ChannelId::from_sar_id(id), Ok(c));
                assert_eq!(c.to_i16(), id);
                assert_eq!(c.to_f32(), f32::from(id));
                assert_eq!(ChannelId::from_f32(c.to_f32()), Ok(c));
                assert!(c.is_sar());
                assert_eq!(c.check(), Ok(()));
                id -= 1;
            }
        }
        assert_eq!(id, MIN_SAR_ID - 1);
    }

    #[test]
    fn sar_ids_outside_the_table_are_rejected() {
        for bad in [0, MAX_SAR_ID + 1, MIN_SAR_ID - 1, 5, i16::MIN] {
            assert_eq!(
                ChannelId::from_sar_id(bad),
                Err(ChannelIdError::InvalidSarId {
                    value: f64::from(bad)
                })
            );
        }
        for bad in [-13.0f32, -1.5, -0.25, -2.3, -1e9] {
            let e = ChannelId::from_f32(bad).unwrap_err();
            assert!(matches!(e, ChannelIdError::InvalidSarId { .. }), "{bad}");
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid SAR channel id {bad}:")),
                "{e}"
            );
        }
    }

    #[test]
    fn from_f32_takes_what_the_model_takes() {
        for v in [0.0f32, -0.0, 442.92, 664.0, 40000.0, f32::MAX] {
            let c = ChannelId::from_f32(v).unwrap();
            assert_eq!(
                c,
                ChannelId::Optical {
                    wavelength_nm: f64::from(v)
                }
            );
            assert!(!c.is_sar());
        }
        for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let e = ChannelId::from_f32(v).unwrap_err();
            assert!(matches!(e, ChannelIdError::NonFinite { .. }), "{v}");
            assert!(e.to_string().contains(&format!("is {v},")), "{e}");
        }
        // Beyond int16 only the numeric form is admitted; its int16 saturates.
        assert_eq!(ChannelId::from_f32(40000.0).unwrap().to_i16(), i16::MAX);
    }

    #[test]
    fn optical_wavelengths_are_checked() {
        assert!(ChannelId::optical(0.0).is_ok());
        assert!(ChannelId::optical(32767.99).is_ok());
        assert_eq!(
            ChannelId::optical(-3.0),
            Err(ChannelIdError::NegativeWavelength { value: -3.0 })
        );
        assert_eq!(
            ChannelId::optical(32768.0),
            Err(ChannelIdError::WavelengthOutOfRange { value: 32768.0 })
        );
        assert!(matches!(
            ChannelId::optical(f64::NAN),
            Err(ChannelIdError::NonFinite { .. })
        ));
        assert_eq!(
            ChannelId::optical(f64::INFINITY),
            Err(ChannelIdError::NonFinite {
                value: f64::INFINITY
            })
        );
        let e = ChannelId::optical(40000.5).unwrap_err().to_string();
        assert!(e.contains("40000.5 nm") && e.contains("32768"), "{e}");
        // A value built from the variants is checked the same way.
        let raw = ChannelId::Optical {
            wavelength_nm: -1.0,
        };
        assert!(matches!(
            raw.check(),
            Err(ChannelIdError::NegativeWavelength { .. })
        ));
    }

    #[test]
    fn int16_truncation_quirk_is_reproduced() {
        // Toward zero, never rounded: 442.92 -> 442, 443.704 -> 443, 1234.97 -> 1234.
        for (nm, want) in [(442.92, 442), (443.704, 443), (1234.97, 1234), (0.99, 0)] {
            let c = ChannelId::optical(nm).unwrap();
            assert_eq!(c.to_i16(), want, "{nm}");
            assert_eq!(c.to_f32(), f32::from(want), "{nm}");
        }
        assert_eq!(ChannelId::optical(32767.9).unwrap().to_i16(), i16::MAX);
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(ChannelId::optical(864.8).unwrap().to_string(), "864.8 nm");
        assert_eq!(
            sar(Polarisation::Vh, Orbit::Ascending).to_string(),
            "SAR VH (ascending orbit)"
        );
    }
}
