//! A BigEarthNet v2 webdataset split whose one tar shard is the fuzz input: the whole public
//! path, `EvalDataset::benv2_webdataset` (tar index, `label.npy` members) and then `load` of
//! every sample (`img.npy` by seek, normalisation). `dataset.yaml` and `dataset.pt` are the
//! committed Sentinel-1 fixture's, except that the shard's sample count is the first input
//! byte (so the fuzzer can match it and get past the count check). Errors are fine; a panic,
//! a hang or a huge allocation is a finding.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use panopticon_eval::datasets::{BenBands, EvalDataset};

const DATASET_PT: &[u8] =
    include_bytes!("../../tests/fixtures/eval/datasets/benv2/wds/validation-s1/dataset.pt");

/// This process's dataset root (`<tmp>/panopticon-fuzz-<pid>-wds`), `dataset.pt` written once.
fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("panopticon-fuzz-{}-wds", std::process::id()));
        let dir = root.join("validation-s1");
        std::fs::create_dir_all(&dir).expect("create the scratch dataset folder");
        std::fs::write(dir.join("dataset.pt"), DATASET_PT).expect("write dataset.pt");
        root
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, shard)) = data.split_first() else {
        return;
    };
    let dir = root().join("validation-s1");
    let yaml = format!(
        "nsamples_per_shard:\n  dataset-000000.tar: {count}\nnum_classes: 19\nsensor: s1\n"
    );
    std::fs::write(dir.join("dataset.yaml"), yaml).expect("write dataset.yaml");
    std::fs::write(dir.join("dataset-000000.tar"), shard).expect("write the shard");
    if let Ok(ds) = EvalDataset::benv2_webdataset(root(), BenBands::S1, "validation", None) {
        for i in 0..ds.len().min(16) {
            let _ = ds.load(i);
        }
    }
});
