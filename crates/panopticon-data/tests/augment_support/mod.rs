//! Helpers of the augmentation tests: replayed draws and fixture loading.
#![allow(dead_code)] // each test binary uses a subset

use panopticon_data::augment::Draws;
use serde_json::Value;

/// Replays fixed uniform draws (the same the Python generator fed to torchvision).
pub struct Replay {
    draws: Vec<f64>,
    pub used: usize,
}

impl Replay {
    pub fn new(draws: Vec<f64>) -> Self {
        Self { draws, used: 0 }
    }
}

impl Draws for Replay {
    fn uniform(&mut self) -> f64 {
        let u = *self
            .draws
            .get(self.used)
            .unwrap_or_else(|| panic!("replay exhausted after {} draws", self.used));
        self.used += 1;
        u
    }
}

/// Loads `tests/fixtures/data/augment/<name>.json` and returns its `cases`.
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/data/augment/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).expect("fixture is JSON");
    v["cases"].clone()
}

pub fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

/// Max absolute difference of two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
