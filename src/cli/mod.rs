//! Subcommands of the `panopticon` binary.

mod bench;
mod forward;
#[cfg(feature = "pretrained")]
mod weights;

use clap::{Parser, Subcommand};

/// Panopticon: the any-sensor Earth-observation foundation model, in Rust.
#[derive(Parser, Debug)]
#[command(name = "panopticon", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the model on tensors from a safetensors file and write its outputs (Python interop).
    Forward(forward::ForwardArgs),
    /// List the model presets accepted by --config.
    Presets,
    /// Measure forward throughput and peak memory here (prints one JSON line).
    Bench(bench::BenchArgs),
    /// Pretrained weights: list, fetch (download + convert), verify the cache, convert a file.
    #[cfg(feature = "pretrained")]
    Weights(weights::WeightsArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Forward(args) => forward::run(args),
        Command::Bench(args) => bench::run(args),
        #[cfg(feature = "pretrained")]
        Command::Weights(args) => weights::run(args),
        Command::Presets => {
            for p in panopticon::PanopticonConfig::PRESETS {
                println!("{p}");
            }
            Ok(())
        }
    }
}
