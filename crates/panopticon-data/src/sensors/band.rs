//! One spectral band of a sensor, as listed in `configs/sensors/<sensor>.toml`.

use panopticon_channels::{ChannelId, Orbit, Polarisation, WAVELENGTH_LIMIT_NM};
use serde::Deserialize;

/// One band of a sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Band key as upstream writes it (`"B04"`, `"B8A"`, `"red"`).
    pub key: String,
    /// Human-readable name (`"Red"`), when the table gives one.
    pub name: Option<String>,
    /// STAC/EO common name (`"red"`, `"nir08"`, `"swir16"`), when the band has one.
    pub common_name: Option<String>,
    /// Gaussian spectral-response mean: the centre wavelength in nm, or the SAR id −1 … −12.
    pub mu: f64,
    /// Gaussian spectral-response standard deviation in nm (−1 for SAR).
    pub sigma: f64,
    /// Ground sample distance in metres, when the table gives one per band.
    pub gsd: Option<f64>,
    /// Native image size in pixels, when the table gives one (Landsat B01–B03: 256).
    pub img_size: Option<u32>,
    /// What the model sees for this band.
    pub channel_id: ChannelId,
}

impl Band {
    /// The int16 chn_id upstream feeds the model (see [`ChannelId::to_i16`] for the truncation).
    pub fn chn_id(&self) -> i16 {
        self.channel_id.to_i16()
    }

    /// The `full_spectra` id pair upstream uses in its appendix variant: `[int16(mu),
    /// int16(sigma)]`, both truncated toward zero (SAR: `[id, -1]`).
    pub fn full_spectra_id(&self) -> [i16; 2] {
        // sigma is validated to lie in (0, 32768) for optical bands and is -1 for SAR.
        [self.chn_id(), self.sigma.trunc() as i16]
    }

    /// Centre wavelength in nm of an optical band (`None` for SAR).
    pub fn wavelength_nm(&self) -> Option<f64> {
        match self.channel_id {
            ChannelId::Optical { wavelength_nm } => Some(wavelength_nm),
            ChannelId::Sar { .. } => None,
        }
    }
}

/// A band row exactly as written in the TOML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBand {
    key: String,
    name: Option<String>,
    common_name: Option<String>,
    mu: f64,
    sigma: f64,
    gsd: Option<f64>,
    img_size: Option<u32>,
    /// Upstream's `p: 2` on Sentinel-2 B10; informational only, never used by upstream code.
    #[allow(dead_code)]
    p: Option<u32>,
    polarisation: Option<String>,
    orbit: Option<String>,
}

impl RawBand {
    /// Checks the row and derives its [`ChannelId`]; `Err` is a message for `SensorError::Invalid`.
    pub(crate) fn validate(self) -> Result<Band, String> {
        let key = &self.key;
        if !self.mu.is_finite() || !self.sigma.is_finite() {
            return Err(format!("band `{key}`: mu and sigma must be finite"));
        }
        if let Some(gsd) = self.gsd
            && !(gsd.is_finite() && gsd > 0.0)
        {
            return Err(format!(
                "band `{key}`: gsd must be a positive number of metres"
            ));
        }
        let channel_id = if self.mu < 0.0 {
            self.sar_channel()?
        } else {
            if self.polarisation.is_some() || self.orbit.is_some() {
                return Err(format!(
                    "band `{key}`: polarisation/orbit are only for SAR bands (negative mu)"
                ));
            }
            // `ChannelId::optical` keeps int16(mu) from wrapping (mu < 32768); a band table
            // also needs a positive mu and a sigma int16 can hold (`full_spectra_id`).
            let optical = ChannelId::optical(self.mu).ok().filter(|_| self.mu > 0.0);
            let sigma_ok = self.sigma > 0.0 && self.sigma < WAVELENGTH_LIMIT_NM;
            let (Some(channel_id), true) = (optical, sigma_ok) else {
                return Err(format!(
                    "band `{key}`: optical bands need 0 < mu < 32768 nm and 0 < sigma < 32768 \
                     nm, got mu {} and sigma {}",
                    self.mu, self.sigma
                ));
            };
            channel_id
        };
        Ok(Band {
            key: self.key,
            name: self.name,
            common_name: self.common_name,
            mu: self.mu,
            sigma: self.sigma,
            gsd: self.gsd,
            img_size: self.img_size,
            channel_id,
        })
    }

    /// A SAR row must spell out polarisation and orbit, and they must agree with `mu`.
    fn sar_channel(&self) -> Result<ChannelId, String> {
        let key = &self.key;
        let (Some(pol), Some(orbit)) = (&self.polarisation, &self.orbit) else {
            return Err(format!(
                "band `{key}`: SAR bands (negative mu) need `polarisation` (VV/VH/HH/HV) and \
                 `orbit` (both/ascending/descending)"
            ));
        };
        let polarisation = Polarisation::parse(pol).ok_or_else(|| {
            format!("band `{key}`: unknown polarisation `{pol}`, use VV/VH/HH/HV")
        })?;
        let orbit = Orbit::parse(orbit).ok_or_else(|| {
            format!("band `{key}`: unknown orbit `{orbit}`, use both/ascending/descending")
        })?;
        if self.sigma != -1.0 {
            return Err(format!(
                "band `{key}`: SAR bands have sigma -1 (as upstream), got {}",
                self.sigma
            ));
        }
        let id = ChannelId::sar_id(polarisation, orbit);
        if self.mu != f64::from(id) {
            return Err(format!(
                "band `{key}`: SAR {pol} on {} orbit has id {id}, but mu is {}",
                orbit.as_str(),
                self.mu
            ));
        }
        Ok(ChannelId::Sar {
            polarisation,
            orbit,
        })
    }
}
