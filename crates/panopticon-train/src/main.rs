//! `panopticon-train`: self-supervised pre-training from a TOML config.
//!
//! ```text
//! cargo run --release -p panopticon-train -- --config configs/train/quick_check.toml [--resume]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use panopticon_train::{TrainConfig, parse_devices, train_on};

/// Pre-train Panopticon (DINO + iBOT + KoLeo with an EMA teacher).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Run configuration (TOML, `configs/train/*.toml`).
    #[arg(long)]
    config: PathBuf,
    /// Continue from the newest checkpoint in the run directory.
    #[arg(long)]
    resume: bool,
    /// Override `run.output_dir`.
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// Override `run.max_iters`.
    #[arg(long)]
    max_iters: Option<usize>,
    /// Override any config value: `--set optim.lr=1e-3 --set data.batch_size=32` (TOML values;
    /// bare words are strings). The effective config is saved as `<output_dir>/config.toml`.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    overrides: Vec<String>,
    /// Device: cpu, wgpu, or cuda[:N] (GPU backends need `--features wgpu|cuda`). A comma
    /// list (`cuda:0,cuda:1`) trains data-parallel, one replica per entry, gradients gathered
    /// on the first; `data.batch_size` is per device.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let run = || -> anyhow::Result<()> {
        let mut cfg = TrainConfig::from_file_with(&args.config, &args.overrides)?;
        if let Some(d) = args.output_dir.clone() {
            cfg.run.output_dir = d;
        }
        if let Some(n) = args.max_iters {
            cfg.run.max_iters = Some(n);
        }
        let devices: Vec<_> = parse_devices(&args.device)?
            .into_iter()
            .map(|d| d.autodiff())
            .collect();
        let s = train_on(&cfg, &devices, args.resume, None)?;
        for m in &s.steps {
            println!(
                "it {:>5}  loss {:.4}  (dino_local {:.4} dino_global {:.4} ibot {:.4} koleo {:.4})  lr {:.2e}",
                m.iteration, m.total, m.dino_local, m.dino_global, m.ibot, m.koleo, m.lr
            );
        }
        println!(
            "{} steps from {} ; mean step {:.3}s ; metrics in {} ; loss curve {}",
            s.steps.len(),
            s.start_iter,
            s.mean_step_s,
            cfg.run.output_dir.join("metrics.jsonl").display(),
            cfg.run.output_dir.join("loss.png").display()
        );
        if let Some(c) = s.checkpoints.last() {
            println!("last checkpoint {}", c.display());
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: some causes (TOML's) span several.
            let msg = format!("{e:#}");
            eprintln!(
                "error: {}",
                msg.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            ExitCode::FAILURE
        }
    }
}
