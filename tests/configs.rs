//! The model configs shipped in `configs/models/` are the presets, and load with `--config`.
//! Regenerate them with `PANOPTICON_BLESS=1 cargo test --release --test configs`.

use std::path::PathBuf;

use burn::config::Config;
use panopticon::PanopticonConfig;

#[test]
fn shipped_model_configs_equal_the_presets() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/models");
    for name in ["vitb14", "tiny-test", "dinov2_vitb14", "dinov2_vitb14_reg"] {
        let preset = PanopticonConfig::preset(name).unwrap();
        let path = dir.join(format!("{name}.json"));
        if std::env::var_os("PANOPTICON_BLESS").is_some() {
            preset.save(&path).unwrap();
        }
        let file = PanopticonConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let json = |c: &PanopticonConfig| serde_json::to_value(c).unwrap();
        assert_eq!(json(&file), json(&preset), "{}", path.display());
    }
}
