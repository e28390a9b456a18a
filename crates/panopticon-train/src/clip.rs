//! Global-norm gradient clipping with `torch.nn.utils.clip_grad_norm_` semantics (spec §3.10).

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// The eps added to the total norm before dividing (`clip_grad_norm_`).
pub const CLIP_EPS: f64 = 1e-6;

/// Clips the gradients of `module`'s parameters (only those; other entries of `grads` are
/// untouched) to a global L2 norm of `max_norm` and returns the norm before clipping.
///
/// As torch: `coef = min(max_norm / (‖g‖ + 1e-6), 1)` and every gradient is multiplied by
/// `coef` (also when it is 1). Upstream clips each student sub-module (backbone, then heads)
/// separately, so call this once per sub-module.
pub fn clip_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    let mut sq: Option<Tensor<1>> = None;
    let mut present = Vec::new();
    for (id, rank) in &ids.0 {
        if let Some(s) = grad_sq_sum(grads, *id, *rank) {
            sq = Some(match sq {
                Some(acc) => acc + s,
                None => s,
            });
            present.push((*id, *rank));
        }
    }
    // One host read for the whole sub-module.
    let total = sq.map_or(0.0, |s| s.sqrt().into_scalar::<f64>());
    let coef = (max_norm / (total + CLIP_EPS)).min(1.0);
    for (id, rank) in present {
        scale_grad(grads, id, rank, coef);
    }
    total
}

/// `(id, rank)` of every float parameter.
struct Ids(Vec<(ParamId, usize)>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

fn grad_sq_sum(grads: &GradientsParams, id: ParamId, rank: usize) -> Option<Tensor<1>> {
    fn sq<const D: usize>(g: Tensor<D>) -> Tensor<1> {
        g.square().sum()
    }
    match rank {
        1 => grads.get::<1>(id).map(sq),
        2 => grads.get::<2>(id).map(sq),
        3 => grads.get::<3>(id).map(sq),
        4 => grads.get::<4>(id).map(sq),
        5 => grads.get::<5>(id).map(sq),
        _ => grads.get::<6>(id).map(sq),
    }
}

fn scale_grad(grads: &mut GradientsParams, id: ParamId, rank: usize, coef: f64) {
    fn go<const D: usize>(grads: &mut GradientsParams, id: ParamId, coef: f64) {
        if let Some(g) = grads.remove::<D>(id) {
            grads.register(id, g * coef);
        }
    }
    match rank {
        1 => go::<1>(grads, id, coef),
        2 => go::<2>(grads, id, coef),
        3 => go::<3>(grads, id, coef),
        4 => go::<4>(grads, id, coef),
        5 => go::<5>(grads, id, coef),
        _ => go::<6>(grads, id, coef),
    }
}
