//! [`SslMetaArch`]: student + EMA teacher and one `forward_backward` iteration (spec §3.2–3.4,
//! §3.7–3.10).

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use panopticon_data::augment::Collated;
use panopticon_model::{DinoHead, DinoHeadConfig, Panopticon, PanopticonConfig};

use crate::error::{Result, TrainError};
use crate::replica::{self, Replica, StepInputs};
use crate::{
    AdamW, AdamWConfig, Centering, DinoLoss, FreezeEpoch, IbotPatchLoss, ParamGroupConfig,
    Schedules, clip_grad_norm, ema_update, torch_param_name,
};

/// The trainable sub-modules of one side (student or teacher), named as upstream's ModuleDict.
#[derive(Module, Debug)]
pub struct SslModules {
    /// The ViT backbone (the trainable model).
    pub backbone: Panopticon,
    /// The DINO head (shared with iBOT unless `ibot_head` is set).
    pub dino_head: DinoHead,
    /// Separate iBOT head (`ibot.separate_head`; off in every Panopticon config).
    pub ibot_head: Option<DinoHead>,
}

/// Loss weights and switches of [`SslMetaArch`] (spec §3.13 names).
#[derive(Debug, Clone)]
pub struct MetaArchConfig {
    /// Backbone config.
    pub model: PanopticonConfig,
    /// DINO head sizes (`in_dim` must equal the backbone width).
    pub head: DinoHeadConfig,
    /// Separate iBOT head sizes (`ibot.separate_head`), `None` = shared head.
    pub ibot_head: Option<DinoHeadConfig>,
    /// `dino.loss_weight`.
    pub dino_loss_weight: f64,
    /// `ibot.loss_weight` (0 disables iBOT and the student masking).
    pub ibot_loss_weight: f64,
    /// `dino.koleo_loss_weight`.
    pub koleo_loss_weight: f64,
    /// `optim.clip_grad` (per sub-module global norm; ≤ 0 disables).
    pub clip_grad: f64,
    /// `train.centering`.
    pub centering: Centering,
    /// Which epoch the `freeze_weights` rule sees.
    pub freeze: FreezeEpoch,
}

impl MetaArchConfig {
    /// Stage-config losses (DINO 1, iBOT 1, KoLeo 0, clip 3, softmax centering) for `model`
    /// with a head of `k` prototypes, `hidden` hidden and `bottleneck` bottleneck units.
    pub fn new(model: PanopticonConfig, k: usize, hidden: usize, bottleneck: usize) -> Self {
        let head = DinoHeadConfig::new(model.embed_dim)
            .with_out_dim(k)
            .with_hidden_dim(hidden)
            .with_bottleneck_dim(bottleneck);
        Self {
            model,
            head,
            ibot_head: None,
            dino_loss_weight: 1.0,
            ibot_loss_weight: 1.0,
            koleo_loss_weight: 0.0,
            clip_grad: 3.0,
            centering: Centering::Softmax,
            freeze: FreezeEpoch::PerIteration,
        }
    }
}

/// Loss values of one optimizer step (means over its micro-batches).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLosses {
    /// Total backprop loss.
    pub total: f64,
    /// `dino_local_crops_loss`.
    pub dino_local: f64,
    /// `dino_global_crops_loss`.
    pub dino_global: f64,
    /// `L_koleo` (weighted).
    pub koleo: f64,
    /// `L_ibot` (unweighted).
    pub ibot: f64,
}

/// Values of one iteration (logged per step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepMetrics {
    /// Global iteration.
    pub iteration: usize,
    /// Total backprop loss.
    pub total: f64,
    /// `dino_local_crops_loss`.
    pub dino_local: f64,
    /// `dino_global_crops_loss`.
    pub dino_global: f64,
    /// `L_koleo` (weighted).
    pub koleo: f64,
    /// `L_ibot` (unweighted).
    pub ibot: f64,
    /// Base LR of the iteration.
    pub lr: f64,
    /// Base weight decay of the iteration.
    pub wd: f64,
    /// Teacher momentum.
    pub momentum: f64,
    /// Teacher temperature.
    pub teacher_temp: f64,
    /// Backbone gradient norm before clipping.
    pub grad_norm_backbone: f64,
    /// DINO head gradient norm before clipping.
    pub grad_norm_head: f64,
}

/// Student, EMA teacher, loss centres and optimizer of self-supervised pre-training.
pub struct SslMetaArch {
    /// Trainable student (autodiff device).
    pub student: SslModules,
    /// EMA teacher (inner, non-autodiff device; never receives gradients).
    pub teacher: SslModules,
    /// DINO loss (holds the cls centre).
    pub dino_loss: DinoLoss,
    /// iBOT loss (holds the patch centre).
    pub ibot_loss: IbotPatchLoss,
    /// AdamW moments.
    pub optim: AdamW,
    /// Schedules.
    pub schedules: Schedules,
    /// Parameter-group rules.
    pub rules: ParamGroupConfig,
    /// Settings.
    pub config: MetaArchConfig,
    device: Device,
    /// Replica devices (data parallel), `devices[0] == device`.
    devices: Vec<Device>,
}

impl SslMetaArch {
    /// Builds student and teacher (teacher = copy of the student) on `device` (an autodiff
    /// device, e.g. `Device::default().autodiff()`).
    pub fn new(
        config: MetaArchConfig,
        schedules: Schedules,
        rules: ParamGroupConfig,
        device: &Device,
    ) -> Result<Self> {
        if config.head.in_dim != config.model.embed_dim {
            return Err(TrainError::Config {
                key: "dino.head",
                value: config.head.in_dim.to_string(),
                hint: "the head input width must equal the backbone embed_dim",
            });
        }
        let model_err = |e: panopticon_model::PanopticonError| TrainError::Model(e.to_string());
        let student = SslModules {
            backbone: config.model.init(device).map_err(model_err)?,
            dino_head: config.head.init(device).map_err(model_err)?,
            ibot_head: match &config.ibot_head {
                Some(c) => Some(c.init(device).map_err(model_err)?),
                None => None,
            },
        };
        // `valid()` materialises a detached copy with the same ParamIds (see notes §6.2).
        let teacher = student.valid();
        let k = config.head.out_dim;
        let k_ibot = config.ibot_head.as_ref().map_or(k, |c| c.out_dim);
        Ok(Self {
            student,
            teacher,
            dino_loss: DinoLoss::new(k, config.centering, device),
            ibot_loss: IbotPatchLoss::new(k_ibot, config.centering, device),
            optim: AdamW::new(AdamWConfig::default()),
            schedules,
            rules,
            config,
            device: device.clone(),
            devices: vec![device.clone()],
        })
    }

    /// Data parallel over `devices` (autodiff devices; the first must be the main device this
    /// was built on, which holds the parameters, optimizer state and centres). Each step then
    /// runs one replica per device; see [`crate::data_parallel`].
    pub fn with_devices(mut self, devices: &[Device]) -> Result<Self> {
        match devices.first() {
            Some(first) if *first == self.device => {
                self.devices = devices.to_vec();
                Ok(self)
            }
            _ => Err(TrainError::Config {
                key: "--device",
                value: format!("{devices:?}"),
                hint: "list the main (first) device first; at least one device",
            }),
        }
    }

    /// The main (autodiff) training device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The replica devices, main device first (one entry without data parallel).
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// One iteration on a collated batch: teacher targets, student forward, losses, backward,
    /// per-sub-module clipping, AdamW with the scheduled LR/WD, teacher EMA.
    pub fn train_step(&mut self, batch: &Collated, it: usize) -> Result<StepMetrics> {
        self.train_step_accumulated(std::slice::from_ref(batch), it)
    }

    /// One optimizer step over `micro` batches (gradient accumulation, spec §3.10): each
    /// micro-batch's loss is divided by `N = micro.len()` and back-propagated on its own (only
    /// one graph is alive at a time), the gradients are summed, then clipped once, stepped once
    /// and the teacher EMA runs once. `it` is the optimizer step; the schedules advance per step.
    ///
    /// Equal-size micro-batches of `B` samples give the gradient of one `N·B` batch for every
    /// batch-mean term (DINO local/global cross-entropies, iBOT's per-image mean): all
    /// micro-batches see the same teacher, the same teacher temperature and the same centre.
    /// What differs from one big batch, by construction:
    ///
    /// * **centre update**: DINO's statistic is the row-weighted mean over all micro-batches
    ///   (equal to the big batch's); iBOT's is the mean of the per-micro-batch means over the
    ///   masked patches, which is upstream's data-parallel rule (mean of per-rank means) and
    ///   differs from a single big batch's mean over all `M` patches when the micro-batches
    ///   mask different numbers of patches. Either way it is applied at the next step.
    /// * **KoLeo**: nearest neighbours are searched within each micro-batch (as upstream does
    ///   per rank), so the term is not the big batch's.
    /// * **Sinkhorn-Knopp** targets normalise over each micro-batch's rows, not the big batch's
    ///   (upstream all-reduces them across ranks; configs use softmax centering).
    /// * the iBOT masks are sampled per micro-batch (`int(2B·0.5)` masked images each).
    ///
    /// Upstream instead counts every micro-batch as an iteration (schedules and EMA advance per
    /// micro-batch, the centre updates per micro-batch); all Panopticon configs use `N = 1`,
    /// where both agree. Metrics are the means over the micro-batches; grad norms are those of
    /// the summed gradient. With replica devices ([`Self::with_devices`]) the `N` micro-batches
    /// are split replica-major over them and run concurrently; the result is the same sum
    /// (bit for bit with one micro-batch per replica).
    pub fn train_step_accumulated(&mut self, micro: &[Collated], it: usize) -> Result<StepMetrics> {
        let (mut grads, losses) = self.forward_backward(micro, it)?;
        let c = self.config.clone();
        let temp = self.schedules.teacher_temp.at(it);
        // Clip per sub-module, AdamW, EMA.
        let (gn_bb, gn_head) = if c.clip_grad > 0.0 {
            let a = clip_grad_norm(&self.student.backbone, &mut grads, c.clip_grad);
            let h = clip_grad_norm(&self.student.dino_head, &mut grads, c.clip_grad);
            if let Some(ih) = &self.student.ibot_head {
                clip_grad_norm(ih, &mut grads, c.clip_grad);
            }
            (a, h)
        } else {
            (f64::NAN, f64::NAN)
        };
        let SslModules {
            backbone,
            dino_head,
            ibot_head,
        } = self.student.clone();
        let (sched, rules, freeze) = (&self.schedules, &self.rules, c.freeze);
        let hyper = |prefix: &'static str| {
            move |path: &str| {
                let rule = rules.rule(&torch_param_name(prefix, path));
                sched.step_hyper(&rule, it, freeze)
            }
        };
        let backbone = self.optim.step(backbone, &mut grads, hyper("backbone"));
        let dino_head = self.optim.step(dino_head, &mut grads, hyper("dino_head"));
        let ibot_head = ibot_head.map(|h| self.optim.step(h, &mut grads, hyper("ibot_head")));
        self.student = SslModules {
            backbone,
            dino_head,
            ibot_head,
        };
        let momentum = self.schedules.momentum.at(it);
        let teacher = self.teacher.clone();
        self.teacher = ema_update(teacher, &self.student, momentum)?;

        Ok(StepMetrics {
            iteration: it,
            total: losses.total,
            dino_local: losses.dino_local,
            dino_global: losses.dino_global,
            koleo: losses.koleo,
            ibot: losses.ibot,
            lr: self.schedules.lr.at(it),
            wd: self.schedules.wd.at(it),
            momentum,
            teacher_temp: temp,
            grad_norm_backbone: gn_bb,
            grad_norm_head: gn_head,
        })
    }

    /// The accumulation half of [`Self::train_step_accumulated`]: teacher targets, losses and
    /// the summed gradients of the micro-batches (each loss divided by `micro.len()`), and the
    /// centre statistics left pending for the next step. Nothing is stepped.
    ///
    /// With several replica devices ([`Self::with_devices`]) `micro` is replica-major:
    /// replica `r` runs `micro[r·A..(r+1)·A]` (`A = micro.len() / replicas`) in its own thread
    /// (see [`crate::data_parallel`]).
    pub fn forward_backward(
        &mut self,
        micro: &[Collated],
        it: usize,
    ) -> Result<(GradientsParams, StepLosses)> {
        let n = self.devices.len();
        if micro.is_empty() || !micro.len().is_multiple_of(n) {
            return Err(TrainError::Config {
                key: "optim.gradient_accumulation_steps",
                value: format!("{} micro-batches for {n} devices", micro.len()),
                hint: "pass the same number (≥ 1) of micro-batches to every replica device",
            });
        }
        // The previous step's centre statistics enter now; within this step the centre is fixed.
        self.dino_loss.center.apply_pending();
        self.ibot_loss.center.apply_pending();
        let step = StepInputs {
            config: &self.config,
            temp: self.schedules.teacher_temp.at(it),
            scale: 1.0 / micro.len() as f64,
            it,
        };
        let main = Replica {
            student: self.student.clone(),
            teacher: self.teacher.clone(),
            dino_center: self.dino_loss.center.clone(),
            ibot_center: self.ibot_loss.center.clone(),
            device: self.device.clone(),
        };
        let out = if n == 1 {
            replica::forward_backward(&main, micro, step)?
        } else {
            crate::data_parallel::run_replicas(&main, &self.devices, micro, step)?
        };
        // Row-weighted DINO statistic; plain mean of the iBOT per-micro-batch means.
        self.dino_loss
            .center
            .set_pending(weighted_mean(out.dino_stats));
        self.ibot_loss
            .center
            .set_pending(weighted_mean(out.ibot_stats));
        let [total, dino_local, dino_global, koleo, ibot] = out.sums;
        Ok((
            out.grads,
            StepLosses {
                total,
                dino_local,
                dino_global,
                koleo,
                ibot,
            },
        ))
    }
}

/// `Σ wᵢ·xᵢ / Σ wᵢ`; a single entry is returned untouched (bit-exact `N = 1`).
fn weighted_mean(stats: Vec<(Tensor<2>, usize)>) -> Option<Tensor<2>> {
    if stats.len() <= 1 {
        return stats.into_iter().next().map(|(s, _)| s);
    }
    let n: usize = stats.iter().map(|(_, w)| w).sum();
    let sum = stats
        .into_iter()
        .map(|(s, w)| s * w as f64)
        .reduce(|a, b| a + b)?;
    Some(sum / n as f64)
}
