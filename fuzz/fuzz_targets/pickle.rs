//! The pickle reader of GeoBench's attribute dicts (`pickle_loads`) on arbitrary bytes, then
//! what `geobench.rs` does with the result: the `label` entry and its numpy array. Errors are
//! fine; a panic, a hang or an amplified allocation (memoised values copied without a byte
//! budget) is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panopticon_eval::datasets::{Py, pickle_loads};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = pickle_loads(data) else {
        return;
    };
    let _ = value.ndarray();
    if let Some(label) = value.get("label") {
        let _ = label.ndarray();
    }
    if let Py::Dict(entries) = &value {
        for (_, v) in entries.iter().take(16) {
            let _ = v.ndarray();
        }
    }
});
