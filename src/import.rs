//! Checkpoint conversion from the command line: `cargo xtask import-weights` and
//! `panopticon weights convert` share these arguments. Needs only `panopticon-model`, `clap`
//! and `anyhow`: `xtask` compiles this file itself (`#[path]`), so converting weights does
//! not build the data, training and evaluation crates.

use std::path::PathBuf;

use anyhow::{Context, bail};
use panopticon_model::{
    CheckpointPart, ConvertOptions, PanopticonConfig, Precision, SourceKind, convert_checkpoint,
};

/// Converts a checkpoint, prints what was loaded, writes `--out` and checks that the written
/// file reproduces the source model on a probe input.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The checkpoint: `.pth`/`.pt` (zip or legacy pickle) or `.safetensors`.
    #[arg(long)]
    pub src: PathBuf,
    /// Layout of the file: auto | teacher (released bare state dict) | train-checkpoint |
    /// teacher-snapshot | dinov2 (into a Panopticon preset: stage-1 init without
    /// patch_embed/pos_embed).
    #[arg(long, default_value = "auto")]
    kind: String,
    /// Which backbone of a training checkpoint: teacher | student.
    #[arg(long, default_value = "teacher")]
    part: String,
    /// Model preset (see `panopticon presets`) or a config JSON file.
    #[arg(long, default_value = "vitb14")]
    preset: String,
    /// Output file [default: `weights/<src stem>.bpk`].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Element type written: f32 (exact) | f16 | bf16.
    #[arg(long, default_value = "f32")]
    precision: String,
    /// Write even when model parameters are missing from the source (they keep their init).
    #[arg(long)]
    allow_partial: bool,
    /// Convert even when tensors hold NaN or infinite values (by default such a checkpoint is
    /// refused, naming the tensor).
    #[arg(long)]
    allow_nonfinite: bool,
    /// Device for the verification forward passes: cpu, wgpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Runs the conversion and prints its report (key summary on stderr, result on stdout).
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let config = match PanopticonConfig::preset(&args.preset) {
        Some(c) => c,
        None => PanopticonConfig::from_file(&args.preset).with_context(|| {
            format!(
                "--preset {}: neither a preset name nor a config file",
                args.preset
            )
        })?,
    };
    let Some(kind) = SourceKind::parse(&args.kind) else {
        bail!(
            "--kind {}: expected auto, teacher, train-checkpoint, teacher-snapshot or dinov2",
            args.kind
        );
    };
    let part = match args.part.as_str() {
        "teacher" => CheckpointPart::Teacher,
        "student" => CheckpointPart::Student,
        p => bail!("--part {p}: expected teacher or student"),
    };
    let Some(precision) = Precision::parse(&args.precision) else {
        bail!("--precision {}: expected f32, f16 or bf16", args.precision);
    };
    let out = args.out.unwrap_or_else(|| {
        let stem = args.src.file_stem().unwrap_or_default().to_string_lossy();
        PathBuf::from("weights").join(format!("{stem}.bpk"))
    });
    // Every argument checked before the (long) load and verification.
    if !args.src.is_file() {
        bail!("--src {}: no such file", args.src.display());
    }
    if out.is_dir() {
        bail!(
            "--out {} is a directory; give the file to write (e.g. {}/model.bpk)",
            out.display(),
            out.display()
        );
    }
    let device = panopticon_model::device::parse_device(&args.device)?;
    let opts = ConvertOptions {
        kind,
        part: if matches!(
            kind,
            SourceKind::TrainCheckpoint | SourceKind::TeacherSnapshot
        ) {
            part
        } else {
            CheckpointPart::Auto
        },
        precision,
        allow_partial: args.allow_partial,
        allow_nonfinite: args.allow_nonfinite,
    };
    eprintln!(
        "converting {} ({:?}, {:?}) ...",
        args.src.display(),
        kind,
        precision
    );
    let report = convert_checkpoint(&config, &args.src, &out, &opts, &device)
        .with_context(|| format!("converting {}", args.src.display()))?;
    let conv_pe = matches!(
        config.patch_embed,
        panopticon_model::PatchEmbedConfig::Conv(_)
    );
    let load = &report.load;
    eprint!("{load}");
    for k in &load.excluded {
        eprintln!("  excluded: {k}");
    }
    let transposed = load
        .applied
        .iter()
        .filter(|k| is_linear_weight(k, conv_pe))
        .count();
    eprintln!(
        "  reshaped: {transposed} Linear weights transposed [out, in] → [in, out]; \
         LayerNorm weight/bias → gamma/beta"
    );
    if !load.missing.is_empty() {
        eprintln!(
            "  WARNING: {} parameters keep their init (--allow-partial)",
            load.missing.len()
        );
    }
    println!(
        "wrote {} ({:.1} MB, {:?}); reloaded and checked: max |source − converted| = {:e} (allowed {:e})",
        report.out.display(),
        report.bytes as f64 / 1e6,
        precision,
        report.max_abs_diff,
        report.allowed
    );
    for (name, path) in &report.heads {
        println!("wrote {name}: {}", path.display());
    }
    eprintln!("done in {:.1} s", report.seconds);
    Ok(())
}

/// PyTorch keys of `nn.Linear` weights in the backbone (the ones burn-store transposes).
fn is_linear_weight(key: &str, conv_pe: bool) -> bool {
    [
        "attn.qkv.weight",
        "attn.proj.weight",
        "mlp.fc1.weight",
        "mlp.fc2.weight",
        "mlp.w12.weight",
        "mlp.w3.weight",
        "inproj_k.weight",
        "inproj_v.weight",
    ]
    .iter()
    .any(|s| key.ends_with(s))
        || key == "patch_embed.proj.weight" && !conv_pe
}
