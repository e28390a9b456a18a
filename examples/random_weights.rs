//! Writes randomly initialised weights of a model preset as a Burn `.bpk`: the real model's
//! shapes without its training, for measurements such as scripts/measure_outputs.py.
//!
//! `cargo run --release --example random_weights -- vitb14 /tmp/vitb14-random.bpk`

use anyhow::Context;
use burn::prelude::Device;
use panopticon::PanopticonConfig;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(preset), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: random_weights PRESET OUT.bpk (e.g. vitb14 /tmp/vitb14-random.bpk)");
    };
    let config =
        PanopticonConfig::preset(&preset).with_context(|| format!("no preset {preset}"))?;
    let model = config.init(&Device::default())?;
    model.save_burnpack(&out)?;
    eprintln!("wrote {out} (random {preset})");
    Ok(())
}
