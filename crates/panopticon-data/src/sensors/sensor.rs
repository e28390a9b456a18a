//! A sensor: its metadata and band table, parsed from one `configs/sensors/<sensor>.toml`.

use std::collections::HashSet;

use panopticon_channels::ChannelId;
use serde::Deserialize;

use super::band::{Band, RawBand};
use super::error::SensorError;

/// A sensor (satellite instrument, airborne spectrometer or camera) and its bands.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    /// Registry name (`"sentinel2_l2a"`).
    pub name: String,
    /// Other names that resolve to this sensor (upstream's satellite name among them).
    pub aliases: Vec<String>,
    /// One-line description.
    pub description: String,
    /// Name of the upstream satellite table the values come from (`"sentinel2"`).
    pub upstream: String,
    /// Instrument, when upstream records one.
    pub instrument: Option<String>,
    /// Processing level, when upstream records one (`"L1C"`, `"L2A"`, `"SR"`).
    pub processing_level: Option<String>,
    /// Where upstream took the band table from, when it says.
    pub source: Option<String>,
    /// Sensor-wide ground sample distance in metres (hyperspectral sensors give one).
    pub gsd: Option<f64>,
    /// Bands in table order.
    pub bands: Vec<Band>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSensor {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    description: String,
    upstream: String,
    instrument: Option<String>,
    processing_level: Option<String>,
    source: Option<String>,
    gsd: Option<f64>,
    bands: Vec<RawBand>,
}

impl Sensor {
    /// Parses and validates one sensor TOML; `file` only labels error messages.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, SensorError> {
        let raw: RawSensor = toml::from_str(text).map_err(|e| SensorError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |message: String| SensorError::Invalid {
            file: file.to_string(),
            message,
        };
        if raw.bands.is_empty() {
            return Err(invalid(format!("sensor `{}` has no bands", raw.name)));
        }
        let mut seen = HashSet::new();
        let mut bands = Vec::with_capacity(raw.bands.len());
        for rb in raw.bands {
            let band = rb.validate().map_err(invalid)?;
            if !seen.insert(band.key.clone()) {
                return Err(invalid(format!("band key `{}` appears twice", band.key)));
            }
            bands.push(band);
        }
        Ok(Self {
            name: raw.name,
            aliases: raw.aliases,
            description: raw.description,
            upstream: raw.upstream,
            instrument: raw.instrument,
            processing_level: raw.processing_level,
            source: raw.source,
            gsd: raw.gsd,
            bands,
        })
    }

    /// The band with this key, or else the one band with this STAC/EO common name
    /// (`"red"`, `"nir08"`); a common name several bands share (`"rededge"`) is refused.
    pub fn band(&self, key: &str) -> Result<&Band, SensorError> {
        if let Some(b) = self.bands.iter().find(|b| b.key == key) {
            return Ok(b);
        }
        let common: Vec<&Band> = self
            .bands
            .iter()
            .filter(|b| b.common_name.as_deref() == Some(key))
            .collect();
        match common.as_slice() {
            [one] => Ok(one),
            [] => Err(SensorError::UnknownBand {
                sensor: self.name.clone(),
                band: key.to_string(),
                valid: self.band_keys().map(str::to_string).collect(),
            }),
            many => Err(SensorError::AmbiguousBand {
                sensor: self.name.clone(),
                name: key.to_string(),
                keys: many.iter().map(|b| b.key.clone()).collect(),
            }),
        }
    }

    /// Band keys in table order.
    pub fn band_keys(&self) -> impl Iterator<Item = &str> {
        self.bands.iter().map(|b| b.key.as_str())
    }

    /// Typed channel ids of the given bands, in the given order.
    pub fn channel_ids(&self, keys: &[&str]) -> Result<Vec<ChannelId>, SensorError> {
        keys.iter().map(|k| Ok(self.band(k)?.channel_id)).collect()
    }

    /// Upstream int16 chn_ids of the given bands, in the given order (`int16(mu)`, truncated).
    ///
    /// Order is the caller's: upstream never reorders, so pass the bands in the order the
    /// image stores them (e.g. `["B04", "B03", "B02"]` for an RGB composite).
    pub fn chn_ids(&self, keys: &[&str]) -> Result<Vec<i16>, SensorError> {
        keys.iter().map(|k| Ok(self.band(k)?.chn_id())).collect()
    }

    /// [`Self::chn_ids`] as `f32`, ready for the model's `chn_ids` tensor.
    pub fn chn_ids_f32(&self, keys: &[&str]) -> Result<Vec<f32>, SensorError> {
        keys.iter()
            .map(|k| Ok(self.band(k)?.channel_id.to_f32()))
            .collect()
    }

    /// `full_spectra` id pairs `[int16(mu), int16(sigma)]` of the given bands (spec §5.1).
    pub fn full_spectra_ids(&self, keys: &[&str]) -> Result<Vec<[i16; 2]>, SensorError> {
        keys.iter()
            .map(|k| Ok(self.band(k)?.full_spectra_id()))
            .collect()
    }

    /// The band's own GSD, else the sensor-wide one.
    pub fn gsd_of(&self, band: &Band) -> Option<f64> {
        band.gsd.or(self.gsd)
    }
}
