//! `embed --norm FILE`: band statistics JSON (`Norm::parse` on a scratch file), then `apply`
//! to a small scene whose band count is the statistics' own and to one with a band too many.
//! Errors are fine; a panic, a hang or a NaN where a typed error belongs is a finding.
#![no_main]

#[path = "tmpfile.rs"]
mod tmpfile;

use libfuzzer_sys::fuzz_target;
use panopticon::embed::Norm;

fuzz_target!(|data: &[u8]| {
    let path = tmpfile::write(data, "json");
    let Ok(norm) = Norm::parse(path.to_str().expect("a UTF-8 temp path")) else {
        return;
    };
    let Norm::Stats(stats) = &norm else {
        return;
    };
    let bands = stats.mean.len().min(64);
    for b in [bands, bands + 1] {
        let mut scene: Vec<f32> = (0..b * 4).map(|i| i as f32 - 3.0).collect();
        if let Ok(_) = norm.apply(&mut scene, b, Some(0.0)) {
            assert!(
                scene.iter().all(|v| v.is_finite()),
                "normalised values must be finite"
            );
        }
    }
});
