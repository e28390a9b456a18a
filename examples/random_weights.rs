//! Writes randomly initialised weights of a model preset as a burnpack, for benchmarks that
//! need a full-size model without downloading one (e.g. benches/remote_embed.py):
//!
//! ```sh
//! cargo run --release --example random_weights -- vitb14 /tmp/vitb14-random.bpk
//! ```

use panopticon::PanopticonConfig;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [preset, out] = args.as_slice() else {
        anyhow::bail!("usage: random_weights PRESET OUT.bpk");
    };
    let config = PanopticonConfig::preset(preset).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown preset {preset} (one of {})",
            PanopticonConfig::PRESETS.join(", ")
        )
    })?;
    let device = panopticon::device::parse_device("cpu")?;
    config.init(&device)?.save_burnpack(out)?;
    eprintln!("wrote {out}");
    Ok(())
}
