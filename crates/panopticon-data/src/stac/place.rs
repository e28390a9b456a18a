//! Which assets of an item are bands, and what channel each one is.

use serde_json::{Map, Value};
use stac::Asset;

use super::error::StacError;
use super::href::resolve_href;
use super::item::StacItem;
use crate::sensors::{ChannelId, Orbit, Polarisation, Sensor, SensorRegistry};

/// One band of a STAC scene: the asset it comes from and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct StacBand {
    /// Asset key (`red`, `B04`, `vv`).
    pub asset: String,
    /// The asset href, resolved against the item's location.
    pub href: String,
    /// Channel id the model sees (nm for optical, negative for SAR).
    pub channel_id: f32,
    /// `raster:bands` scale (1 when absent).
    pub scale: f64,
    /// `raster:bands` offset (0 when absent).
    pub offset: f64,
    /// `raster:bands` nodata, when given.
    pub nodata: Option<f64>,
}

/// An item as a scene: its id and its bands in order.
#[derive(Debug, Clone, PartialEq)]
pub struct StacScene {
    /// The item id.
    pub id: String,
    /// The bands.
    pub bands: Vec<StacBand>,
}

/// Which assets to use and, optionally, what they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssetChoice<'a> {
    /// Asset keys in band order (`None`: every single-band raster asset that can be placed,
    /// ordered by channel id: optical by wavelength, then SAR).
    pub assets: Option<&'a [String]>,
    /// Channel ids of `assets`, overriding the item's metadata (needs `assets`).
    pub channel_ids: Option<&'a [f32]>,
    /// Sensor whose band table places the assets, overriding the one the item names.
    pub sensor: Option<&'a Sensor>,
    /// Read each asset from its alternate location of this name when it lists one (the STAC
    /// alternate-assets extension: `asset.alternate.s3.href`), else from its `href`.
    pub alternate: Option<&'a str>,
}

/// The scene of `item`: chosen assets, their channel ids (the sensor registry when the item
/// names a known sensor or `choice.sensor` is given, else `eo:bands`/`bands`
/// `center_wavelength` µm → nm, `sar:polarizations` + `sat:orbit_state` for SAR),
/// `raster:bands` scale/offset/nodata, and hrefs resolved against the item's location.
pub fn scene_from_item(
    item: &StacItem,
    registry: &SensorRegistry,
    choice: AssetChoice<'_>,
) -> Result<StacScene, StacError> {
    let sensor = choice.sensor.or_else(|| item_sensor(item, registry));
    let props = &item.item.properties.additional_fields;
    let orbit = match props.get("sat:orbit_state").and_then(Value::as_str) {
        Some(o) if o.eq_ignore_ascii_case("ascending") => Orbit::Ascending,
        Some(o) if o.eq_ignore_ascii_case("descending") => Orbit::Descending,
        _ => Orbit::Both,
    };
    let item_pols = string_list(props.get("sar:polarizations"));
    let mut bands = Vec::new();
    match choice.assets {
        Some(keys) => {
            if let Some(ids) = choice.channel_ids
                && ids.len() != keys.len()
            {
                return Err(StacError::ChannelCount {
                    item: item.id.clone(),
                    assets: keys.len(),
                    ids: ids.len(),
                });
            }
            for (i, key) in keys.iter().enumerate() {
                let asset = item
                    .item
                    .assets
                    .get(key)
                    .ok_or_else(|| StacError::UnknownAsset {
                        item: item.id.clone(),
                        asset: key.clone(),
                        available: item.item.assets.keys().cloned().collect(),
                    })?;
                let n = band_count(asset);
                if n > 1 {
                    return Err(StacError::MultiBandAsset {
                        item: item.id.clone(),
                        asset: key.clone(),
                        bands: n,
                    });
                }
                let id = match choice.channel_ids {
                    Some(ids) => Some(ids[i]),
                    None => place(key, asset, sensor, orbit, &item_pols),
                };
                let id = id.ok_or_else(|| StacError::Unplaceable {
                    item: item.id.clone(),
                    asset: key.clone(),
                })?;
                bands.push(band(item, key, asset, id, choice.alternate)?);
            }
        }
        None => {
            if choice.channel_ids.is_some() {
                return Err(StacError::ChannelCount {
                    item: item.id.clone(),
                    assets: 0,
                    ids: choice.channel_ids.map_or(0, <[f32]>::len),
                });
            }
            let mut raster_assets = Vec::new();
            for (key, asset) in &item.item.assets {
                if !is_data_raster(asset) {
                    continue;
                }
                raster_assets.push(key.clone());
                if band_count(asset) > 1 {
                    continue;
                }
                if let Some(id) = place(key, asset, sensor, orbit, &item_pols) {
                    bands.push(band(item, key, asset, id, choice.alternate)?);
                }
            }
            if bands.is_empty() {
                return Err(StacError::NoPlaceableBands {
                    item: item.id.clone(),
                    raster_assets,
                });
            }
            // Optical by wavelength, then SAR (ids -1, -2, … in registry order).
            bands.sort_by(|a, b| {
                let key = |c: f32| if c < 0.0 { (1, -c) } else { (0, c) };
                key(a.channel_id)
                    .partial_cmp(&key(b.channel_id))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        }
    }
    Ok(StacScene {
        id: item.id.clone(),
        bands,
    })
}

/// The registry sensor `constellation` / `platform` name (`sentinel-2a`, `landsat-9`).
fn item_sensor<'r>(item: &StacItem, registry: &'r SensorRegistry) -> Option<&'r Sensor> {
    let norm = |k: &str| {
        item.item
            .properties
            .additional_fields
            .get(k)
            .and_then(Value::as_str)
            .map(|s| s.to_ascii_lowercase().replace(['_', ' '], "-"))
    };
    let level_1c = item
        .collection
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("l1c"));
    let name = [norm("constellation"), norm("platform")]
        .into_iter()
        .flatten()
        .find_map(|p| {
            if p.starts_with("sentinel-2") {
                Some(if level_1c {
                    "sentinel2_l1c"
                } else {
                    "sentinel2_l2a"
                })
            } else if p.starts_with("landsat-8") || p.starts_with("landsat-9") {
                Some("landsat8_9")
            } else {
                None
            }
        })?;
    registry.sensor(name).ok()
}

/// The asset's channel id, if its metadata says what it is.
fn place(
    key: &str,
    asset: &Asset,
    sensor: Option<&Sensor>,
    orbit: Orbit,
    item_pols: &[String],
) -> Option<f32> {
    // SAR: the asset's own polarisation, or its key (`vv`) among the item's.
    let pols = string_list(asset.additional_fields.get("sar:polarizations"));
    let pol = match pols.as_slice() {
        [one] => Some(one.clone()),
        [] if item_pols.iter().any(|p| p.eq_ignore_ascii_case(key)) => Some(key.to_string()),
        _ => None,
    };
    if let Some(p) = pol.as_deref().and_then(Polarisation::parse) {
        return Some(f32::from(ChannelId::sar_id(p, orbit)));
    }
    let meta = BandMeta::of(asset);
    if let Some(sensor) = sensor {
        let numbered = meta.name().and_then(numbered_band_key);
        let names = [
            Some(key),
            meta.name(),
            numbered.as_deref(),
            meta.eo_str("common_name")
                .or(meta.field_str("eo:common_name")),
        ];
        if let Some(b) = names
            .into_iter()
            .flatten()
            .find_map(|n| sensor.band(n).ok())
        {
            return Some(b.channel_id.to_f32());
        }
    }
    let um = meta
        .eo("center_wavelength")
        .or_else(|| meta.field("eo:center_wavelength"))
        .and_then(Value::as_f64)?;
    (um.is_finite() && um > 0.0).then_some((um * 1000.0) as f32)
}

fn band(
    item: &StacItem,
    key: &str,
    asset: &Asset,
    channel_id: f32,
    alternate: Option<&str>,
) -> Result<StacBand, StacError> {
    let bad = |reason: String| StacError::BadHref {
        item: item.id.clone(),
        asset: key.to_string(),
        reason,
    };
    let href = alternate
        .and_then(|name| alternate_href(asset, name))
        .unwrap_or(&asset.href);
    if href.trim().is_empty() {
        return Err(bad("it has no href".into()));
    }
    let href = resolve_href(&item.location, href).map_err(bad)?;
    let meta = BandMeta::of(asset);
    let number = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "nan" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    };
    let scaled = |name: &str| {
        meta.raster(name)
            .or_else(|| meta.field(&format!("raster:{name}")))
            .and_then(number)
    };
    let nodata = meta
        .raster("nodata")
        .and_then(number)
        .or(meta.band.and_then(|b| b.nodata))
        .or(asset.nodata)
        .or_else(|| item.text_nodata(key));
    Ok(StacBand {
        asset: key.to_string(),
        href,
        channel_id,
        scale: scaled("scale").unwrap_or(1.0),
        offset: scaled("offset").unwrap_or(0.0),
        nodata: nodata.filter(|v| !v.is_nan()),
    })
}

/// `asset.alternate[name].href` (the alternate-assets extension), when the asset lists it.
fn alternate_href<'a>(asset: &'a Asset, name: &str) -> Option<&'a str> {
    asset
        .additional_fields
        .get("alternate")?
        .get(name)?
        .get("href")?
        .as_str()
}

/// The first band's metadata of a single-band asset, wherever the item's STAC version puts
/// it: 1.0 `eo:bands[0]` / `raster:bands[0]`; 1.1 `bands[0]` with `eo:` / `raster:` prefixed
/// fields, or those fields on the asset itself.
struct BandMeta<'a> {
    asset: &'a Asset,
    eo: Option<&'a Map<String, Value>>,
    raster: Option<&'a Map<String, Value>>,
    band: Option<&'a stac::Band>,
}

impl<'a> BandMeta<'a> {
    fn of(asset: &'a Asset) -> Self {
        let first = |k: &str| {
            asset
                .additional_fields
                .get(k)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_object)
        };
        Self {
            asset,
            eo: first("eo:bands"),
            raster: first("raster:bands"),
            band: asset.bands.first(),
        }
    }

    /// A STAC 1.0 `eo:bands[0]` field.
    fn eo(&self, name: &str) -> Option<&'a Value> {
        self.eo.and_then(|b| b.get(name))
    }

    fn eo_str(&self, name: &str) -> Option<&'a str> {
        self.eo(name).and_then(Value::as_str)
    }

    /// A STAC 1.0 `raster:bands[0]` field.
    fn raster(&self, name: &str) -> Option<&'a Value> {
        self.raster.and_then(|b| b.get(name))
    }

    /// A STAC 1.1 prefixed field (`eo:center_wavelength`) of `bands[0]`, else of the asset.
    fn field(&self, name: &str) -> Option<&'a Value> {
        self.band
            .and_then(|b| b.additional_fields.get(name))
            .or_else(|| self.asset.additional_fields.get(name))
    }

    fn field_str(&self, name: &str) -> Option<&'a str> {
        self.field(name).and_then(Value::as_str)
    }

    /// The band name: `eo:bands[0].name` (1.0) or `bands[0].name` (1.1).
    fn name(&self) -> Option<&'a str> {
        self.eo_str("name")
            .or_else(|| self.band.and_then(|b| b.name.as_deref()))
    }
}

/// A GeoTIFF-ish asset holding data (not a thumbnail, overview or metadata file).
fn is_data_raster(asset: &Asset) -> bool {
    let media = asset.r#type.as_deref().unwrap_or("");
    let lower = asset.href.to_ascii_lowercase();
    let tiff = media.contains("tiff")
        || (media.is_empty() && (lower.ends_with(".tif") || lower.ends_with(".tiff")));
    let preview = asset
        .roles
        .iter()
        .any(|r| matches!(r.as_str(), "thumbnail" | "overview" | "visual" | "metadata"));
    tiff && !preview
}

/// How many bands the asset's metadata lists (1 when it lists none).
fn band_count(asset: &Asset) -> usize {
    ["eo:bands", "raster:bands"]
        .iter()
        .filter_map(|k| {
            asset
                .additional_fields
                .get(*k)
                .and_then(Value::as_array)
                .map(Vec::len)
        })
        .chain(std::iter::once(asset.bands.len()))
        .max()
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

/// The registry key of a band name that numbers the band after a product prefix, as USGS
/// and Planetary Computer name Landsat bands (`OLI_B4`, `SR_B4`, `TIRS_B10` → `B04`, `B10`).
fn numbered_band_key(name: &str) -> Option<String> {
    let (_, tail) = name.rsplit_once('_')?;
    let digits = tail.strip_prefix(['B', 'b'])?;
    let n: u32 = digits.parse().ok()?;
    Some(format!("B{n:02}"))
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::numbered_band_key;

    #[test]
    fn landsat_product_band_names_number_the_registry_band() {
        assert_eq!(numbered_band_key("OLI_B4").as_deref(), Some("B04"));
        assert_eq!(numbered_band_key("SR_B4").as_deref(), Some("B04"));
        assert_eq!(numbered_band_key("TIRS_B10").as_deref(), Some("B10"));
        assert_eq!(numbered_band_key("B04"), None);
        assert_eq!(numbered_band_key("QA_PIXEL"), None);
    }
}
