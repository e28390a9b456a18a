//! Which assets of an item are bands, and what channel each one is.

use serde_json::Value;

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
    let orbit = match item
        .properties
        .get("sat:orbit_state")
        .and_then(Value::as_str)
    {
        Some(o) if o.eq_ignore_ascii_case("ascending") => Orbit::Ascending,
        Some(o) if o.eq_ignore_ascii_case("descending") => Orbit::Descending,
        _ => Orbit::Both,
    };
    let item_pols = string_list(item.properties.get("sar:polarizations"));
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
                    .assets
                    .get(key)
                    .ok_or_else(|| StacError::UnknownAsset {
                        item: item.id.clone(),
                        asset: key.clone(),
                        available: item.assets.keys().cloned().collect(),
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
                bands.push(band(item, key, asset, id)?);
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
            for (key, asset) in &item.assets {
                if !is_data_raster(asset) {
                    continue;
                }
                raster_assets.push(key.clone());
                if band_count(asset) > 1 {
                    continue;
                }
                if let Some(id) = place(key, asset, sensor, orbit, &item_pols) {
                    bands.push(band(item, key, asset, id)?);
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
        item.properties
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
    asset: &Value,
    sensor: Option<&Sensor>,
    orbit: Orbit,
    item_pols: &[String],
) -> Option<f32> {
    // SAR: the asset's own polarisation, or its key (`vv`) among the item's.
    let pols = string_list(asset.get("sar:polarizations"));
    let pol = match pols.as_slice() {
        [one] => Some(one.clone()),
        [] if item_pols.iter().any(|p| p.eq_ignore_ascii_case(key)) => Some(key.to_string()),
        _ => None,
    };
    if let Some(p) = pol.as_deref().and_then(Polarisation::parse) {
        return Some(f32::from(ChannelId::sar_id(p, orbit)));
    }
    let eo = first_band(asset);
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| eo.and_then(|b| b.get(*n)).and_then(Value::as_str))
    };
    if let Some(sensor) = sensor {
        let names = [
            Some(key),
            field(&["name"]),
            field(&["common_name", "eo:common_name"]),
        ];
        if let Some(b) = names
            .into_iter()
            .flatten()
            .find_map(|n| sensor.band(n).ok())
        {
            return Some(b.channel_id.to_f32());
        }
    }
    let um = eo.and_then(|b| {
        b.get("center_wavelength")
            .or_else(|| b.get("eo:center_wavelength"))
            .and_then(Value::as_f64)
    })?;
    (um.is_finite() && um > 0.0).then_some((um * 1000.0) as f32)
}

fn band(item: &StacItem, key: &str, asset: &Value, channel_id: f32) -> Result<StacBand, StacError> {
    let bad = |reason: String| StacError::BadHref {
        item: item.id.clone(),
        asset: key.to_string(),
        reason,
    };
    let href = asset
        .get("href")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("it has no href".into()))?;
    let href = resolve_href(&item.location, href).map_err(bad)?;
    // STAC 1.0: raster:bands[0].{scale, offset, nodata}; 1.1: bands[0].{raster:scale, …} or
    // the same fields on the asset itself.
    let raster = asset
        .get("raster:bands")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let bands11 = asset
        .get("bands")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let lookup = |names: &[&str]| {
        [raster, bands11, Some(asset)]
            .into_iter()
            .flatten()
            .find_map(|o| names.iter().find_map(|n| o.get(*n)))
    };
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
    Ok(StacBand {
        asset: key.to_string(),
        href,
        channel_id,
        scale: lookup(&["scale", "raster:scale"])
            .and_then(number)
            .unwrap_or(1.0),
        offset: lookup(&["offset", "raster:offset"])
            .and_then(number)
            .unwrap_or(0.0),
        nodata: lookup(&["nodata"]).and_then(number).filter(|v| !v.is_nan()),
    })
}

/// A GeoTIFF-ish asset holding data (not a thumbnail, overview or metadata file).
fn is_data_raster(asset: &Value) -> bool {
    let media = asset.get("type").and_then(Value::as_str).unwrap_or("");
    let href = asset.get("href").and_then(Value::as_str).unwrap_or("");
    let lower = href.to_ascii_lowercase();
    let tiff = media.contains("tiff")
        || (media.is_empty() && (lower.ends_with(".tif") || lower.ends_with(".tiff")));
    let roles = string_list(asset.get("roles"));
    let preview = roles
        .iter()
        .any(|r| matches!(r.as_str(), "thumbnail" | "overview" | "visual" | "metadata"));
    tiff && !preview
}

/// How many bands the asset's metadata lists (1 when it lists none).
fn band_count(asset: &Value) -> usize {
    ["eo:bands", "raster:bands", "bands"]
        .iter()
        .filter_map(|k| asset.get(*k).and_then(Value::as_array).map(Vec::len))
        .max()
        .unwrap_or(1)
}

fn first_band(asset: &Value) -> Option<&Value> {
    ["eo:bands", "bands"].iter().find_map(|k| {
        asset
            .get(*k)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
    })
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
