//! STAC Items and ItemCollections / FeatureCollections as parsed JSON.

use serde_json::{Map, Value};

use super::error::StacError;

/// One STAC item: its id, where it was read from (relative hrefs resolve against it), its
/// properties and its assets.
#[derive(Debug, Clone)]
pub struct StacItem {
    /// The item id.
    pub id: String,
    /// The file path or URL the item was read from.
    pub location: String,
    /// The collection id, when given.
    pub collection: Option<String>,
    /// `properties`.
    pub properties: Map<String, Value>,
    /// `assets` by key.
    pub assets: Map<String, Value>,
}

/// The items of a STAC Item (one) or ItemCollection / FeatureCollection (each feature) read
/// from `location`.
pub fn parse_items(text: &str, location: &str) -> Result<Vec<StacItem>, StacError> {
    let not_stac = |what: String| StacError::NotStac {
        location: location.to_string(),
        what,
    };
    let doc: Value = serde_json::from_str(text).map_err(|e| StacError::Json {
        location: location.to_string(),
        message: e.to_string(),
    })?;
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or("");
    let features: Vec<&Value> = match kind {
        "Feature" => vec![&doc],
        "FeatureCollection" => doc
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| not_stac("a FeatureCollection without a `features` array".into()))?
            .iter()
            .collect(),
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
    if features.is_empty() {
        return Err(not_stac("the collection has no items".into()));
    }
    features
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let at = |what: &str| not_stac(format!("feature {i}: {what}"));
            let id = f
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| at("no string `id`"))?
                .to_string();
            let assets = f
                .get("assets")
                .and_then(Value::as_object)
                .ok_or_else(|| at(&format!("item `{id}` has no `assets` object")))?
                .clone();
            let properties = match f.get("properties") {
                Some(Value::Object(p)) => p.clone(),
                None | Some(Value::Null) => Map::new(),
                Some(_) => return Err(at(&format!("item `{id}`: `properties` is not an object"))),
            };
            Ok(StacItem {
                collection: f
                    .get("collection")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                id,
                location: location.to_string(),
                properties,
                assets,
            })
        })
        .collect()
}
