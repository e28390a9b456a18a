//! The text form of a channel id, as the CLI takes it: `665`, `442.9`, `vv`, `VH-asc`.

use std::str::FromStr;

use crate::{ChannelId, ChannelIdError, Orbit, Polarisation};

impl ChannelId {
    /// Parses one channel token, case-insensitively, surrounding spaces ignored:
    ///
    /// - a centre wavelength in nm (`665`, `442.92`), checked as by
    ///   [`optical`](Self::optical): finite, `0 ≤ nm < 32768`;
    /// - a SAR channel `vv|vh|hh|hv`, optionally followed by its orbit
    ///   `-asc|-ascending|-desc|-descending|-both` (default both), e.g. `vv-asc`.
    ///
    /// Negative numbers are refused: SAR channels are written by name here.
    pub fn parse(token: &str) -> Result<Self, ChannelIdError> {
        let t = token.trim();
        if let Ok(nm) = t.parse::<f64>() {
            return Self::optical(nm);
        }
        let (pol, orbit) = t.split_once('-').unwrap_or((t, "both"));
        let orbit = match orbit.to_ascii_lowercase().as_str() {
            "asc" | "ascending" => Some(Orbit::Ascending),
            "desc" | "descending" => Some(Orbit::Descending),
            "both" => Some(Orbit::Both),
            _ => None,
        };
        match (Polarisation::parse(pol), orbit) {
            (Some(polarisation), Some(orbit)) => Ok(Self::Sar {
                polarisation,
                orbit,
            }),
            _ => Err(ChannelIdError::Unparseable { token: t.into() }),
        }
    }
}

impl FromStr for ChannelId {
    type Err = ChannelIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wavelengths_parse_untruncated() {
        assert_eq!(
            ChannelId::parse(" 442.92 "),
            Ok(ChannelId::Optical {
                wavelength_nm: 442.92
            })
        );
        assert_eq!(ChannelId::parse("665").unwrap().to_f32(), 665.0);
        assert_eq!(ChannelId::parse("0").unwrap().to_i16(), 0);
        assert_eq!(
            ChannelId::parse("-3"),
            Err(ChannelIdError::NegativeWavelength { value: -3.0 })
        );
        assert_eq!(
            ChannelId::parse("40000"),
            Err(ChannelIdError::WavelengthOutOfRange { value: 40000.0 })
        );
        assert!(matches!(
            ChannelId::parse("nan"),
            Err(ChannelIdError::NonFinite { .. })
        ));
        assert_eq!(
            ChannelId::parse("inf"),
            Err(ChannelIdError::NonFinite {
                value: f64::INFINITY
            })
        );
    }

    #[test]
    fn every_sar_spelling_round_trips_through_the_numeric_id() {
        let orbits = [
            ("", Orbit::Both),
            ("-both", Orbit::Both),
            ("-BOTH", Orbit::Both),
            ("-asc", Orbit::Ascending),
            ("-Ascending", Orbit::Ascending),
            ("-desc", Orbit::Descending),
            ("-DESCENDING", Orbit::Descending),
        ];
        for p in Polarisation::ALL {
            for name in [p.as_str().to_string(), p.as_str().to_lowercase()] {
                for (suffix, orbit) in orbits {
                    let token = format!("{name}{suffix}");
                    let c: ChannelId = token.parse().unwrap();
                    assert_eq!(
                        c,
                        ChannelId::Sar {
                            polarisation: p,
                            orbit
                        },
                        "{token}"
                    );
                    assert_eq!(ChannelId::from_f32(c.to_f32()), Ok(c), "{token}");
                }
            }
        }
    }

    #[test]
    fn other_tokens_name_the_grammar() {
        for bad in ["vv-sideways", "vx", "", "12x", "vv-", "-asc", "vv_asc"] {
            let e = ChannelId::parse(bad).unwrap_err();
            assert_eq!(
                e,
                ChannelIdError::Unparseable {
                    token: bad.to_string()
                }
            );
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("`{bad}` is not a channel")),
                "{text}"
            );
            assert!(
                text.contains("vv|vh|hh|hv") && text.contains("-desc"),
                "{text}"
            );
        }
    }
}
