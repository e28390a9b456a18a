//! Sensor registry against the spec: every band's and every dataset's int16 chn_ids must equal
//! the values spec §5.2/§5.3 lists (`tests/fixtures/data/sensors/spec_chn_ids.toml`).

use std::collections::BTreeMap;

use panopticon_data::{
    ChannelId, ChannelIdError, Orbit, Polarisation, Sensor, SensorError, SensorRegistry,
};

#[derive(serde::Deserialize)]
struct SpecIds {
    sensors: BTreeMap<String, Vec<i16>>,
    datasets: BTreeMap<String, Vec<i16>>,
}

fn spec() -> SpecIds {
    let text = include_str!("../../../tests/fixtures/data/sensors/spec_chn_ids.toml");
    toml::from_str(text).expect("fixture parses")
}

fn registry() -> SensorRegistry {
    SensorRegistry::builtin().expect("built-in registry is valid")
}

#[test]
fn every_sensor_band_matches_spec_chn_ids() {
    let (reg, spec) = (registry(), spec());
    assert_eq!(reg.sensors().len(), spec.sensors.len());
    for (name, expected) in &spec.sensors {
        let sensor = reg.sensor(name).unwrap();
        let keys: Vec<&str> = sensor.band_keys().collect();
        assert_eq!(&sensor.chn_ids(&keys).unwrap(), expected, "sensor {name}");
    }
}

#[test]
fn band_counts_match_spec_tables() {
    let reg = registry();
    for (name, n) in [
        ("sentinel1", 12),
        ("sentinel2_l1c", 13),
        ("sentinel2_l2a", 12),
        ("landsat8_9", 11),
        ("qb2_ge1", 4),
        ("wv23", 8),
        ("superdove", 8),
        ("drone", 4),
        ("debug", 5),
        ("enmap", 224),
        ("aviris", 224),
        ("intuition", 150),
        ("neon_aop", 429),
    ] {
        assert_eq!(reg.sensor(name).unwrap().bands.len(), n, "{name}");
    }
}

#[test]
fn every_dataset_matches_spec_chn_ids() {
    let (reg, spec) = (registry(), spec());
    let names: Vec<&str> = reg.datasets().iter().map(|d| d.name.as_str()).collect();
    let spec_names: Vec<&str> = spec.datasets.keys().map(String::as_str).collect();
    assert_eq!(names, spec_names);
    assert_eq!(names.len(), 33); // spec §5.3 lists 33 dataset configs
    for (name, expected) in &spec.datasets {
        assert_eq!(
            &reg.dataset_chn_ids(name).unwrap(),
            expected,
            "dataset {name}"
        );
    }
}

#[test]
fn rgb_of_sentinel2_l2a() {
    let s2 = registry().sensor("sentinel2_l2a").unwrap().clone();
    assert_eq!(
        s2.chn_ids(&["B04", "B03", "B02"]).unwrap(),
        vec![664, 559, 492]
    );
    assert_eq!(
        s2.chn_ids_f32(&["B04", "B03", "B02"]).unwrap(),
        vec![664.0, 559.0, 492.0]
    );
    let b04 = s2.band("B04").unwrap();
    assert_eq!(b04.mu, 664.6300422881802);
    assert_eq!(b04.sigma, 11.757355524910432);
    assert_eq!(b04.gsd, Some(10.0));
    assert_eq!(b04.name.as_deref(), Some("Red"));
    assert_eq!(b04.wavelength_nm(), Some(664.6300422881802));
}

#[test]
fn unknown_band_names_band_and_lists_valid_ones() {
    let reg = registry();
    let err = reg
        .sensor("sentinel2_l2a")
        .unwrap()
        .chn_ids(&["B04", "B10"])
        .unwrap_err();
    let SensorError::UnknownBand {
        sensor,
        band,
        valid,
    } = &err
    else {
        panic!("wrong error {err:?}")
    };
    assert_eq!((sensor.as_str(), band.as_str()), ("sentinel2_l2a", "B10"));
    assert_eq!(valid.len(), 12);
    let msg = err.to_string();
    assert!(
        msg.contains("`B10`") && msg.contains("B01, B02") && msg.contains("B8A"),
        "{msg}"
    );
}

#[test]
fn unknown_sensor_and_dataset_list_known_ones() {
    let reg = registry();
    let msg = reg.sensor("sentinel3").unwrap_err().to_string();
    assert!(
        msg.contains("sentinel3") && msg.contains("sentinel2_l2a"),
        "{msg}"
    );
    let msg = reg.dataset("eval/nope").unwrap_err().to_string();
    assert!(
        msg.contains("eval/nope") && msg.contains("eval/m-eurosat"),
        "{msg}"
    );
    assert!(matches!(
        reg.resolve("sentinel2-B04"),
        Err(SensorError::MalformedBandId { .. })
    ));
}

#[test]
fn sar_ids_follow_the_spec_table() {
    let reg = registry();
    let s1 = reg.sensor("sentinel1").unwrap();
    let mut id = -1;
    for orbit in [Orbit::Both, Orbit::Ascending, Orbit::Descending] {
        for pol in [
            Polarisation::Vv,
            Polarisation::Vh,
            Polarisation::Hh,
            Polarisation::Hv,
        ] {
            assert_eq!(ChannelId::sar_id(pol, orbit), id);
            let c = ChannelId::from_sar_id(id).unwrap();
            assert_eq!(
                c,
                ChannelId::Sar {
                    polarisation: pol,
                    orbit
                }
            );
            let key = format!("B{:02}", -id);
            assert_eq!(s1.band(&key).unwrap().channel_id, c);
            assert_eq!(s1.band(&key).unwrap().name.as_deref(), Some(pol.as_str()));
            assert_eq!(s1.band(&key).unwrap().wavelength_nm(), None);
            id -= 1;
        }
    }
    for bad in [0, -13, 5] {
        let err = ChannelId::from_sar_id(bad).unwrap_err();
        assert!(matches!(err, ChannelIdError::InvalidSarId { .. }), "{err}");
        // `?` in a function returning `SensorError` keeps the message.
        let sensor_err = SensorError::from(err.clone());
        assert!(matches!(sensor_err, SensorError::ChannelId(_)));
        assert_eq!(sensor_err.to_string(), err.to_string());
        assert!(err.to_string().contains(&format!("id {bad}:")), "{err}");
    }
}

#[test]
fn int16_truncation_quirk_is_reproduced() {
    let reg = registry();
    // Truncation toward zero, not rounding: 442.92 -> 442, 443.704 -> 443, 1234.97 -> 1234.
    assert_eq!(reg.chn_ids(&["sentinel2/B01"]).unwrap(), vec![442]);
    assert_eq!(reg.chn_ids(&["superdove/B01"]).unwrap(), vec![443]);
    assert_eq!(reg.chn_ids(&["enmap/B122"]).unwrap(), vec![1234]);
    // EnMAP's overlapping detectors give duplicate ids.
    assert_eq!(
        reg.chn_ids(&["enmap/B082", "enmap/B083", "enmap/B100", "enmap/B101"])
            .unwrap(),
        vec![911, 911, 993, 993]
    );
    let b01 = reg.resolve("sentinel2/B01").unwrap().1;
    assert_eq!(
        b01.channel_id,
        ChannelId::Optical {
            wavelength_nm: 442.922568734037
        }
    );
}

#[test]
fn full_spectra_pairs_truncate_mu_and_sigma() {
    let reg = registry();
    let s2 = reg.sensor("sentinel2").unwrap();
    // mu 442.92, sigma 7.248 -> [442, 7]; B12 mu 2203.6, sigma 64.6 -> [2203, 64].
    assert_eq!(
        s2.full_spectra_ids(&["B01", "B12"]).unwrap(),
        vec![[442, 7], [2203, 64]]
    );
    let s1 = reg.sensor("sentinel1").unwrap();
    assert_eq!(s1.full_spectra_ids(&["B10"]).unwrap(), vec![[-10, -1]]);
}

#[test]
fn satlas_per_band_img_size() {
    let reg = registry();
    let landsat = reg.dataset("satlas_landsat").unwrap();
    let sizes = landsat.band_img_size.as_ref().unwrap();
    assert_eq!(
        sizes,
        &[256, 256, 256, 256, 256, 256, 256, 512, 256, 64, 64]
    );
    assert_eq!(
        reg.dataset("satlas_s2").unwrap().band_img_size,
        Some(vec![512; 9])
    );
    assert_eq!(reg.dataset("m-eurosat").unwrap().band_img_size, None);
}

#[test]
fn b8_b8a_order_is_upstreams() {
    let reg = registry();
    assert_eq!(
        reg.chn_ids(&["sentinel2/B08", "sentinel2/B8A"]).unwrap(),
        vec![827, 864]
    );
    // MMEarth stores B8A before B8, but upstream's list (and so the ids) says B08, B8A.
    let mm = reg.dataset("pretrain/mmearth_s2").unwrap();
    let i = mm.bands.iter().position(|b| b == "sentinel2/B08").unwrap();
    assert_eq!(mm.bands[i + 1], "sentinel2/B8A");
}

#[test]
fn aliases_and_derived_sensors() {
    let reg = registry();
    assert_eq!(reg.sensor("sentinel2").unwrap().name, "sentinel2_l1c");
    assert_eq!(reg.sensor("landsat8").unwrap().name, "landsat8_9");
    assert_eq!(reg.sensor("landsat9").unwrap().name, "landsat8_9");
    let l1c = reg.sensor("sentinel2_l1c").unwrap();
    let l2a = reg.sensor("sentinel2_l2a").unwrap();
    let without_b10: Vec<_> = l1c.bands.iter().filter(|b| b.key != "B10").collect();
    assert_eq!(without_b10, l2a.bands.iter().collect::<Vec<_>>());
    let enmap = reg.sensor("enmap").unwrap();
    assert_eq!(enmap.gsd_of(&enmap.bands[0]), Some(30.0));
    let landsat = reg.sensor("landsat9").unwrap();
    assert_eq!(landsat.band("B01").unwrap().img_size, Some(256));
    assert_eq!(landsat.band("B10").unwrap().gsd, Some(120.0));
}

#[test]
fn dataset_lookup_by_stem_like_upstream() {
    let reg = registry();
    assert_eq!(reg.dataset("m-eurosat").unwrap().name, "eval/m-eurosat");
    // fmow_rgb exists in pretrain/ and eval/ with identical bands: the stem resolves.
    assert_eq!(
        reg.dataset("fmow_rgb").unwrap().bands,
        reg.dataset("eval/fmow_rgb").unwrap().bands
    );
    let d = reg.dataset("eval/m-eurosat").unwrap();
    assert_eq!(d.num_classes, Some(10));
    assert_eq!(d.img_size, Some(64));
    assert_eq!(d.task_id.as_deref(), Some("classification"));
    assert_eq!(
        reg.dataset("m-so2sat").unwrap().bands[..2],
        ["sentinel1/B02", "sentinel1/B02"]
    );
}

const GOOD: &str = r#"
name = "mycam"
description = "test"
upstream = "mycam"
bands = [ { key = "R", mu = 650.9, sigma = 10.0 } ]
"#;

#[test]
fn custom_sensor_parses_and_registers() {
    let sensor = Sensor::from_toml("mycam.toml", GOOD).unwrap();
    assert_eq!(sensor.chn_ids(&["R"]).unwrap(), vec![650]);
    let mut reg = registry();
    reg.add_sensor("mycam.toml", sensor.clone()).unwrap();
    assert_eq!(reg.chn_ids(&["mycam/R"]).unwrap(), vec![650]);
    let err = reg
        .add_sensor("again.toml", sensor)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("again.toml") && err.contains("already registered"),
        "{err}"
    );
}

#[test]
fn invalid_sensor_tables_are_rejected_with_reasons() {
    let cases = [
        (GOOD.replace("650.9", "40000.0"), "0 < mu < 32768"),
        (
            GOOD.replace("sigma = 10.0", "sigma = 10.0, colour = 1"),
            "unknown field",
        ),
        (
            GOOD.replace(
                r#"{ key = "R", mu = 650.9, sigma = 10.0 }"#,
                r#"{ key = "R", mu = 1.0, sigma = 1.0 }, { key = "R", mu = 2.0, sigma = 1.0 }"#,
            ),
            "appears twice",
        ),
        (
            GOOD.replace(
                "mu = 650.9, sigma = 10.0",
                r#"mu = -2.0, sigma = -1.0, polarisation = "VV", orbit = "both""#,
            ),
            "has id -1, but mu is -2",
        ),
        (
            GOOD.replace("mu = 650.9", "mu = -1.0"),
            "need `polarisation`",
        ),
        (
            GOOD.replace("bands = [", "bands = [ ]\nx = ["),
            "unknown field",
        ),
        (GOOD.replace("name = \"mycam\"", ""), "missing field"),
    ];
    for (text, want) in cases {
        let err = Sensor::from_toml("bad.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml") && err.contains(want), "{err}");
    }
}
