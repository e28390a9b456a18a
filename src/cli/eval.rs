//! `panopticon eval`: frozen-feature kNN and linear-probe tasks (spec §6) on evaluation
//! datasets, resumable, with per-task and aggregated result files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use panopticon::device::parse_device;
use panopticon::eval::task::{
    PreparedTask, TaskConfig, discover_tasks, read_results_json, write_summary,
};
use panopticon::eval::{FeatureCache, Results};

use super::embed::load_model;

/// Arguments of `panopticon eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Weights: a registry name (`panopticon weights list`), a weights file, or a training run
    /// (its newest checkpoint's teacher) or checkpoint directory.
    #[arg(long)]
    model: String,
    /// Model config for a weights file (preset or JSON) [default: a run's `model.preset`, else
    /// vitb14].
    #[arg(long)]
    config: Option<String>,
    /// A task config (.toml) or a folder of them (searched recursively), e.g.
    /// configs/eval/5min.
    #[arg(long)]
    tasks: PathBuf,
    /// Output folder: `<task>/results.{csv,json,txt}`, `features/` (cache) and the
    /// aggregated `results.{csv,txt}`.
    #[arg(long, default_value = "eval-results")]
    out: PathBuf,
    /// Device: cpu, wgpu, or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Override a value in every task config that has its section, e.g. `--set knn.nb_knn=[10,20]`
    /// or `--set linear.epochs=5` (TOML values); repeatable. Results of earlier runs are reused
    /// unless `--overwrite`.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    overrides: Vec<String>,
    /// Re-run tasks whose results already exist (default: skip them).
    #[arg(long)]
    overwrite: bool,
    /// No progress lines.
    #[arg(long, short)]
    quiet: bool,
}

/// Identifies the weights for the feature cache: path, size and modification time of a
/// file (or the registry name), plus the config.
fn model_id(model: &str, config: &str) -> String {
    let path = Path::new(model);
    match (std::fs::canonicalize(path), std::fs::metadata(path)) {
        (Ok(abs), Ok(meta)) => format!(
            "file:{}|{}|{:?}|{config}",
            abs.display(),
            meta.len(),
            meta.modified().ok()
        ),
        _ => format!("registry:{model}"),
    }
}

/// A training run or checkpoint directory → its teacher backbone and the run's model preset.
fn resolve_model(model: &str) -> anyhow::Result<(String, Option<String>)> {
    let dir = Path::new(model);
    if !dir.is_dir() {
        return Ok((model.to_string(), None));
    }
    let (ckpt, run) = if dir.join("teacher_backbone.bpk").is_file() {
        (dir.to_path_buf(), dir.parent().and_then(Path::parent))
    } else {
        let last = panopticon::train::checkpoint::last_checkpoint(&dir.join("checkpoints"))?
            .with_context(|| {
                format!(
                    "{model} is a folder but neither a checkpoint (teacher_backbone.bpk) nor a \
                     training run with checkpoints/; pass a weights file"
                )
            })?;
        (last, Some(dir))
    };
    let preset = run
        .map(|r| r.join("config.toml"))
        .filter(|c| c.is_file())
        .map(panopticon::train::TrainConfig::from_file)
        .transpose()?
        .map(|c| c.model.preset);
    let weights = ckpt.join("teacher_backbone.bpk");
    Ok((weights.to_string_lossy().into_owned(), preset))
}

pub fn run(mut args: EvalArgs) -> anyhow::Result<()> {
    // Arguments that need no work first: a typo in --device must not wait for the tasks.
    let device = parse_device(&args.device)?;
    if args.out.is_file() {
        bail!(
            "--out {} is a file; give a folder for the results",
            args.out.display()
        );
    }
    let (weights, run_preset) = resolve_model(&args.model)?;
    args.model = weights;
    let config = args
        .config
        .clone()
        .or(run_preset)
        .unwrap_or_else(|| "vitb14".into());
    // 1. Every config parsed and every split opened before anything is computed.
    let tasks = discover_tasks(&args.tasks)?;
    let mut prepared: Vec<PreparedTask> = Vec::new();
    let mut applied = vec![false; args.overrides.len()];
    for (name, path) in &tasks {
        let config = if args.overrides.is_empty() {
            TaskConfig::from_file(path, name)?
        } else {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut table: toml::Table =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            for (o, hit) in args.overrides.iter().zip(&mut applied) {
                let section = o.split_once('=').map_or(o.as_str(), |(k, _)| k);
                let sections: Vec<&str> = section.trim().split('.').collect();
                let has = sections[..sections.len() - 1]
                    .iter()
                    .try_fold(&table, |t, s| t.get(*s).and_then(|v| v.as_table()))
                    .is_some();
                if has {
                    panopticon::train::config::apply_override(&mut table, o)
                        .map_err(anyhow::Error::msg)?;
                    *hit = true;
                }
            }
            TaskConfig::parse(&toml::to_string(&table)?, path, name)?
        };
        let task = config
            .prepare()
            .with_context(|| format!("task {name} ({})", path.display()))?;
        prepared.push(task);
    }
    if let Some((o, _)) = args.overrides.iter().zip(&applied).find(|(_, hit)| !**hit) {
        bail!(
            "--set {o}: no task in {} has that section",
            args.tasks.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output folder {}", args.out.display()))?;
    super::check_writable(&args.out.join("results.csv"))?;
    let result_dir = |name: &str| args.out.join(name);
    let (todo, done): (Vec<&PreparedTask>, Vec<&PreparedTask>) = prepared
        .iter()
        .partition(|t| args.overwrite || !result_dir(&t.config.name).join("results.csv").is_file());
    for t in &done {
        eprintln!(
            "{}: results exist in {}, skipping (--overwrite re-runs)",
            t.config.name,
            result_dir(&t.config.name).display()
        );
    }

    // 2. Model, only when something is left to run.
    if !todo.is_empty() {
        let model = load_model(&args.model, &config, &device)?;
        if let Some(t) = todo.iter().find(|t| t.config.n_last_blocks > model.depth()) {
            bail!(
                "{}: n_last_blocks = {} but the model has only {} blocks",
                t.config.path.display(),
                t.config.n_last_blocks,
                model.depth()
            );
        }
        let id = model_id(&args.model, &config);
        let cache = FeatureCache::new(args.out.join("features"));
        for (i, t) in todo.iter().enumerate() {
            let name = &t.config.name;
            if !args.quiet {
                eprintln!("[{}/{}] {name}", i + 1, todo.len());
            }
            let quiet = args.quiet;
            // One line per tenth of a split (and at its end), not one per batch.
            let mut last_tenth = (String::new(), 0usize);
            let mut progress = |split: &str, done: usize, total: usize| {
                let tenth = done * 10 / total.max(1);
                if quiet || (last_tenth.0 == split && tenth == last_tenth.1 && done < total) {
                    return;
                }
                last_tenth = (split.to_string(), tenth);
                eprintln!("  {name}: {split} features {done}/{total}");
            };
            let results = t
                .run(&model, &id, &cache, &device, &mut progress)
                .with_context(|| format!("task {name}"))?;
            results.write_all(&result_dir(name))?;
            if !args.quiet {
                eprint!("{}", results.to_table());
            }
        }
    }

    // 3. Aggregate every task's results (fresh and skipped).
    let all = prepared
        .iter()
        .map(|t| read_results_json(&result_dir(&t.config.name).join("results.json")))
        .collect::<Result<Vec<Results>, _>>()?;
    let csv = write_summary(&args.out, &all)?;
    for r in &all {
        print!("{}", r.to_table());
    }
    eprintln!(
        "{} task(s): {} run, {} skipped; summary in {}",
        prepared.len(),
        todo.len(),
        done.len(),
        csv.display()
    );
    Ok(())
}
