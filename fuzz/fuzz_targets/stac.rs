//! STAC JSON (an Item, an ItemCollection or a search page) through the public API the
//! `embed` STAC inputs use: `stac::parse_items`, then `scene_from_item` of every item with
//! the built-in sensor registry, once choosing the assets automatically and once naming the
//! first three asset keys. Errors are fine; a panic or a hang is a finding.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use panopticon_data::SensorRegistry;
use panopticon_data::stac::{AssetChoice, parse_items, scene_from_item};

fn registry() -> &'static SensorRegistry {
    static REGISTRY: OnceLock<SensorRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| SensorRegistry::builtin().expect("the built-in sensor registry"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(items) = parse_items(text, "/fuzz/catalog/item.json") else {
        return;
    };
    for item in items.iter().take(8) {
        let _ = scene_from_item(item, registry(), AssetChoice::default());
        let keys: Vec<String> = item.item.assets.keys().take(3).cloned().collect();
        let choice = AssetChoice {
            assets: Some(&keys),
            ..AssetChoice::default()
        };
        let _ = scene_from_item(item, registry(), choice);
    }
});
