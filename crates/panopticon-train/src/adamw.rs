//! AdamW with per-parameter LR and weight decay, PyTorch semantics (spec §3.8).

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// AdamW hyper-parameters shared by all groups (torch defaults except the betas, which the
/// configs set to the same values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// `optim.adamw_beta1`.
    pub beta1: f64,
    /// `optim.adamw_beta2`.
    pub beta2: f64,
    /// Denominator eps (torch 1e-8; Burn's own AdamW defaults to 1e-5).
    pub eps: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// The moment estimates of one parameter, flattened.
#[derive(Debug, Clone)]
pub struct AdamState {
    /// First moment.
    pub exp_avg: Tensor<1>,
    /// Second moment.
    pub exp_avg_sq: Tensor<1>,
    /// Number of steps taken.
    pub step: u64,
}

/// LR and weight decay of one parameter for the current step (after multipliers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepHyper {
    /// `group.lr`.
    pub lr: f64,
    /// `group.weight_decay`.
    pub weight_decay: f64,
}

/// AdamW whose LR and weight decay are chosen per parameter at every step, so schedules,
/// layer-wise decay, LR multipliers and frozen layers need no optimizer rebuild.
///
/// Update (torch `_multi_tensor_adamw`): `θ ← θ(1 − lr·wd)`; `m ← β₁m + (1−β₁)g`;
/// `v ← β₂v + (1−β₂)g²`; `θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + eps)`.
/// A parameter with `lr = 0` still advances its moments, as in torch.
#[derive(Debug, Clone, Default)]
pub struct AdamW {
    /// Shared hyper-parameters.
    pub config: AdamWConfig,
    states: HashMap<ParamId, AdamState>,
}

impl AdamW {
    /// A fresh optimizer (no state).
    pub fn new(config: AdamWConfig) -> Self {
        Self {
            config,
            states: HashMap::new(),
        }
    }

    /// The state of a parameter, if it has been stepped.
    pub fn state(&self, id: ParamId) -> Option<&AdamState> {
        self.states.get(&id)
    }

    /// Restores the moments of one parameter (checkpoint resume).
    pub fn set_state(&mut self, id: ParamId, state: AdamState) {
        self.states.insert(id, state);
    }

    /// Number of parameters with moments.
    pub fn num_states(&self) -> usize {
        self.states.len()
    }

    /// One update of a plain tensor keyed by `id`; returns the new value.
    ///
    /// # Shapes
    /// `param` and `grad` of equal shape.
    pub fn step_tensor<const D: usize>(
        &mut self,
        id: ParamId,
        param: Tensor<D>,
        grad: Tensor<D>,
        hyper: StepHyper,
    ) -> Tensor<D> {
        let c = self.config;
        let dims = param.dims();
        let n: usize = dims.iter().product();
        let g = grad.reshape([n]);
        let st = self.states.remove(&id).unwrap_or_else(|| AdamState {
            exp_avg: g.zeros_like(),
            exp_avg_sq: g.zeros_like(),
            step: 0,
        });
        let step = st.step + 1;
        let exp_avg = st.exp_avg * c.beta1 + g.clone() * (1.0 - c.beta1);
        let exp_avg_sq = st.exp_avg_sq * c.beta2 + g.square() * (1.0 - c.beta2);
        let bc1 = 1.0 - c.beta1.powf(step as f64);
        let bc2_sqrt = (1.0 - c.beta2.powf(step as f64)).sqrt();
        let step_size = hyper.lr / bc1;
        let denom = exp_avg_sq.clone().sqrt() / bc2_sqrt + c.eps;
        let p = param.reshape([n]) * (1.0 - hyper.lr * hyper.weight_decay);
        let p = p - exp_avg.clone() / denom * step_size;
        self.states.insert(
            id,
            AdamState {
                exp_avg,
                exp_avg_sq,
                step,
            },
        );
        p.reshape(dims)
    }

    /// Steps every parameter of `module` that has a gradient in `grads`.
    ///
    /// `hyper` receives the Burn parameter path (e.g. `blocks.0.attn.qkv.weight`; see
    /// [`crate::torch_param_name`]) and returns that parameter's LR and weight decay.
    /// Parameters without a gradient are left as they are (torch skips `grad is None`).
    pub fn step<M: Module>(
        &mut self,
        module: M,
        grads: &mut GradientsParams,
        hyper: impl Fn(&str) -> StepHyper,
    ) -> M {
        let mut mapper = Stepper {
            optim: self,
            grads,
            hyper: &hyper,
            path: Vec::new(),
        };
        module.map(&mut mapper)
    }
}

struct Stepper<'a, F: Fn(&str) -> StepHyper> {
    optim: &'a mut AdamW,
    grads: &'a mut GradientsParams,
    hyper: &'a F,
    path: Vec<String>,
}

impl<F: Fn(&str) -> StepHyper> ModuleMapper for Stepper<'_, F> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(grad) = self.grads.remove::<D>(param.id) else {
            return param;
        };
        let (id, t, mapper) = param.consume();
        let require_grad = t.is_require_grad();
        let was_autodiff = t.is_autodiff();
        let hyper = (self.hyper)(&self.path.join("."));
        let grad = grad.to_device(&t.clone().inner().device());
        let mut new = self.optim.step_tensor(id, t.inner(), grad, hyper);
        if was_autodiff {
            new = Tensor::from_inner(new);
            if require_grad {
                new = new.require_grad();
            }
        }
        Param::from_mapped_value(id, new, mapper)
    }
}
