//! Data parallel over several devices of one node (`--device cuda:0,cuda:1`), the equivalent
//! of burn-train's `MultiDevice` + `OptimMainDevice` strategy for our custom loop.
//!
//! Every step, replica `r` gets the student forked onto its device (own autodiff leaves, the
//! same `ParamId`s) and the teacher and centres copied there; replica 0 *is* the main model,
//! and a replica on the main device shares its parameter storage (no copy). Each replica runs
//! its micro-batches concurrently in its own thread, its gradients are moved to the main
//! device and summed **in replica order** (deterministic), then clipping, AdamW and the
//! teacher EMA run once on the main device. Forking at the start of every step is the
//! "refresh after each optimizer step + EMA".
//!
//! Semantics follow upstream DDP (`batch_size_per_gpu`, gradients averaged over ranks): every
//! micro-batch loss is scaled by `1 / (replicas · accumulation)`; the DINO centre statistic is
//! the row-weighted mean over all replicas (upstream's all-reduce), the iBOT one the mean of
//! the per-micro-batch means (= mean of per-rank means without accumulation); KoLeo and
//! Sinkhorn-Knopp run per micro-batch, i.e. per replica (upstream all-reduces Sinkhorn's
//! normalisers across ranks; no Panopticon config uses it).
//!
//! Burn's NCCL all-reduce strategy (`ExecutionStrategy::ddp`) is not used: it belongs to the
//! `Learner`, and Flex/wgpu implement no `DistributedOps`.

use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use panopticon_data::augment::Collated;
use panopticon_model::device::parse_device;

use crate::SslModules;
use crate::error::{Result, TrainError};
use crate::replica::{self, Replica, ReplicaOut, StepInputs};

/// Parses a `--device` list: `cpu`, `cuda:0,cuda:1`, `cpu,cpu` (two replicas on the one CPU
/// device), … Every entry must name the same backend.
pub fn parse_devices(spec: &str) -> Result<Vec<Device>> {
    let bad = |reason: String| TrainError::DeviceList {
        list: spec.to_string(),
        reason,
    };
    let entries: Vec<&str> = spec.split(',').map(str::trim).collect();
    if let Some(i) = entries.iter().position(|e| e.is_empty()) {
        return Err(bad(format!("entry {i} is empty")));
    }
    let kinds: Vec<&str> = entries.iter().map(|e| backend_of(e)).collect();
    if let Some(other) = kinds.iter().find(|k| **k != kinds[0]) {
        return Err(bad(format!(
            "mixes the `{}` and `{other}` backends; replicas must share one backend",
            kinds[0]
        )));
    }
    entries
        .iter()
        .map(|e| parse_device(e).map_err(TrainError::from))
        .collect()
}

/// The backend family of one `--device` entry (unknown names are left to `parse_device`).
fn backend_of(entry: &str) -> &str {
    match entry.to_ascii_lowercase().as_str() {
        "cpu" | "flex" => "cpu",
        "wgpu" | "vulkan" => "wgpu",
        e if e.starts_with("cuda") => "cuda",
        _ => entry,
    }
}

/// Runs replica `r` on `devices[r]` over `micro[r·A..(r+1)·A]` in its own thread and gathers
/// the results on the main replica's device.
pub(crate) fn run_replicas(
    main: &Replica,
    devices: &[Device],
    micro: &[Collated],
    step: StepInputs<'_>,
) -> Result<ReplicaOut> {
    let per = micro.len() / devices.len();
    let results: Vec<std::thread::Result<Result<ReplicaOut>>> = std::thread::scope(|s| {
        let handles: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(r, dev)| {
                let main = main.clone();
                let part = &micro[r * per..(r + 1) * per];
                s.spawn(move || {
                    let replica = if r == 0 { main } else { fork(main, dev) };
                    replica::forward_backward(&replica, part, step)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });

    let mut acc = GradientsAccumulator::<SslModules>::new();
    let mut out = ReplicaOut {
        grads: GradientsParams::new(),
        sums: [0.0; 5],
        dino_stats: Vec::new(),
        ibot_stats: Vec::new(),
    };
    let home = |t: Tensor<2>, dev: &Device| {
        if *dev == main.device {
            t
        } else {
            t.to_device(&main.device)
        }
    };
    for (r, (result, dev)) in results.into_iter().zip(devices).enumerate() {
        let o = result.map_err(|panic| TrainError::Replica {
            index: r,
            device: format!("{dev:?}"),
            reason: panic_message(panic.as_ref()),
        })??;
        let grads = if *dev == main.device {
            o.grads
        } else {
            o.grads.to_device(&main.device, &main.student)
        };
        acc.accumulate(&main.student, grads);
        for (s, v) in out.sums.iter_mut().zip(o.sums) {
            *s += v;
        }
        out.dino_stats
            .extend(o.dino_stats.into_iter().map(|(t, w)| (home(t, dev), w)));
        out.ibot_stats
            .extend(o.ibot_stats.into_iter().map(|(t, w)| (home(t, dev), w)));
    }
    out.grads = acc.grads();
    Ok(out)
}

/// The main replica on `dev`: the student forked (new autodiff leaves, so concurrent replicas
/// build separate graphs), teacher and centres moved unless `dev` is the main device.
fn fork(main: Replica, dev: &Device) -> Replica {
    let student = main.student.fork(dev);
    if *dev == main.device {
        return Replica { student, ..main };
    }
    Replica {
        student,
        teacher: main.teacher.to_device(&dev.clone().inner()),
        dino_center: main.dino_center.to_device(dev),
        ibot_center: main.ibot_center.to_device(dev),
        device: dev.clone(),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the replica thread panicked".into())
}
