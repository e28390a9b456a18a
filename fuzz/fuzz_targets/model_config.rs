//! Model config JSON (`--config file.json`, the config a `.bpk` records) through
//! `PanopticonConfig::from_json`: serde, then `validate`. The derived grid and FFN sizes of a
//! config that validates are computed too.
//! Errors are fine; a panic or a hang is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panopticon_model::PanopticonConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = PanopticonConfig::from_json(text) {
        let _ = cfg.pos_grid();
        let _ = cfg.ffn_hidden();
    }
});
