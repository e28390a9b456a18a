//! `panopticon bench`: forward throughput and peak memory on this machine.

use std::path::PathBuf;
use std::time::Instant;

use burn::prelude::*;
use burn::tensor::{Distribution, FloatDType};
use clap::Args;
use panopticon::device::parse_device;
use panopticon::model::Precision;
use panopticon::{LoadOptions, PanopticonInput};

use super::forward::resolve_config;

/// Arguments of `panopticon bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Model config: a preset or a JSON file.
    #[arg(long, default_value = "vitb14")]
    config: String,
    /// Weights (random weights when absent: same speed).
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Images per batch.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Channels per image (optical, spread over 420–2450 nm).
    #[arg(long, default_value_t = 13)]
    channels: usize,
    /// Image side in pixels.
    #[arg(long, default_value_t = 224)]
    size: usize,
    /// Timed repetitions (after one warm-up).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Device: cpu, wgpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Run the trainable model (literal channel attention, Burn operations) instead of its
    /// frozen inference form.
    #[arg(long)]
    literal: bool,
    /// Float type of weights and activations: f32, f16 or bf16 (half types where the device
    /// computes in them, e.g. GPUs).
    #[arg(long, default_value = "f32", value_parser = ["f32", "f16", "bf16"])]
    precision: String,
    /// Compute every output token (`forward_features`) instead of the cls embedding alone
    /// (`forward`, whose last block skips the patch rows).
    #[arg(long)]
    all_tokens: bool,
    /// Load weights holding NaN or infinite values (refused by default, naming the tensor).
    #[arg(long)]
    allow_nonfinite: bool,
    /// Most tokens per image in one forward [default: from a 4 GiB attention budget per image;
    /// or PANOPTICON_MAX_TOKENS].
    #[arg(long)]
    max_tokens: Option<usize>,
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    for (flag, v) in [
        ("--max-tokens", args.max_tokens.unwrap_or(1)),
        ("--batch", args.batch),
        ("--channels", args.channels),
        ("--size", args.size),
        ("--reps", args.reps),
    ] {
        if v == 0 {
            anyhow::bail!("{flag} 0: must be at least 1");
        }
    }
    // The random batch is allocated before the model sees it: bound it first (16 GiB).
    let elems = [args.batch, args.channels, args.size, args.size]
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
        .filter(|&n| n <= 4 << 30);
    if elems.is_none() {
        anyhow::bail!(
            "--batch {} --channels {} --size {}: the input alone would exceed 16 GiB",
            args.batch,
            args.channels,
            args.size
        );
    }
    let mut device = parse_device(&args.device)?;
    let Some(precision) = Precision::parse(&args.precision) else {
        anyhow::bail!("--precision {}: expected f32, f16 or bf16", args.precision);
    };
    let dtype = FloatDType::from(precision.dtype());
    // Before any tensor exists on the device: its default float type then applies to all.
    if dtype != FloatDType::F32 {
        device.configure(dtype).map_err(|e| {
            anyhow::anyhow!(
                "--precision {}: device `{}` cannot compute in it ({e:?})",
                args.precision,
                args.device
            )
        })?;
    }
    let config = resolve_config(&args.config)?;
    let mut model = config.init(&device)?;
    if let Some(max) = args.max_tokens {
        model.set_max_tokens(max);
    }
    model.check_image_size(args.size, args.size)?;
    if let Some(w) = &args.weights {
        let opts = LoadOptions {
            allow_nonfinite: args.allow_nonfinite,
            ..Default::default()
        };
        model.load_weights(w, &opts)?;
    }
    let frozen = (!args.literal).then(|| model.to_frozen());
    let ids: Vec<f32> = (0..args.channels)
        .map(|i| 420.0 + 2030.0 * i as f32 / (args.channels.max(2) - 1) as f32)
        .collect();
    let imgs = Tensor::<4>::random(
        [args.batch, args.channels, args.size, args.size],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let input = PanopticonInput::with_shared_ids(imgs, &ids)?;
    let once = || -> anyhow::Result<f64> {
        let t = Instant::now();
        let (cls, patches) = match (&frozen, args.all_tokens) {
            (Some(f), true) => {
                let ff = f.forward_features(&input, None)?;
                (ff.x_norm_clstoken, Some(ff.x_norm_patchtokens))
            }
            (Some(f), false) => (f.forward(&input)?, None),
            (None, true) => {
                let ff = model.forward_features(&input, None)?;
                (ff.x_norm_clstoken, Some(ff.x_norm_patchtokens))
            }
            (None, false) => (model.forward(&input)?, None),
        };
        std::hint::black_box(patches.map(|p| p.into_data()));
        std::hint::black_box(cls.into_data());
        Ok(t.elapsed().as_secs_f64())
    };
    let warmup = once()?;
    let mut times = Vec::with_capacity(args.reps);
    for _ in 0..args.reps {
        times.push(once()?);
    }
    let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
    let median = {
        let mut t = times.clone();
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    println!(
        "{{\"batch\": {}, \"channels\": {}, \"size\": {}, \"precision\": \"{}\", \"folded\": {}, \"output\": \"{}\", \"warmup_s\": {warmup:.4}, \
         \"median_s\": {median:.4}, \"best_s\": {best:.4}, \"images_per_s\": {:.3}, \
         \"peak_rss_bytes\": {}}}",
        args.batch,
        args.channels,
        args.size,
        args.precision,
        frozen.is_some(),
        if args.all_tokens { "all" } else { "cls" },
        args.batch as f64 / median,
        peak_rss().unwrap_or(0)
    );
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
