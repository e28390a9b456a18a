//! Subcommands of the `panopticon` binary.

mod bench;
mod budget;
mod embed;
mod eval;
mod forward;
mod info;
mod pca;
mod progress;
mod scene_args;
mod scene_bands;
mod sensors;
#[cfg(feature = "pretrained")]
mod weights;
mod windowed;

use std::path::Path;

use anyhow::{Context, bail};
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
    /// Embed GeoTIFF / PNG / JPEG scenes from any sensor (sliding window; safetensors, npy,
    /// Parquet or a georeferenced GeoTIFF feature map).
    Embed(embed::EmbedCommand),
    /// The first 3 principal components of an image's patch features as an RGB picture, next
    /// to the image (the classic DINO visualisation).
    Pca(Box<pca::PcaArgs>),
    /// Describe a weights file or registry entry: provenance, keys, config, parameter count.
    Info(info::InfoArgs),
    /// List the sensors and their bands (names for `embed --sensor/--bands`); with a name, that
    /// sensor's band table.
    Sensors(sensors::SensorsArgs),
    /// Run the model on tensors from a safetensors file and write its outputs (Python interop).
    Forward(forward::ForwardArgs),
    /// List the model presets accepted by --config.
    Presets,
    /// Frozen-feature kNN / linear-probe evaluation tasks (resumable; results per task and
    /// aggregated).
    Eval(eval::EvalArgs),
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
        Command::Embed(cmd) => embed::dispatch(cmd),
        Command::Info(args) => info::run(args),
        Command::Pca(args) => pca::run(*args),
        Command::Sensors(args) => sensors::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
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

/// The process exit status for an error: 3 when a batch run finished with failed items,
/// else 1 (clap's own usage errors exit with 2).
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.is::<embed::ItemsFailed>() { 3 } else { 1 }
}

/// Fails early, before any compute, when the output cannot be written.
pub(crate) fn check_writable(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!(
            "cannot write {}: it is a directory; give a file name",
            path.display()
        );
    }
    check_parent_writable(path)
}

/// Checks that the directory `path` would be created in exists and is writable (for outputs
/// that are directories themselves, such as a Zarr store).
pub(crate) fn check_parent_writable(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let probe = dir.join(format!(".panopticon-write-test.{}", std::process::id()));
    std::fs::File::create(&probe).with_context(|| {
        format!(
            "cannot write {}: directory {} is not writable",
            path.display(),
            dir.display()
        )
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// The error and its causes on one line, skipping a cause the message above already quotes
/// (the library errors embed their source in their own text).
pub fn one_line(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg.replace('\n', " ")
}
