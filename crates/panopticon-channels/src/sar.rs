//! The two parts of a SAR channel: polarisation and orbit direction.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_case_insensitively() {
        for p in Polarisation::ALL {
            assert_eq!(Polarisation::parse(p.as_str()), Some(p));
            assert_eq!(Polarisation::parse(&p.as_str().to_lowercase()), Some(p));
        }
        for o in Orbit::ALL {
            assert_eq!(Orbit::parse(o.as_str()), Some(o));
            assert_eq!(Orbit::parse(&o.as_str().to_uppercase()), Some(o));
        }
        assert_eq!(Polarisation::parse("VX"), None);
        assert_eq!(Orbit::parse("asc"), None); // the short forms belong to the token grammar
    }
}
