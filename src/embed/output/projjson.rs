//! PROJJSON of the CRSs Earth-observation scenes come in, built without PROJ: WGS 84
//! (EPSG:4326), Web Mercator (EPSG:3857) and the 120 WGS 84 / UTM zones (EPSG:326xx north,
//! 327xx south). The objects equal what PROJ 9 writes for these codes, less the informational
//! `scope`/`area`/`bbox` (checked against pyproj in `tests/fixtures/projjson/`).

use serde_json::{Value, json};

const SCHEMA: &str = "https://proj.org/schemas/v0.7/projjson.schema.json";

fn id(code: u32) -> Value {
    json!({"authority": "EPSG", "code": code})
}

/// The WGS 84 geographic CRS (EPSG:4326) without `$schema`, as a `base_crs`.
fn wgs84() -> Value {
    let members = [
        ("Transit", 1166),
        ("G730", 1152),
        ("G873", 1153),
        ("G1150", 1154),
        ("G1674", 1155),
        ("G1762", 1156),
        ("G2139", 1309),
        ("G2296", 1383),
    ]
    .map(|(n, c)| json!({"name": format!("World Geodetic System 1984 ({n})"), "id": id(c)}));
    json!({
        "name": "WGS 84",
        "datum_ensemble": {
            "name": "World Geodetic System 1984 ensemble",
            "members": members,
            "ellipsoid": {
                "name": "WGS 84",
                "semi_major_axis": 6378137,
                "inverse_flattening": 298.257223563
            },
            "accuracy": "2.0",
            "id": id(6326)
        },
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                {"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north",
                 "unit": "degree"},
                {"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east",
                 "unit": "degree"}
            ]
        },
        "id": id(4326)
    })
}

fn parameter(name: &str, value: Value, unit: &str, code: u32) -> Value {
    json!({"name": name, "value": value, "unit": unit, "id": id(code)})
}

fn projected(name: String, conversion: Value, axes: (&str, &str), code: u32) -> Value {
    json!({
        "$schema": SCHEMA,
        "type": "ProjectedCRS",
        "name": name,
        "base_crs": wgs84(),
        "conversion": conversion,
        "coordinate_system": {
            "subtype": "Cartesian",
            "axis": [
                {"name": "Easting", "abbreviation": axes.0, "direction": "east", "unit": "metre"},
                {"name": "Northing", "abbreviation": axes.1, "direction": "north",
                 "unit": "metre"}
            ]
        },
        "id": id(code)
    })
}

/// The PROJJSON of EPSG `code`, or `None` for codes outside the built-in set.
pub fn projjson(code: u32) -> Option<Value> {
    match code {
        4326 => {
            let mut crs = wgs84();
            let obj = crs.as_object_mut()?;
            let mut out = serde_json::Map::new();
            out.insert("$schema".into(), SCHEMA.into());
            out.insert("type".into(), "GeographicCRS".into());
            out.extend(std::mem::take(obj));
            Some(Value::Object(out))
        }
        3857 => {
            let conversion = json!({
                "name": "Popular Visualisation Pseudo-Mercator",
                "method": {"name": "Popular Visualisation Pseudo Mercator", "id": id(1024)},
                "parameters": [
                    parameter("Latitude of natural origin", json!(0), "degree", 8801),
                    parameter("Longitude of natural origin", json!(0), "degree", 8802),
                    parameter("False easting", json!(0), "metre", 8806),
                    parameter("False northing", json!(0), "metre", 8807),
                ]
            });
            Some(projected(
                "WGS 84 / Pseudo-Mercator".into(),
                conversion,
                ("X", "Y"),
                code,
            ))
        }
        32601..=32660 | 32701..=32760 => {
            let zone = code % 100;
            let (hemi, false_northing) = if code < 32700 {
                ("N", 0)
            } else {
                ("S", 10_000_000)
            };
            let central = zone as i64 * 6 - 183;
            let conversion = json!({
                "name": format!("UTM zone {zone}{hemi}"),
                "method": {"name": "Transverse Mercator", "id": id(9807)},
                "parameters": [
                    parameter("Latitude of natural origin", json!(0), "degree", 8801),
                    parameter("Longitude of natural origin", json!(central), "degree", 8802),
                    parameter("Scale factor at natural origin", json!(0.9996), "unity", 8805),
                    parameter("False easting", json!(500000), "metre", 8806),
                    parameter("False northing", json!(false_northing), "metre", 8807),
                ]
            });
            Some(projected(
                format!("WGS 84 / UTM zone {zone}{hemi}"),
                conversion,
                ("E", "N"),
                code,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pyproj's PROJJSON (scripts/gen_projjson_fixtures.py), less scope/area/bbox.
    #[test]
    fn equals_proj_for_the_fixture_codes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/projjson");
        for code in [4326, 3857, 32616, 32733, 32601, 32760] {
            let text = std::fs::read_to_string(format!("{dir}/{code}.json")).unwrap();
            let want: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(projjson(code).unwrap(), want, "EPSG:{code}");
        }
        assert!(projjson(2154).is_none());
        assert!(projjson(32661).is_none());
    }
}
