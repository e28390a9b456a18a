//! STAC Items and ItemCollections / FeatureCollections, read with the `stac` crate.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::StacError;

/// One STAC item: where it was read from (relative hrefs resolve against it) and the item as
/// the `stac` crate types it (properties, assets with their `bands` and extension fields).
#[derive(Debug, Clone)]
pub struct StacItem {
    /// The item id.
    pub id: String,
    /// The file path or URL the item was read from.
    pub location: String,
    /// The collection id, when given.
    pub collection: Option<String>,
    /// The typed item.
    pub item: stac::Item,
    /// Asset-level or first-band `nodata` written as a string (`"nan"`, `"inf"`, `"-inf"`, as
    /// the raster extension allows), by asset key: `stac::Asset::nodata` only holds numbers.
    text_nodata: BTreeMap<String, f64>,
}

impl StacItem {
    /// The `nodata` an asset writes as a string (`"inf"`), which `stac::Asset` cannot hold.
    pub fn text_nodata(&self, asset: &str) -> Option<f64> {
        self.text_nodata.get(asset).copied()
    }
}

/// The items of a STAC Item (one) or ItemCollection / FeatureCollection (each feature) read
/// from `location`, STAC 1.0 and 1.1 alike.
pub fn parse_items(text: &str, location: &str) -> Result<Vec<StacItem>, StacError> {
    let not_stac = |what: String| StacError::NotStac {
        location: location.to_string(),
        what,
    };
    let mut doc: Value = serde_json::from_str(text).map_err(|e| StacError::Json {
        location: location.to_string(),
        message: e.to_string(),
    })?;
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or("");
    let single = match kind {
        "Feature" => true,
        "FeatureCollection" => false,
        "" => {
            return Err(not_stac(
                "no `type` (expected \"Feature\" or \"FeatureCollection\")".into(),
            ));
        }
        other => {
            return Err(not_stac(format!(
                "`type` is \"{other}\" (expected \"Feature\" or \"FeatureCollection\"; catalogs \
                 and collections list items, pass an item)"
            )));
        }
    };
    // What the typed reader would refuse with a less helpful message, checked first; string
    // nodata moved aside.
    let mut text_nodata = Vec::new();
    {
        let features: Vec<&mut Value> = if single {
            vec![&mut doc]
        } else {
            doc.get_mut("features")
                .and_then(Value::as_array_mut)
                .ok_or_else(|| not_stac("a FeatureCollection without a `features` array".into()))?
                .iter_mut()
                .collect()
        };
        if features.is_empty() {
            return Err(not_stac("the collection has no items".into()));
        }
        for (i, f) in features.into_iter().enumerate() {
            let at = |what: &str| not_stac(format!("feature {i}: {what}"));
            let id = f
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| at("no string `id`"))?
                .to_string();
            match f.get("properties") {
                None | Some(Value::Null | Value::Object(_)) => {}
                Some(_) => return Err(at(&format!("item `{id}`: `properties` is not an object"))),
            }
            let assets = f
                .get_mut("assets")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| at(&format!("item `{id}` has no `assets` object")))?;
            text_nodata.push(take_text_nodata(assets));
        }
    }
    let items = if single {
        vec![serde_json::from_value::<stac::Item>(doc).map_err(|e| not_stac(e.to_string()))?]
    } else {
        collection(doc, location)?.items
    };
    Ok(items
        .into_iter()
        .zip(text_nodata)
        .map(|(item, text_nodata)| StacItem {
            id: item.id.clone(),
            location: location.to_string(),
            collection: item.collection.clone(),
            item,
            text_nodata,
        })
        .collect())
}

/// `doc` as a `stac::ItemCollection`; a refusal names the feature at fault.
fn collection(doc: Value, location: &str) -> Result<stac::ItemCollection, StacError> {
    let features = doc.get("features").cloned();
    serde_json::from_value(doc).map_err(|e| {
        let at = features.as_ref().and_then(Value::as_array).and_then(|fs| {
            fs.iter()
                .position(|f| serde_json::from_value::<stac::Item>(f.clone()).is_err())
        });
        StacError::NotStac {
            location: location.to_string(),
            what: match at {
                Some(i) => format!("feature {i}: {e}"),
                None => e.to_string(),
            },
        }
    })
}

/// Moves string `nodata` (asset level, or in the first of the STAC 1.1 `bands`) out of
/// `assets`, which `stac::Asset` / `stac::Band` type as numbers only.
fn take_text_nodata(assets: &mut Map<String, Value>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (key, asset) in assets.iter_mut() {
        let Some(asset) = asset.as_object_mut() else {
            continue;
        };
        let mut found = take_string(asset, "nodata");
        if let Some(bands) = asset.get_mut("bands").and_then(Value::as_array_mut) {
            for (i, band) in bands.iter_mut().enumerate() {
                if let Some(v) = band.as_object_mut().and_then(|b| take_string(b, "nodata"))
                    && i == 0
                {
                    found = found.or(Some(v));
                }
            }
        }
        if let Some(v) = found {
            out.insert(key.clone(), v);
        }
    }
    out
}

fn take_string(object: &mut Map<String, Value>, key: &str) -> Option<f64> {
    let text = object.get(key)?.as_str()?.to_ascii_lowercase();
    object.remove(key);
    match text.as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}
