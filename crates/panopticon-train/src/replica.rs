//! One replica's share of an optimizer step: teacher targets, student forward, losses and the
//! accumulated gradients of its micro-batches, computed from read-only state so data-parallel
//! replicas can run concurrently (spec §3.4, §3.10).

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use panopticon_data::augment::{Collated, CropBatch};
use panopticon_model::{ChannelIds, PanopticonError, PanopticonInput};

use crate::error::{Result, TrainError};
use crate::{
    Center, DinoLoss, IbotPatchLoss, MetaArchConfig, SslModules, gather_masked, koleo_loss,
};

/// What one replica reads during a step: the models and centres on its device. Nothing is
/// written; the centre statistics come back in [`ReplicaOut`].
#[derive(Clone)]
pub(crate) struct Replica {
    /// Student on the replica's autodiff device (the main student, or a fork of it with the
    /// same `ParamId`s so its gradients key into the main optimizer state).
    pub student: SslModules,
    /// Teacher on the replica's inner (non-autodiff) device.
    pub teacher: SslModules,
    /// DINO centre of this step (its pending statistic already applied).
    pub dino_center: Center,
    /// iBOT centre of this step.
    pub ibot_center: Center,
    /// The replica's autodiff device.
    pub device: Device,
}

/// Per-step values every replica shares.
#[derive(Clone, Copy)]
pub(crate) struct StepInputs<'a> {
    /// Loss weights, centering mode.
    pub config: &'a MetaArchConfig,
    /// Teacher temperature of the step.
    pub temp: f64,
    /// Factor of every micro-batch loss: `1 / (replicas · accumulation)`.
    pub scale: f64,
    /// Optimizer step (for error messages).
    pub it: usize,
}

/// A replica's result: summed gradients, `scale`-weighted loss sums and the per-micro-batch
/// centre statistics with their row weights, in micro-batch order.
pub(crate) struct ReplicaOut {
    /// `Σ` of the micro-batch gradients, on the replica's device.
    pub grads: GradientsParams,
    /// `Σ scale·[total, dino_local, dino_global, koleo, ibot]`.
    pub sums: [f64; 5],
    /// DINO statistics `[1, K]` and their `2B` rows.
    pub dino_stats: Vec<(Tensor<2>, usize)>,
    /// iBOT statistics `[1, K]` (weight 1 each: a mean of means).
    pub ibot_stats: Vec<(Tensor<2>, usize)>,
}

/// Forward and backward of `micro` in order (one graph alive at a time), gradients summed.
pub(crate) fn forward_backward(
    replica: &Replica,
    micro: &[Collated],
    step: StepInputs<'_>,
) -> Result<ReplicaOut> {
    let mut acc = GradientsAccumulator::<SslModules>::new();
    let mut out = ReplicaOut {
        grads: GradientsParams::new(),
        sums: [0.0; 5],
        dino_stats: Vec::new(),
        ibot_stats: Vec::new(),
    };
    for batch in micro {
        let m = micro_step(replica, batch, step)?;
        acc.accumulate(&replica.student, m.grads);
        for (s, v) in out.sums.iter_mut().zip(m.values) {
            *s += v * step.scale;
        }
        if let Some(stat) = m.dino_stat {
            out.dino_stats.push((stat, m.cls_rows));
        }
        if let Some(stat) = m.ibot_stat {
            out.ibot_stats.push((stat, 1));
        }
    }
    out.grads = acc.grads();
    Ok(out)
}

/// What one micro-batch hands back.
struct MicroOut {
    grads: GradientsParams,
    /// `[total, dino_local, dino_global, koleo, ibot]`, unscaled.
    values: [f64; 5],
    cls_rows: usize,
    dino_stat: Option<Tensor<2>>,
    ibot_stat: Option<Tensor<2>>,
}

/// Forward and backward of one micro-batch with the loss scaled by `step.scale`.
fn micro_step(r: &Replica, batch: &Collated, step: StepInputs<'_>) -> Result<MicroOut> {
    let StepInputs {
        config: c,
        temp,
        scale,
        it,
    } = step;
    let inner = r.device.clone().inner();
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
    let t_out = r
        .teacher
        .backbone
        .forward_features(&input(&batch.global, &inner).map_err(model_err)?, None)
        .map_err(model_err)?;
    let cls = t_out.x_norm_clstoken;
    let swapped = Tensor::cat(vec![cls.clone().narrow(0, b, b), cls.narrow(0, 0, b)], 0);
    let (t_cls_logits, t_patch_logits) = if use_ibot {
        let patches = gather_masked(t_out.x_norm_patchtokens, &batch.masks)?;
        match &r.teacher.ibot_head {
            Some(h) => (
                r.teacher.dino_head.forward(swapped),
                Some(h.forward(patches)),
            ),
            None => {
                let m = patches.dims()[0];
                let all = r
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
        (r.teacher.dino_head.forward(swapped), None)
    };
    let (t_cls_probs, dino_stat) = r.dino_center.targets(c.centering, t_cls_logits, temp)?;
    let t_cls_probs = t_cls_probs.detach().autodiff();
    let (t_patch_probs, ibot_stat) = match t_patch_logits {
        Some(l) => {
            let (p, stat) = r.ibot_center.targets(c.centering, l, temp)?;
            (Some(p.detach().autodiff()), stat)
        }
        None => (None, None),
    };

    // Student (autodiff device).
    let masks = use_ibot.then(|| {
        let m = &batch.masks;
        let data = TensorData::new(m.masks.clone(), [m.n_images, m.n_tokens]);
        Tensor::<2, Bool>::from_data(data, &r.device)
    });
    let g_out = r
        .student
        .backbone
        .forward_features(&input(&batch.global, &r.device).map_err(model_err)?, masks)
        .map_err(model_err)?;
    let s_global = r.student.dino_head.forward(g_out.x_norm_clstoken.clone());
    let s_local = if n_local > 0 {
        let l_out = r
            .student
            .backbone
            .forward_features(&input(&batch.local, &r.device).map_err(model_err)?, None)
            .map_err(model_err)?;
        Some(r.student.dino_head.forward(l_out.x_norm_clstoken))
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
        let head = r.student.ibot_head.as_ref().unwrap_or(&r.student.dino_head);
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
    let grads = GradientsParams::from_grads(scaled.backward(), &r.student);
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
        dino_stat,
        ibot_stat,
    })
}

/// A crop set as model input: checked on the host, uploaded to `device` once.
fn input(
    crops: &CropBatch,
    device: &Device,
) -> std::result::Result<PanopticonInput, PanopticonError> {
    let (n, c, s) = (crops.n, crops.channels, crops.size);
    let ids = ChannelIds::new(crops.chn_ids.clone(), n, c)?;
    let masks = Some(crops.spec_masks.clone());
    PanopticonInput::from_host(crops.imgs.clone(), [n, c, s, s], ids, masks, device)
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().detach().into_scalar::<f64>()
}
