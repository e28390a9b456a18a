//! `panopticon forward`: the model on a safetensors batch, outputs under the fixture key names.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::prelude::*;
use clap::Args;
use panopticon::device::parse_device;
use panopticon::tensor_io::{read_safetensors, read_shapes, write_safetensors};
use panopticon::{CheckpointPart, LayerSelection, LoadOptions, PanopticonConfig, PanopticonInput};

/// Arguments of `panopticon forward`.
#[derive(Args, Debug)]
pub struct ForwardArgs {
    /// Weights: an official .pth (state dict or training checkpoint), .safetensors or Burn .bpk.
    #[arg(long)]
    weights: PathBuf,
    /// Input safetensors with `input.imgs` [B,C,H,W] float, `input.chn_ids` [B,C] int or float,
    /// optional `input.spec_masks` [B,C] bool (true = ignore channel) and `input.token_masks`
    /// [B,L] bool (iBOT mask-token path).
    #[arg(long)]
    input: PathBuf,
    /// Output safetensors: `out.cls`, `ff.x_norm_clstoken`, `ff.x_norm_patchtokens`,
    /// `ff.x_prenorm`, `inter.{i}.patch`, `inter.{i}.cls`, `inter_reshape.{i}.patch`
    /// (and `masked.*` when token masks are given). Written atomically.
    #[arg(long)]
    output: PathBuf,
    /// Model config: a preset (`vitb14`, `tiny-test`, `dinov2_vitb14`, ...; see
    /// `panopticon presets`) or a JSON config file.
    #[arg(long, default_value = "vitb14")]
    config: String,
    /// Blocks for the intermediate-layer outputs, 0-based, comma-separated (default: the last 4).
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
    /// Device: cpu, wgpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Backbone to take from a training checkpoint.
    #[arg(long, value_enum, default_value = "auto")]
    part: Part,
    /// Accept checkpoints with missing or unused tensors (reported on stderr).
    #[arg(long)]
    non_strict: bool,
    /// Load weights holding NaN or infinite values (refused by default, naming the tensor).
    #[arg(long)]
    allow_nonfinite: bool,
    /// Most tokens per image in one forward [default: from a 4 GiB attention budget per image,
    /// 9459 for ViT-B/14 (a 1358² image); or PANOPTICON_MAX_TOKENS]. Larger images are refused
    /// before any allocation: tile them (`panopticon embed --tile`).
    #[arg(long)]
    max_tokens: Option<usize>,
    #[command(flatten)]
    budget: super::budget::BudgetArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Part {
    Auto,
    Teacher,
    Student,
}

/// Resolves `--config`: a preset name or a JSON file.
pub fn resolve_config(spec: &str) -> anyhow::Result<PanopticonConfig> {
    if let Some(cfg) = PanopticonConfig::preset(spec) {
        return Ok(cfg);
    }
    let path = Path::new(spec);
    if path.exists() {
        return Ok(PanopticonConfig::from_file(path)?);
    }
    bail!(
        "unknown config `{spec}`: use a preset ({}) or the path of a JSON config file",
        PanopticonConfig::PRESETS.join(", ")
    )
}

pub fn run(args: ForwardArgs) -> anyhow::Result<()> {
    if args.max_tokens == Some(0) {
        bail!("--max-tokens 0: must be at least 1");
    }
    super::check_writable(&args.output)?;
    let device = parse_device(&args.device)?;
    let config = resolve_config(&args.config)?;
    check_input_budget(&args.input, &args.budget)?;
    let mut tensors = read_safetensors(&args.input)?;
    let mut take = |key: &str| tensors.remove(key);
    let imgs = take("input.imgs")
        .with_context(|| format!("{} has no `input.imgs` tensor", args.input.display()))?;
    let chn_ids = take("input.chn_ids")
        .with_context(|| format!("{} has no `input.chn_ids` tensor", args.input.display()))?;
    let spec_masks = take("input.spec_masks");
    let token_masks = take("input.token_masks");
    let input = PanopticonInput::from_data(imgs, chn_ids, spec_masks, &device)?;
    let token_masks = token_masks
        .map(|m| bool_tensor(m, "input.token_masks", &device))
        .transpose()?;

    let mut model = config.init(&device)?;
    if let Some(max) = args.max_tokens {
        model.set_max_tokens(max);
    }
    let [_, _, h, w] = input.dims();
    model.check_image_size(h, w)?;
    let layers = match args.layers {
        Some(v) => LayerSelection::Indices(v),
        None => LayerSelection::Last(model.depth().min(4)),
    };
    let layers = LayerSelection::Indices(model.resolve_layers(layers)?);
    let opts = LoadOptions {
        part: match args.part {
            Part::Auto => CheckpointPart::Auto,
            Part::Teacher => CheckpointPart::Teacher,
            Part::Student => CheckpointPart::Student,
        },
        strict: !args.non_strict,
        allow_nonfinite: args.allow_nonfinite,
        ..Default::default()
    };
    let report = model.load_weights(&args.weights, &opts)?;
    eprint!("{report}");
    let model = model.to_frozen();

    let mut out: Vec<(String, TensorData)> = Vec::new();
    let ff = model.forward_features(&input, None)?;
    out.push(("out.cls".into(), ff.x_norm_clstoken.to_data()));
    out.push(("ff.x_norm_clstoken".into(), ff.x_norm_clstoken.into_data()));
    out.push((
        "ff.x_norm_patchtokens".into(),
        ff.x_norm_patchtokens.into_data(),
    ));
    out.push(("ff.x_prenorm".into(), ff.x_prenorm.into_data()));
    for l in model.intermediate_layers(&input, layers, true)? {
        let i = l.block;
        out.push((
            format!("inter_reshape.{i}.patch"),
            l.patch_map().into_data(),
        ));
        out.push((format!("inter.{i}.patch"), l.patches.into_data()));
        out.push((format!("inter.{i}.cls"), l.cls.into_data()));
    }
    if let Some(masks) = token_masks {
        let ff = model.forward_features(&input, Some(masks))?;
        out.push((
            "masked.x_norm_clstoken".into(),
            ff.x_norm_clstoken.into_data(),
        ));
        out.push((
            "masked.x_norm_patchtokens".into(),
            ff.x_norm_patchtokens.into_data(),
        ));
    }
    let out: Vec<_> = out
        .into_iter()
        .map(|(k, d)| (k, d.convert::<f32>()))
        .collect();
    write_safetensors(&args.output, &out)?;
    eprintln!("wrote {} tensors to {}", out.len(), args.output.display());
    Ok(())
}

fn bool_tensor(data: TensorData, name: &str, device: &Device) -> anyhow::Result<Tensor<2, Bool>> {
    if data.shape().len() != 2 {
        bail!(
            "{name} must have rank 2 [B, L], got shape {:?}",
            data.shape().as_slice()
        );
    }
    let shape = data.shape().to_vec();
    let flags: Vec<i64> = if data.dtype().is_bool() {
        // One byte per bool; a byte other than 0/1 is not a bool.
        data.as_bytes().iter().map(|&b| i64::from(b)).collect()
    } else if data.dtype().is_int() || data.dtype().is_uint() {
        data.try_into_vec_as::<i64>()
            .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?
    } else {
        bail!(
            "{name} must be bool (or 0/1 integers), got {:?}",
            data.dtype()
        );
    };
    if let Some(i) = flags.iter().position(|&v| v != 0 && v != 1) {
        bail!(
            "{name} holds {} at flat index {i}: masks must be 0/1",
            flags[i]
        );
    }
    let values: Vec<bool> = flags.iter().map(|&v| v != 0).collect();
    Ok(Tensor::from_data(TensorData::new(values, shape), device))
}

/// Refuses an input whose images are over `--max-pixels` (from the header's shape) or whose
/// reading would need more than `--max-memory` (the file's bytes, their tensor copies and the
/// float conversion), before reading it.
fn check_input_budget(input: &Path, budget: &super::budget::BudgetArgs) -> anyhow::Result<()> {
    budget.check()?;
    let shapes = read_shapes(input)?;
    let (b, c, h, w) = match shapes.get("input.imgs").map(Vec::as_slice) {
        Some(&[b, c, h, w]) => (b, c, h, w),
        _ => return Ok(()), // named precisely when the file is read
    };
    let len = std::fs::metadata(input)
        .with_context(|| format!("cannot read {}", input.display()))?
        .len();
    let floats = (b as u64)
        .saturating_mul(c as u64)
        .saturating_mul((h as u64).saturating_mul(w as u64))
        .saturating_mul(4);
    let header = panopticon::data::ImageHeader {
        bands: c,
        height: h,
        width: w,
        sample_bytes: 4,
    };
    budget.check_input(input, &header, len.saturating_mul(2).saturating_add(floats))
}
