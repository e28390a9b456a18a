//! `panopticon info`: what a weights file (or registry entry) holds.

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;
use clap::Args;
use panopticon::{LoadOptions, PanopticonConfig};

use super::forward::resolve_config;

/// Arguments of `panopticon info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// A weights file (.bpk, .pth, .safetensors) or a registry name.
    weights: String,
    /// Model config to load a .pth/.safetensors into (a .bpk from `weights convert` or
    /// `weights fetch` records its own).
    #[arg(long, default_value = "vitb14")]
    config: String,
    /// Describe weights holding NaN or infinite values too (refused by default, naming the
    /// tensor).
    #[arg(long)]
    allow_nonfinite: bool,
}

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let path = Path::new(&args.weights);
    if !path.exists() {
        return registry_entry(&args.weights);
    }
    let bytes = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    println!("file: {} ({:.1} MB)", path.display(), bytes as f64 / 1e6);
    let mut config = None;
    if path.extension().is_some_and(|e| e == "bpk") {
        let reader = burn::store::burn_pack::Reader::from_file(path)
            .map_err(|e| anyhow::anyhow!("{}: not a readable burnpack: {e}", path.display()))?;
        for (k, v) in reader.metadata() {
            if k == "panopticon.config" {
                config = Some(
                    PanopticonConfig::from_json(v)
                        .with_context(|| format!("{}: bad recorded config", path.display()))?,
                );
            } else {
                println!("{k}: {v}");
            }
        }
    }
    let config = match config {
        Some(c) => c,
        None => resolve_config(&args.config)?,
    };
    let device = Device::default();
    let mut model = config.init(&device)?;
    let opts = LoadOptions {
        strict: false,
        allow_nonfinite: args.allow_nonfinite,
        ..Default::default()
    };
    let report = model.load_weights(path, &opts)?;
    print!("{report}");
    let pe = match &config.patch_embed {
        panopticon::PatchEmbedConfig::Panopticon(pe) => format!(
            "Panopticon (attn_dim {}, {} channel-attention heads)",
            pe.attn_dim, pe.num_heads
        ),
        panopticon::PatchEmbedConfig::Conv(c) => format!("convolution, {} channels", c.in_chans),
    };
    println!(
        "model: D {}, depth {}, heads {}, patch {}, registers {}, patch embedding {pe}",
        config.embed_dim,
        config.depth,
        config.num_heads,
        config.patch_size,
        config.num_register_tokens
    );
    println!("parameters: {}", model.num_parameters());
    Ok(())
}

#[cfg(feature = "pretrained")]
fn registry_entry(name: &str) -> anyhow::Result<()> {
    let registry = panopticon::Registry::builtin();
    let entry = registry
        .get(name)
        .with_context(|| format!("`{name}` is neither a file nor a registry name"))?;
    println!("{} — {}", entry.name, entry.description);
    println!("source: {}", entry.source.describe());
    if let Some(sha) = entry.source.sha256() {
        println!("sha256: {sha}");
    }
    println!(
        "license: {}, preset {}, layout {}",
        entry.license, entry.preset, entry.kind
    );
    for (k, v) in &entry.metrics {
        println!("  {k}: {v}");
    }
    let bpk = panopticon::hub::burnpack_path(entry, &panopticon::HubOptions::from_env());
    println!(
        "cached: {}",
        if bpk.exists() {
            bpk.display().to_string()
        } else {
            "no".into()
        }
    );
    Ok(())
}

#[cfg(not(feature = "pretrained"))]
fn registry_entry(name: &str) -> anyhow::Result<()> {
    anyhow::bail!("{name}: no such file")
}
