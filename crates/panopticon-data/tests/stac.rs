//! STAC items shaped as Earth Search, Planetary Computer and pystac publish them become the
//! right bands: channel ids, `raster:bands` scale/offset/nodata, resolved hrefs; bad items are
//! refused naming the item and asset.

use std::path::PathBuf;

use panopticon_data::SensorRegistry;
use panopticon_data::stac::{AssetChoice, StacError, StacScene, parse_items, scene_from_item};

fn fixture(name: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/data/stac")
        .join(name);
    (
        std::fs::read_to_string(&path).unwrap(),
        path.to_string_lossy().into_owned(),
    )
}

fn scene(name: &str, choice: AssetChoice<'_>) -> Result<StacScene, StacError> {
    let (text, location) = fixture(name);
    let items = parse_items(&text, &location).unwrap();
    assert_eq!(items.len(), 1);
    scene_from_item(&items[0], &SensorRegistry::builtin().unwrap(), choice)
}

/// `(asset, channel id)` in scene order.
fn ids(s: &StacScene) -> Vec<(&str, f32)> {
    s.bands
        .iter()
        .map(|b| (b.asset.as_str(), b.channel_id))
        .collect()
}

#[test]
fn earth_search_sentinel2_assets_map_to_registry_bands() {
    let s = scene("earth_search_s2_l2a.json", AssetChoice::default()).unwrap();
    // Keys are common names (red, nir08); rededge1 resolves through its eo:bands name B05;
    // scl/aot (no band metadata), visual (3 bands) and the thumbnail are left out.
    assert_eq!(
        ids(&s),
        [
            ("blue", 492.0),
            ("green", 559.0),
            ("red", 664.0),
            ("rededge1", 704.0),
            ("nir", 827.0),
            ("nir08", 864.0),
            ("swir16", 1613.0)
        ]
    );
    for b in &s.bands {
        assert_eq!(
            (b.scale, b.offset, b.nodata),
            (0.0001, -0.1, Some(0.0)),
            "{}",
            b.asset
        );
        assert!(
            b.href
                .starts_with("https://e84-earth-search-sentinel-data.s3."),
            "{}",
            b.href
        );
    }
    assert!(s.bands[2].href.ends_with("/B04.tif"), "{}", s.bands[2].href);
}

#[test]
fn planetary_computer_sentinel2_b_keys_without_raster_bands() {
    let s = scene("pc_s2_l2a.json", AssetChoice::default()).unwrap();
    assert_eq!(
        ids(&s),
        [
            ("B02", 492.0),
            ("B03", 559.0),
            ("B04", 664.0),
            ("B05", 704.0),
            ("B8A", 864.0),
            ("B11", 1613.0)
        ]
    );
    assert!(
        s.bands
            .iter()
            .all(|b| b.scale == 1.0 && b.offset == 0.0 && b.nodata.is_none())
    );
}

#[test]
fn planetary_computer_landsat_c2_l2_scale_offset_and_thermal() {
    // Real item: keys are common names, eo:bands names OLI_B4 / TIRS_B10 (not SR_B4), platform
    // landsat-9; `qa` (no band metadata), `ang` (text) and the PNG preview are left out.
    let s = scene("pc_landsat_c2_l2.json", AssetChoice::default()).unwrap();
    assert_eq!(
        ids(&s),
        [
            ("coastal", 442.0),
            ("blue", 482.0),
            ("green", 560.0),
            ("red", 654.0),
            ("nir08", 864.0),
            ("swir16", 1608.0),
            ("swir22", 2203.0),
            ("lwir11", 10847.0)
        ]
    );
    let red = &s.bands[3];
    assert_eq!(
        (red.scale, red.offset, red.nodata),
        (2.75e-5, -0.2, Some(0.0))
    );
    let st = &s.bands[7];
    assert_eq!(
        (st.scale, st.offset, st.nodata),
        (0.00341802, 149.0, Some(0.0))
    );
    assert!(
        red.href
            .starts_with("https://landsateuwest.blob.core.windows.net/landsat-c2/level-2/"),
        "{}",
        red.href
    );
}

#[test]
fn earth_search_landsat_c2_l2_shape_scale_offset_and_thermal() {
    // Earth Search's shape (hand-written, see the fixtures README): asset keys are common
    // names, eo:bands names are USGS's `SR_B4`/`ST_B10`.
    let s = scene("earth_search_landsat_c2_l2.json", AssetChoice::default()).unwrap();
    assert_eq!(
        ids(&s),
        [
            ("coastal", 442.0),
            ("blue", 482.0),
            ("red", 654.0),
            ("nir08", 864.0),
            ("swir16", 1608.0),
            ("lwir11", 10847.0)
        ]
    );
    let red = &s.bands[2];
    assert_eq!(
        (red.scale, red.offset, red.nodata),
        (2.75e-5, -0.2, Some(0.0))
    );
    let st = &s.bands[5];
    assert_eq!((st.scale, st.offset), (0.00341802, 149.0));
    // Earth Search points Landsat assets at USGS's requester-pays bucket.
    for b in &s.bands {
        assert!(
            b.href
                .starts_with("s3://usgs-landsat/collection02/level-2/standard/oli-tirs/2022/"),
            "{}",
            b.href
        );
    }
}

#[test]
fn usgs_landsat_item_alternate_s3_hrefs() {
    // Real USGS item: keys are common names, eo:bands names `B4` (no product prefix), platform
    // `LANDSAT_9`; `href` is landsatlook over HTTPS, `alternate.s3.href` the requester-pays
    // bucket; QA bands (no band metadata) and the browse JPEGs are left out.
    let s = scene("usgs_landsat_c2_l2_sr.json", AssetChoice::default()).unwrap();
    assert_eq!(
        ids(&s),
        [
            ("coastal", 442.0),
            ("blue", 482.0),
            ("green", 560.0),
            ("red", 654.0),
            ("nir08", 864.0),
            ("swir16", 1608.0),
            ("swir22", 2203.0)
        ]
    );
    assert!(
        s.bands.iter().all(|b| b
            .href
            .starts_with("https://landsatlook.usgs.gov/data/collection02/")),
        "{:?}",
        s.bands
    );
    let alt = scene(
        "usgs_landsat_c2_l2_sr.json",
        AssetChoice {
            alternate: Some("s3"),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&alt), ids(&s));
    for (a, b) in alt.bands.iter().zip(&s.bands) {
        let tail = b.href.rsplit('/').next().unwrap();
        assert!(
            a.href.starts_with("s3://usgs-landsat/collection02/") && a.href.ends_with(tail),
            "{}",
            a.href
        );
    }
    // An alternate the assets do not list: their own hrefs.
    let other = scene(
        "usgs_landsat_c2_l2_sr.json",
        AssetChoice {
            alternate: Some("gcs"),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(other, s);
}

#[test]
fn landsat_bands_place_by_wavelength_without_the_sensor() {
    // With the item's platform unknown to the registry, eo:bands center_wavelength (µm) places
    // the bands: 0.65 µm → 650 nm.
    let (text, location) = fixture("pc_landsat_c2_l2.json");
    let text = text.replace("\"landsat-9\"", "\"unknown-sat\"");
    let items = parse_items(&text, &location).unwrap();
    let s = scene_from_item(
        &items[0],
        &SensorRegistry::builtin().unwrap(),
        AssetChoice::default(),
    )
    .unwrap();
    assert_eq!(s.bands[3].asset, "red");
    assert_eq!(s.bands[3].channel_id, 650.0);
}

#[test]
fn sentinel1_rtc_polarisations_and_orbit() {
    // Real item: item-level sar:polarizations [VV, VH], asset keys vv/vh, descending orbit:
    // ids -9, -10; per-asset raster:bands nodata -32768; previews left out.
    let s = scene("pc_sentinel1_rtc.json", AssetChoice::default()).unwrap();
    assert_eq!(ids(&s), [("vv", -9.0), ("vh", -10.0)]);
    assert!(
        s.bands
            .iter()
            .all(|b| b.nodata == Some(-32768.0) && b.scale == 1.0 && b.offset == 0.0)
    );
    assert!(s.bands[0].href.ends_with("/measurement/iw-vv.rtc.tiff"));
}

#[test]
fn stac_1_1_bands_and_string_nodata() {
    // STAC 1.1: `bands` with eo:/raster: prefixed fields, nodata written as a string.
    let item = r#"{"type": "Feature", "stac_version": "1.1.0", "id": "v11",
        "properties": {"datetime": "2024-01-01T00:00:00Z"}, "geometry": null, "links": [],
        "assets": {
          "b1": {"href": "b1.tif", "type": "image/tiff; application=geotiff",
                 "bands": [{"name": "b1", "eo:center_wavelength": 0.665,
                            "raster:scale": 0.5, "raster:offset": 1.0, "nodata": "-inf"}]},
          "b2": {"href": "b2.tif", "type": "image/tiff; application=geotiff",
                 "eo:center_wavelength": 0.842, "raster:scale": 2.0, "nodata": 7,
                 "data_type": "uint16"}}}"#;
    let items = parse_items(item, "dir/v11.json").unwrap();
    let s = scene_from_item(
        &items[0],
        &SensorRegistry::builtin().unwrap(),
        AssetChoice::default(),
    )
    .unwrap();
    assert_eq!(ids(&s), [("b1", 665.0), ("b2", 842.0)]);
    let b = |i: usize| (s.bands[i].scale, s.bands[i].offset, s.bands[i].nodata);
    assert_eq!(b(0), (0.5, 1.0, Some(f64::NEG_INFINITY)));
    assert_eq!(b(1), (2.0, 0.0, Some(7.0)));
    assert_eq!(s.bands[1].href, "dir/b2.tif");
}

#[test]
fn sentinel1_relative_hrefs_resolve_against_the_item() {
    // Asset-level sar:polarizations [VH], descending orbit: id -10; href "./measurement/…".
    let (text, _) = fixture("pystac_s1_slc.json");
    let items = parse_items(&text, "catalog/s1/item.json").unwrap();
    let s = scene_from_item(
        &items[0],
        &SensorRegistry::builtin().unwrap(),
        AssetChoice::default(),
    )
    .unwrap();
    assert_eq!(ids(&s), [("measurement_iw1_vh", -10.0)]);
    assert_eq!(
        s.bands[0].href,
        "catalog/s1/measurement/s1a-iw1-slc-vh-20150305t051939-20150305t052005-004892-006196-001.tiff"
    );
    let items = parse_items(&text, "https://example.com/s1/items/item.json").unwrap();
    let s = scene_from_item(
        &items[0],
        &SensorRegistry::builtin().unwrap(),
        AssetChoice::default(),
    )
    .unwrap();
    assert!(
        s.bands[0]
            .href
            .starts_with("https://example.com/s1/items/measurement/s1a-iw1-slc-vh"),
        "{}",
        s.bands[0].href
    );
}

#[test]
fn chosen_assets_keep_their_order_and_wavelengths_override() {
    let keys = ["nir08".to_string(), "red".to_string()];
    let s = scene(
        "earth_search_s2_l2a.json",
        AssetChoice {
            assets: Some(&keys),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&s), [("nir08", 864.0), ("red", 664.0)]);
    let keys = ["scl".to_string()];
    let s = scene(
        "earth_search_s2_l2a.json",
        AssetChoice {
            assets: Some(&keys),
            channel_ids: Some(&[700.0]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&s), [("scl", 700.0)]);
}

#[test]
fn bad_items_and_choices_name_the_item_and_asset() {
    let choose = |keys: &[&str]| -> Vec<String> { keys.iter().map(|k| k.to_string()).collect() };
    let one = |keys: &[String]| {
        scene(
            "earth_search_s2_l2a.json",
            AssetChoice {
                assets: Some(keys),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string()
    };
    let msg = one(&choose(&["scl"]));
    assert!(
        msg.contains("asset `scl`") && msg.contains("--wavelengths"),
        "{msg}"
    );
    let msg = one(&choose(&["B99"]));
    assert!(
        msg.contains("no asset `B99`") && msg.contains("red"),
        "{msg}"
    );
    let msg = one(&choose(&["visual"]));
    assert!(msg.contains("`visual`") && msg.contains("3 bands"), "{msg}");

    // An item whose rasters carry no band metadata at all.
    let bare = r#"{"type": "Feature", "id": "bare", "properties": {},
        "assets": {"data": {"href": "x.tif", "type": "image/tiff"}}}"#;
    let items = parse_items(bare, "bare.json").unwrap();
    let err = scene_from_item(
        &items[0],
        &SensorRegistry::builtin().unwrap(),
        AssetChoice::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`bare`")
            && err.contains("data")
            && err.contains("--assets data --wavelengths"),
        "{err}"
    );

    let err = parse_items("{\"type\": \"Feature\", \"id\": ", "broken.json")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("`broken.json` is not valid JSON"), "{err}");
    let err = parse_items(r#"{"type": "Catalog", "id": "c"}"#, "cat.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a STAC Item") && err.contains("Catalog"),
        "{err}"
    );
    let err = parse_items(r#"{"type": "Feature", "id": "x"}"#, "x.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no `assets`"), "{err}");
    // A value the STAC types refuse, in the second feature of a collection.
    let err = parse_items(
        r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "a", "assets": {}},
            {"type": "Feature", "id": "b", "assets": {"x": {"href": 3}}}]}"#,
        "fc.json",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("`fc.json` is not a STAC Item") && err.contains("feature 1"),
        "{err}"
    );
    for e in [msg, err] {
        assert!(!e.contains('\n'), "one line: {e}");
    }
}

#[test]
fn common_names_resolve_unless_ambiguous() {
    let registry = SensorRegistry::builtin().unwrap();
    let s2 = registry.sensor("sentinel2_l2a").unwrap();
    assert_eq!(
        s2.chn_ids(&["red", "nir08", "swir16", "B04"]).unwrap(),
        [664, 864, 1613, 664]
    );
    let err = s2.band("rededge").unwrap_err().to_string();
    assert!(err.contains("B05, B06, B07"), "{err}");
    let l8 = registry.sensor("landsat8_9").unwrap();
    assert_eq!(l8.chn_ids(&["nir08", "lwir11"]).unwrap(), [864, 10847]);
}
