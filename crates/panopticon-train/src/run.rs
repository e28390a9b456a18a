//! [`train`]: the pre-training loop over a [`PretrainLoader`] with per-step metrics
//! (`metrics.jsonl`), periodic atomic checkpoints and resume.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use panopticon_data::augment::{
    CropSetConfig, PanopticonAugmentation, PanopticonAugmentationConfig,
};
use panopticon_data::datasets::{
    ConcatDataset, FaultyImgsLog, Fmow, FmowConfig, FmowSplit, Mmearth, MmearthConfig,
    PretrainSource, Satlas, SatlasConfig, SpectralEarth, Subset, SubsetSize,
};
use panopticon_data::loader::{LoaderConfig, PretrainLoader, Sampling};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};

use crate::checkpoint::{
    DataPosition, last_checkpoint, load_checkpoint, save_checkpoint, write_atomic,
};
use crate::config::TrainConfig;
use crate::error::{Result, TrainError};
use crate::{SslMetaArch, StepMetrics, configure_compute_dtype, init_weights};

/// Summary of a [`train`] call.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// First iteration run (0, or the resumed checkpoint's).
    pub start_iter: usize,
    /// Metrics of every iteration run by this call.
    pub steps: Vec<StepMetrics>,
    /// Global sample numbers each iteration trained on (all its micro-batches, in order).
    pub sample_ids: Vec<Vec<u64>>,
    /// Checkpoints written by this call.
    pub checkpoints: Vec<PathBuf>,
    /// Mean wall time per step in seconds.
    pub mean_step_s: f64,
}

/// Runs (or, with `resume`, continues from the newest checkpoint of the run directory)
/// pre-training until `cfg.max_iters()` or `stop_at` iterations, whichever comes first.
/// `stop_at` simulates an interruption (tests); a checkpoint is written when it stops.
///
/// A fresh run loads the `[init]` weights; a resumed one ignores them (fvcore's
/// "resume or load"). Each iteration takes `optim.gradient_accumulation_steps` loader batches.
/// Resuming skips the sampler ahead to the checkpoint's data position without loading the
/// skipped samples, and continues the batch numbering (iBOT masks), so the resumed run sees
/// exactly the batches of an uninterrupted one.
pub fn train(
    cfg: &TrainConfig,
    device: &Device,
    resume: bool,
    stop_at: Option<usize>,
) -> Result<RunSummary> {
    train_on(cfg, std::slice::from_ref(device), resume, stop_at)
}

/// [`train`] data-parallel over `devices` (autodiff devices, the first is the main one; see
/// [`crate::data_parallel`]). `data.batch_size` is per device, so one iteration consumes
/// `devices · accumulation` loader batches, replica-major. A run resumes only on the same
/// number of devices ([`TrainError::DeviceCount`]).
pub fn train_on(
    cfg: &TrainConfig,
    devices: &[Device],
    resume: bool,
    stop_at: Option<usize>,
) -> Result<RunSummary> {
    cfg.validate()?;
    cfg.check_data_paths()?;
    let device = devices.first().ok_or_else(|| TrainError::DeviceList {
        list: String::new(),
        reason: "no device".into(),
    })?;
    configure_compute_dtype(devices, cfg.run.precision)?;
    let out = &cfg.run.output_dir;
    let ckpt_dir = out.join("checkpoints");
    std::fs::create_dir_all(&ckpt_dir).map_err(|source| TrainError::Io {
        path: ckpt_dir.clone(),
        source,
    })?;
    // The effective config (after `--set` overrides) next to the run, before step 0.
    let saved = out.join("config.toml");
    if !(resume && saved.exists()) {
        write_atomic(&saved, &cfg.to_toml()?)?;
    }
    device.seed(cfg.run.seed);
    let mut arch = SslMetaArch::new(cfg.meta_arch(0)?, cfg.schedules()?, cfg.rules()?, device)?
        .with_devices(devices)?;
    let n_dev = devices.len();
    let accum = cfg.optim.gradient_accumulation_steps;
    let per_step = n_dev * accum;
    let mut start_iter = 0;
    let mut position = None;
    let mut resumed = false;
    if resume && let Some(ckpt) = last_checkpoint(&ckpt_dir)? {
        let state = load_checkpoint(&mut arch, &ckpt)?;
        if state.seed != cfg.run.seed {
            return Err(TrainError::Config {
                key: "run.seed",
                value: cfg.run.seed.to_string(),
                hint: "differs from the checkpoint's seed; resuming would change the data order",
            });
        }
        let saved_devices = state.devices.unwrap_or(1);
        if saved_devices != n_dev {
            return Err(TrainError::DeviceCount {
                checkpoint: saved_devices,
                requested: n_dev,
            });
        }
        start_iter = state.iteration;
        position = state.data;
        resumed = true;
        arch.config = cfg.meta_arch(start_iter)?;
        eprintln!("resumed from {} at iteration {start_iter}", ckpt.display());
    }
    if !resumed && !cfg.init.is_empty() {
        let r = init_weights(&mut arch, &cfg.init)?;
        if let Some(b) = &r.backbone {
            eprint!("init backbone: {b}");
        }
        if let Some((p, prefix)) = &r.heads {
            eprintln!("init head: {} (`{prefix}*`)", p.display());
        }
        if let Some(c) = &r.checkpoint {
            eprintln!("init from checkpoint {} (model only)", c.display());
        }
    }
    let metrics_path = out.join("metrics.jsonl");
    truncate_metrics(&metrics_path, start_iter)?;
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_path)
        .map_err(|source| TrainError::Io {
            path: metrics_path.clone(),
            source,
        })?;

    // Checkpoints without a data position predate it: every batch was full, assume no
    // failed samples.
    let start = position.unwrap_or(DataPosition {
        sampler_tasks: (start_iter * per_step * cfg.data.batch_size) as u64,
        batches: (start_iter * per_step) as u64,
    });
    let mut loader = build_loader_at(cfg, start)?;
    let (mut delivered, mut batches) = (0u64, 0u64);
    let end = cfg.max_iters().min(stop_at.unwrap_or(usize::MAX));
    let mut summary = RunSummary {
        start_iter,
        steps: Vec::new(),
        sample_ids: Vec::new(),
        checkpoints: Vec::new(),
        mean_step_s: 0.0,
    };
    let mut time = 0.0;
    let bar = progress_bar(start_iter, end);
    let started = Instant::now();
    for it in start_iter..end {
        let mut micro = Vec::with_capacity(per_step);
        let mut ids = Vec::new();
        for _ in 0..per_step {
            let batch = next_batch(&mut loader)?;
            delivered += batch.sample_ids.len() as u64;
            batches += 1;
            ids.extend_from_slice(&batch.sample_ids);
            micro.push(batch.collated);
        }
        let t0 = Instant::now();
        let m = arch.train_step_accumulated(&micro, it)?;
        let dt = t0.elapsed().as_secs_f64();
        time += dt;
        let line = serde_json::json!({
            "iteration": m.iteration, "total_loss": m.total,
            "dino_local_crops_loss": m.dino_local, "dino_global_crops_loss": m.dino_global,
            "koleo_loss": m.koleo, "ibot_loss": m.ibot, "lr": m.lr, "wd": m.wd,
            "mom": m.momentum, "teacher_temp": m.teacher_temp,
            "grad_norm_backbone": m.grad_norm_backbone, "grad_norm_head": m.grad_norm_head,
            "step_s": dt, "sample_ids": ids,
        });
        writeln!(metrics, "{line}").map_err(|source| TrainError::Io {
            path: metrics_path.clone(),
            source,
        })?;
        let done_here = (it + 1 - start_iter) as f64;
        bar.set_message(format!(
            "loss {:.4}  lr {:.2e}  {:.1} samples/s",
            m.total,
            m.lr,
            done_here * (per_step * cfg.data.batch_size) as f64 / started.elapsed().as_secs_f64()
        ));
        bar.inc(1);
        summary.steps.push(m);
        summary.sample_ids.push(ids);
        let done = it + 1;
        let periodic = cfg.run.checkpoint_every > 0 && done % cfg.run.checkpoint_every == 0;
        if periodic || done == end {
            let data = DataPosition {
                sampler_tasks: start.sampler_tasks + delivered + loader.failures().len() as u64,
                batches: start.batches + batches,
            };
            let p = save_checkpoint(
                &arch,
                &ckpt_dir,
                done,
                cfg.run.seed,
                cfg.run.keep_last,
                Some(data),
            )?;
            summary.checkpoints.push(p);
        }
    }
    bar.finish_and_clear();
    summary.mean_step_s = time / summary.steps.len().max(1) as f64;
    drop(metrics);
    crate::plot::plot_losses(&metrics_path, &out.join("loss.png"))?;
    Ok(summary)
}

/// Iterations done / total with loss, LR, throughput and ETA on stderr (drawn only on a
/// terminal).
fn progress_bar(start: usize, end: usize) -> ProgressBar {
    let bar = ProgressBar::new(end as u64);
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} it  {msg}  eta {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_position(start as u64);
    bar.reset_eta();
    bar
}

fn next_batch(loader: &mut PretrainLoader) -> Result<panopticon_data::loader::Batch> {
    loader
        .next_batch()
        .map_err(|e| TrainError::Data(e.to_string()))?
        .ok_or_else(|| TrainError::Data("the infinite loader ended".into()))
}

/// The loader of the `[data]` section (FMoW, Satlas, MMEarth, SpectralEarth, concatenated), from the
/// start of the run.
pub fn build_loader(cfg: &TrainConfig) -> Result<PretrainLoader> {
    build_loader_at(
        cfg,
        DataPosition {
            sampler_tasks: 0,
            batches: 0,
        },
    )
}

/// [`build_loader`] resumed at `at`: the sampler skips `at.sampler_tasks` tasks (no data is
/// loaded for them) and the next batch is numbered `at.batches`.
pub fn build_loader_at(cfg: &TrainConfig, at: DataPosition) -> Result<PretrainLoader> {
    let d = &cfg.data;
    let data_err = |e: &dyn std::fmt::Display| TrainError::Data(e.to_string());
    let mut parts: Vec<Box<dyn PretrainSource>> = Vec::new();
    // Upstream's stage-2 order: ConcatDataset[FMoW, Satlas, MMEarth, SpectralEarth].
    if let Some(root) = &d.fmow_root {
        let split = match d.fmow_split.as_deref() {
            None | Some("train_val_clean") => FmowSplit::TrainValClean,
            Some("train") => FmowSplit::Train,
            Some("val") => FmowSplit::Val,
            Some(path) => FmowSplit::Path(path.into()),
        };
        let fmow = Fmow::open(
            root,
            FmowConfig {
                split,
                max_crop: Some(d.fmow_max_crop.unwrap_or(256)),
                // Into the run, not next to the metadata: dataset folders may be read-only.
                faulty_imgs_log: FaultyImgsLog::At(cfg.run.output_dir.join("fmow_faulty_imgs.txt")),
                ..FmowConfig::default()
            },
        )
        .map_err(|e| data_err(&e))?;
        parts.push(match d.fmow_subset {
            Some(n) => Box::new(
                Subset::new(fmow, SubsetSize::Count(n), cfg.run.seed).map_err(|e| data_err(&e))?,
            ),
            None => Box::new(fmow),
        });
    }
    match (&d.satlas_root, &d.satlas_metadata) {
        (Some(root), Some(meta)) => parts.push(Box::new(
            Satlas::open(root, meta, SatlasConfig::default()).map_err(|e| data_err(&e))?,
        )),
        (None, None) => {}
        _ => {
            return Err(TrainError::Config {
                key: "data.satlas_root",
                value: format!("{:?} / {:?}", d.satlas_root, d.satlas_metadata),
                hint: "set both satlas_root and satlas_metadata, or neither",
            });
        }
    }
    if let Some(base) = &d.mmearth {
        parts.push(Box::new(
            Mmearth::open(base, MmearthConfig::default()).map_err(|e| data_err(&e))?,
        ));
    }
    if let Some(root) = &d.spectral_earth {
        parts.push(Box::new(
            SpectralEarth::open(root).map_err(|e| data_err(&e))?,
        ));
    }
    if parts.is_empty() {
        return Err(TrainError::Config {
            key: "data",
            value: "no dataset".into(),
            hint: "set fmow_root, satlas_root + satlas_metadata, mmearth and/or spectral_earth",
        });
    }
    let source = ConcatDataset::new(parts).map_err(|e| data_err(&e))?;
    let base = PanopticonAugmentationConfig::stage2();
    let aug = PanopticonAugmentation::new(PanopticonAugmentationConfig {
        global: CropSetConfig {
            size: d.global_size,
            spectral_size: (d.global_channels[0], d.global_channels[1]),
            ..base.global
        },
        local: CropSetConfig {
            number: d.n_local,
            size: d.local_size,
            spectral_size: (d.local_channels[0], d.local_channels[1]),
            ..base.local
        },
        ..base
    })
    .map_err(|e| data_err(&e))?;
    let patch = cfg.backbone()?.patch_size;
    if !d.global_size.is_multiple_of(patch) {
        return Err(TrainError::Config {
            key: "data.global_size",
            value: d.global_size.to_string(),
            hint: "use a multiple of the model patch size",
        });
    }
    let generator = MaskingGenerator::for_grid(d.global_size / patch).map_err(|e| data_err(&e))?;
    PretrainLoader::new(
        source,
        aug,
        LoaderConfig {
            workers: d.workers.max(1),
            prefetch: 2 * d.batch_size.max(1),
            batch_size: d.batch_size,
            seed: cfg.run.seed,
            rank: 0,
            world: 1,
            max_failures: d.max_failures,
            log_failures: false,
            sampling: Sampling::Infinite {
                seed: cfg.run.seed,
                advance: at.sampler_tasks,
            },
        },
        IbotMaskConfig::default(),
        generator,
    )
    .map(|l| l.with_first_batch_number(at.batches))
    .map_err(|e| data_err(&e))
}

/// Drops metric lines of iterations ≥ `from` (a resumed run rewrites them).
fn truncate_metrics(path: &Path, from: usize) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|source| TrainError::Io {
        path: path.into(),
        source,
    })?;
    let kept: String = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["iteration"].as_u64())
                .is_some_and(|i| (i as usize) < from)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    crate::checkpoint::write_atomic(path, &kept)
}
