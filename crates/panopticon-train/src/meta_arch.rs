//! [`SslMetaArch`]: student + EMA teacher and one `forward_backward` iteration (spec §3.2–3.4,
//! §3.7–3.10).

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use panopticon_data::augment::{Collated, CropTensors};
use panopticon_model::{DinoHead, DinoHeadConfig, Panopticon, PanopticonConfig, PanopticonInput};

use crate::error::{Result, TrainError};
use crate::{
    AdamW, AdamWConfig, Centering, DinoLoss, FreezeEpoch, IbotPatchLoss, ParamGroupConfig,
    Schedules, clip_grad_norm, ema_update, gather_masked, koleo_loss, torch_param_name,
};

/// The trainable sub-modules of one side (student or teacher), named as upstream's ModuleDict.
#[derive(Module, Debug)]
pub struct SslModules {
    /// The ViT backbone (unfolded literal path while training).
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
        })
    }

    /// The (autodiff) training device.
    pub fn device(&self) -> &Device {
        &self.device
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
    /// the summed gradient.
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
    /// the summed gradients of the `N` micro-batches (each loss divided by `N`), and the centre
    /// statistics left pending for the next step. Nothing is stepped.
    pub fn forward_backward(
        &mut self,
        micro: &[Collated],
        it: usize,
    ) -> Result<(GradientsParams, StepLosses)> {
        if micro.is_empty() {
            return Err(TrainError::Config {
                key: "optim.gradient_accumulation_steps",
                value: "0 micro-batches".into(),
                hint: "pass at least one micro-batch per optimizer step",
            });
        }
        let temp = self.schedules.teacher_temp.at(it);
        let scale = 1.0 / micro.len() as f64;
        // The previous step's centre statistics enter now; within this step the centre is fixed.
        self.dino_loss.center.apply_pending();
        self.ibot_loss.center.apply_pending();
        let mut acc = GradientsAccumulator::<SslModules>::new();
        let mut sums = [0.0f64; 5];
        let mut dino_stats: Vec<(Tensor<2>, usize)> = Vec::new();
        let mut ibot_stats: Vec<(Tensor<2>, usize)> = Vec::new();
        for batch in micro {
            let out = self.micro_step(batch, temp, scale, it)?;
            acc.accumulate(&self.student, out.grads);
            for (s, v) in sums.iter_mut().zip(out.values) {
                *s += v * scale;
            }
            if let Some(stat) = self.dino_loss.center.pending() {
                dino_stats.push((stat, out.cls_rows));
            }
            if let Some(stat) = self.ibot_loss.center.pending() {
                ibot_stats.push((stat, 1));
            }
            self.dino_loss.center.set_pending(None);
            self.ibot_loss.center.set_pending(None);
        }
        // Row-weighted DINO statistic; plain mean of the iBOT per-micro-batch means.
        self.dino_loss.center.set_pending(weighted_mean(dino_stats));
        self.ibot_loss.center.set_pending(weighted_mean(ibot_stats));

        let [total, dino_local, dino_global, koleo, ibot] = sums;
        Ok((
            acc.grads(),
            StepLosses {
                total,
                dino_local,
                dino_global,
                koleo,
                ibot,
            },
        ))
    }

    /// Forward and backward of one micro-batch with the loss scaled by `scale`; leaves this
    /// micro-batch's centre statistics pending. Values: `[total, dino_local, dino_global,
    /// koleo, ibot]` unscaled.
    fn micro_step(
        &mut self,
        batch: &Collated,
        temp: f64,
        scale: f64,
        it: usize,
    ) -> Result<MicroOut> {
        let inner = self.device.clone().inner();
        let c = &self.config;
        let n_global = batch.global.n;
        if n_global < 2 || !n_global.is_multiple_of(2) {
            return Err(TrainError::Shape {
                what: "global crops",
                expected: "2·B rows (two global crops per sample)".into(),
                got: vec![n_global],
            });
        }
        let b = n_global / 2;
        if !batch.local.n.is_multiple_of(b) {
            return Err(TrainError::Shape {
                what: "local crops",
                expected: format!("n_local·B rows with B = {b}"),
                got: vec![batch.local.n],
            });
        }
        let n_local = batch.local.n / b;
        let use_ibot = c.ibot_loss_weight > 0.0 && batch.masks.n_masked_patches() > 0;
        let model_err = |e: panopticon_model::PanopticonError| TrainError::Model(e.to_string());

        // Teacher (no grad, inner device).
        let tb = batch.to_tensors(&inner);
        let t_out = self
            .teacher
            .backbone
            .forward_features(&input(tb.global), None)
            .map_err(model_err)?;
        let cls = t_out.x_norm_clstoken;
        let swapped = Tensor::cat(vec![cls.clone().narrow(0, b, b), cls.narrow(0, 0, b)], 0);
        let (t_cls_logits, t_patch_logits) = if use_ibot {
            let patches = gather_masked(t_out.x_norm_patchtokens, &batch.masks)?;
            match &self.teacher.ibot_head {
                Some(h) => (
                    self.teacher.dino_head.forward(swapped),
                    Some(h.forward(patches)),
                ),
                None => {
                    let m = patches.dims()[0];
                    let all = self
                        .teacher
                        .dino_head
                        .forward(Tensor::cat(vec![swapped, patches], 0));
                    (
                        all.clone().narrow(0, 0, 2 * b),
                        Some(all.narrow(0, 2 * b, m)),
                    )
                }
            }
        } else {
            (self.teacher.dino_head.forward(swapped), None)
        };
        let t_cls_probs = self
            .dino_loss
            .teacher_targets(t_cls_logits, temp)?
            .detach()
            .autodiff();
        let t_patch_probs = match t_patch_logits {
            Some(l) => Some(self.ibot_loss.teacher_targets(l, temp)?.detach().autodiff()),
            None => None,
        };

        // Student (autodiff device).
        let sb = batch.to_tensors(&self.device);
        let masks = use_ibot.then(|| sb.masks.clone());
        let g_out = self
            .student
            .backbone
            .forward_features(&input(sb.global), masks)
            .map_err(model_err)?;
        let s_global = self
            .student
            .dino_head
            .forward(g_out.x_norm_clstoken.clone());
        let s_local = if n_local > 0 {
            let l_out = self
                .student
                .backbone
                .forward_features(&input(sb.local), None)
                .map_err(model_err)?;
            Some(self.student.dino_head.forward(l_out.x_norm_clstoken))
        } else {
            None
        };
        let terms = DinoLoss::crop_terms(s_local, s_global, t_cls_probs, n_local)?;
        let mut total = (terms.local.clone() + terms.global.clone()) * c.dino_loss_weight;
        let mut koleo_v = 0.0;
        if c.koleo_loss_weight > 0.0 {
            let cls = g_out.x_norm_clstoken.clone();
            let k = (koleo_loss(cls.clone().narrow(0, 0, b))? + koleo_loss(cls.narrow(0, b, b))?)
                * c.koleo_loss_weight;
            koleo_v = scalar(&k);
            total = total + k;
        }
        let mut ibot_v = 0.0;
        if let Some(t_patch_probs) = t_patch_probs {
            let s_patches = gather_masked(g_out.x_norm_patchtokens, &batch.masks)?;
            let head = self
                .student
                .ibot_head
                .as_ref()
                .unwrap_or(&self.student.dino_head);
            let s_patch = head.forward(s_patches);
            let l = IbotPatchLoss::forward_with_masks(s_patch, t_patch_probs, &batch.masks)?;
            ibot_v = scalar(&l);
            total = total + l * c.ibot_loss_weight;
        }
        let total_v = scalar(&total);
        if !total_v.is_finite() {
            return Err(TrainError::NonFinite {
                iteration: it,
                value: total_v,
            });
        }
        // `x·1.0` is exact, so a single micro-batch reproduces the unaccumulated step bit for bit.
        let scaled = if scale == 1.0 { total } else { total * scale };
        let grads = GradientsParams::from_grads(scaled.backward(), &self.student);
        Ok(MicroOut {
            grads,
            values: [
                total_v,
                scalar(&terms.local),
                scalar(&terms.global),
                koleo_v,
                ibot_v,
            ],
            cls_rows: 2 * b,
        })
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

/// What one micro-batch hands back to [`SslMetaArch::train_step_accumulated`].
struct MicroOut {
    grads: GradientsParams,
    values: [f64; 5],
    cls_rows: usize,
}

fn input(t: CropTensors) -> PanopticonInput {
    PanopticonInput::new(t.imgs, t.chn_ids).with_spec_masks(t.spec_masks)
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().detach().into_scalar::<f64>()
}
