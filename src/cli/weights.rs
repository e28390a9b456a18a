//! `panopticon weights list|fetch|verify|convert`: pretrained weights without Rust code.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use panopticon::device::parse_device;
use panopticon::hub::{self, HubOptions, Registry, WeightsEntry};

/// Arguments of `panopticon weights`.
#[derive(Args, Debug)]
pub struct WeightsArgs {
    #[command(subcommand)]
    command: WeightsCommand,
    /// A registry file to use instead of the built-in one (same format as
    /// `weights/registry.toml`; e.g. entries pointing at an internal mirror).
    #[arg(long, global = true)]
    registry: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum WeightsCommand {
    /// List the known weights, their license and source, and what is cached here.
    List {
        /// Also print provenance and published metrics.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Download weights (Hugging Face cache, honours HF_HOME / HF_ENDPOINT / HF_HUB_OFFLINE)
    /// and convert them to a cached burnpack; prints the burnpack path.
    Fetch {
        /// Registry names or aliases (see `panopticon weights list`).
        #[arg(required = true)]
        names: Vec<String>,
        /// Device for the conversion check: cpu, wgpu, or cuda[:N].
        #[arg(long, default_value = "cpu")]
        device: String,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check cached downloads and burnpacks against their sha256, without network access.
    /// Corrupt entries are removed (the next `fetch` gets them again); exits non-zero if any.
    Verify {
        /// Names to check (default: every entry that has something cached).
        names: Vec<String>,
    },
    /// Convert a local checkpoint to a verified burnpack (same as `cargo xtask import-weights`).
    Convert(panopticon::import::ImportArgs),
}

/// Runs `panopticon weights ...`.
pub fn run(args: WeightsArgs) -> anyhow::Result<()> {
    let registry = match &args.registry {
        Some(p) => Registry::from_file(p)?,
        None => Registry::builtin(),
    };
    let opts = HubOptions::from_env();
    match args.command {
        WeightsCommand::List { verbose } => list(&registry, &opts, verbose),
        WeightsCommand::Fetch {
            names,
            device,
            quiet,
        } => {
            let device = parse_device(&device)?;
            let opts = HubOptions {
                progress: !quiet,
                ..opts
            };
            for name in names {
                let entry = registry.get(&name)?;
                eprintln!("{}: {}", entry.name, entry.source.describe());
                let bpk = hub::cached_burnpack(entry, &opts, &device)
                    .with_context(|| format!("fetching `{name}`"))?;
                println!("{}", bpk.display());
            }
            Ok(())
        }
        WeightsCommand::Verify { names } => verify(&registry, &opts, &names),
        WeightsCommand::Convert(args) => panopticon::import::run(args),
    }
}

fn list(registry: &Registry, opts: &HubOptions, verbose: bool) -> anyhow::Result<()> {
    println!(
        "{:<20} {:<14} {:<11} {:<9} SOURCE",
        "NAME", "PRESET", "LICENSE", "CACHED"
    );
    for e in &registry.weights {
        let cached = if hub::burnpack_path(e, opts).exists() {
            "yes"
        } else {
            "no"
        };
        println!(
            "{:<20} {:<14} {:<11} {:<9} {}",
            e.name,
            e.preset,
            e.license,
            cached,
            e.source.describe()
        );
        if verbose {
            println!("    {}", e.description);
            if !e.aliases.is_empty() {
                println!("    aliases: {}", e.aliases.join(", "));
            }
            if let Some(p) = &e.paper {
                println!("    paper: {p}");
            }
            if let Some(sha) = e.source.sha256() {
                println!("    sha256: {sha}");
            }
            if !e.metrics.is_empty() {
                let m: Vec<_> = e.metrics.iter().map(|(k, v)| format!("{k} {v}")).collect();
                println!(
                    "    metrics ({}): {}",
                    e.metrics_source.as_deref().unwrap_or("published"),
                    m.join(", ")
                );
            }
        }
    }
    println!(
        "\ncache: downloads in {}, burnpacks in {}",
        opts.hub_cache().display(),
        opts.cache_dir.join("burnpack").display()
    );
    Ok(())
}

fn verify(registry: &Registry, opts: &HubOptions, names: &[String]) -> anyhow::Result<()> {
    let offline = HubOptions {
        offline: true,
        progress: false,
        ..opts.clone()
    };
    let entries: Vec<&WeightsEntry> = if names.is_empty() {
        registry.weights.iter().collect()
    } else {
        names
            .iter()
            .map(|n| registry.get(n))
            .collect::<Result<_, _>>()?
    };
    let mut bad = 0;
    for e in entries {
        let bpk = hub::burnpack_path(e, opts);
        let source = match hub::fetch_source(&e.name, &e.source, &offline) {
            Ok(p) => format!("ok ({})", p.display()),
            Err(panopticon::model::HubError::Offline { .. }) => "not cached".into(),
            Err(err) => {
                bad += 1;
                format!("CORRUPT, removed: {err}")
            }
        };
        let burnpack = if !bpk.exists() {
            "not cached".to_string()
        } else if hub::verify_burnpack(&bpk) {
            format!("ok ({})", bpk.display())
        } else {
            bad += 1;
            let _ = std::fs::remove_file(&bpk);
            format!("CORRUPT, removed: {}", bpk.display())
        };
        if names.is_empty() && source == "not cached" && burnpack == "not cached" {
            continue;
        }
        println!("{}\n  download: {source}\n  burnpack: {burnpack}", e.name);
    }
    if bad > 0 {
        anyhow::bail!(
            "{bad} corrupt cache entr{} removed; run `panopticon weights fetch` again",
            if bad == 1 { "y" } else { "ies" }
        );
    }
    Ok(())
}
