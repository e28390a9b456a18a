//! # panopticon-train
//!
//! The numerical building blocks of Panopticon's self-supervised pre-training (DINO + iBOT +
//! KoLeo with an EMA teacher; spec §3), each checked against PyTorch references:
//!
//! * losses: [`DinoLoss`] (softmax centering with the delayed EMA centre, or Sinkhorn-Knopp),
//!   [`IbotPatchLoss`] (per-image mask weights), [`koleo_loss`];
//! * [`Schedules`]: cosine LR/WD/momentum with warm-up, freeze and hold, teacher temperature;
//! * [`ema_update`]: the teacher EMA over a module's parameters;
//! * [`ParamGroupConfig`]: layer-wise LR decay, regex LR multipliers, WD exemptions, frozen
//!   layers; [`clip_grad_norm`]: global-norm clipping; [`AdamW`]: per-parameter LR/WD steps.
//!
//! The pre-training itself:
//!
//! * [`SslMetaArch`]: student + EMA teacher (backbone, DINO head, optional iBOT head) and
//!   [`SslMetaArch::train_step`], one upstream `forward_backward` + optimizer step + EMA;
//!   [`SslMetaArch::train_step_accumulated`]: gradient accumulation over micro-batches (equal
//!   to one big batch for the batch-mean terms; see its docs for KoLeo/Sinkhorn/centre);
//! * [`TrainConfig`] (`configs/train/*.toml`, unknown keys rejected, [`TrainConfig::validate`]),
//!   [`train`]: the loop over a `PretrainLoader` with `metrics.jsonl`, a progress bar, atomic
//!   checkpoints ([`checkpoint`]) and resume that skips the sampler ahead to the exact samples;
//! * [`train_on`] / [`data_parallel`]: data parallel over several devices (`--device
//!   cuda:0,cuda:1`), gradients gathered on the first like Burn's `MultiDevice`;
//!   [`ComputeDtype`] (`run.precision`): f32 or pure bf16;
//! * [`init_weights`] (`[init]`): stage-1 DINOv2 backbone + RGB heads, stage-2 checkpoint;
//!   `configs/train/stage1.toml`, `stage2.toml` carry the spec §3.13 values;
//! * the `panopticon-train` binary: `cargo run --release -p panopticon-train -- --config
//!   configs/train/quick_check.toml [--resume]`.
//!
//! Library code takes a `&Device` and never names a backend.
#![warn(missing_docs)]

mod adamw;
mod centering;
pub mod checkpoint;
mod clip;
mod compute_dtype;
pub mod config;
pub mod data_parallel;
mod dino_loss;
mod ema;
mod error;
mod ibot_loss;
mod init;
mod koleo;
mod meta_arch;
mod micro_batch;
mod param_groups;
mod plot;
mod replica;
pub mod rotation;
pub mod run;
mod schedule;

pub use adamw::{AdamState, AdamW, AdamWConfig, StepHyper};
pub use centering::{CENTER_MOMENTUM, Center, Centering, SINKHORN_ITERATIONS, sinkhorn_knopp};
pub use checkpoint::{load_checkpoint, load_model_state, save_checkpoint};
pub use clip::{CLIP_EPS, clip_grad_norm};
pub use compute_dtype::{ComputeDtype, configure_compute_dtype};
pub use config::TrainConfig;
pub use data_parallel::parse_devices;
pub use dino_loss::{DinoLoss, DinoTerms, STUDENT_TEMP, cross_entropy_sum};
pub use ema::{ema_tensor, ema_update};
pub use error::{Result, TrainError};
pub use ibot_loss::{IbotPatchLoss, gather_masked};
pub use init::{InitReport, InitSection, init_weights};
pub use koleo::{KOLEO_EPS, koleo_loss};
pub use meta_arch::{MetaArchConfig, SslMetaArch, SslModules, StepLosses, StepMetrics};
pub use micro_batch::split_batch;
pub use param_groups::{
    ParamGroupConfig, ParamRule, RegexRules, torch_param_name, vit_lr_decay_rate,
};
pub use plot::plot_losses;
pub use run::{RunSummary, train, train_on};
pub use schedule::{CosineSchedule, FreezeEpoch, Phases, ScheduleConfig, Schedules};
