//! A user sensor table (`Sensor::from_toml`, the format of `configs/sensors/*.toml`) on
//! arbitrary UTF-8 text, added to the built-in registry and resolved band by band. Errors
//! are fine; a panic or a hang is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panopticon_data::{Sensor, SensorRegistry};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sensor) = Sensor::from_toml("fuzz.toml", text) else {
        return;
    };
    let names: Vec<String> = sensor
        .bands
        .iter()
        .take(32)
        .map(|b| b.key.clone())
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let _ = sensor.chn_ids(&refs);
    let mut registry = SensorRegistry::default();
    let _ = registry.add_sensor("fuzz.toml", sensor);
});
