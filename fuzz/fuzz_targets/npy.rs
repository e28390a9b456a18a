//! The `.npy` reader of the BigEarthNet v2 webdataset members (`parse_npy`) on arbitrary
//! bytes, then the `f32` conversion the pipeline applies. Errors are fine; a panic, a hang or
//! a huge allocation (a header claiming more values than the file holds) is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panopticon_eval::datasets::parse_npy;

fuzz_target!(|data: &[u8]| {
    if let Ok(arr) = parse_npy(data) {
        let n: usize = arr.shape.iter().product();
        assert_eq!(arr.data.len(), n, "values and shape disagree");
        let _ = arr.to_f32();
    }
});
