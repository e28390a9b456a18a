//! EMA teacher update (spec §3.7).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

use crate::error::{Result, TrainError};

/// `θ_t ← m·θ_t + (1 − m)·θ_s` for every float parameter, pairing teacher and student
/// parameters by their position in the module traversal (so a teacher loaded separately,
/// with other `ParamId`s, works as well as `student.valid()`).
///
/// The teacher keeps its own ids, devices and `require_grad` flags; the student is only read.
pub fn ema_update<M: Module>(teacher: M, student: &M, momentum: f64) -> Result<M> {
    let mut collect = Collect(Vec::new());
    student.visit(&mut collect);
    let mut mapper = Ema {
        student: collect.0.into_iter(),
        momentum,
        index: 0,
        error: None,
    };
    let teacher = teacher.map(&mut mapper);
    if let Some(e) = mapper.error {
        return Err(e);
    }
    if mapper.student.len() != 0 {
        return Err(TrainError::Mismatch {
            index: mapper.index,
            left: vec![mapper.index],
            right: vec![mapper.index + mapper.student.len()],
        });
    }
    Ok(teacher)
}

/// `m·t + (1 − m)·s` on plain tensors (e.g. one parameter or a flattened list).
///
/// # Shapes
/// `teacher` and `student` of equal shape.
pub fn ema_tensor<const D: usize>(
    teacher: Tensor<D>,
    student: Tensor<D>,
    momentum: f64,
) -> Tensor<D> {
    teacher * momentum + student * (1.0 - momentum)
}

/// Student parameters, flattened and without autodiff, in traversal order.
struct Collect(Vec<(Vec<usize>, Tensor<1>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().inner();
        let dims = t.dims().to_vec();
        let n: usize = dims.iter().product();
        self.0.push((dims, t.reshape([n])));
    }
}

struct Ema {
    student: std::vec::IntoIter<(Vec<usize>, Tensor<1>)>,
    momentum: f64,
    index: usize,
    error: Option<TrainError>,
}

impl ModuleMapper for Ema {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let index = self.index;
        self.index += 1;
        if self.error.is_some() {
            return param;
        }
        let (id, t, mapper) = param.consume();
        let dims = t.dims();
        let Some((sdims, s)) = self.student.next() else {
            self.error = Some(TrainError::Mismatch {
                index,
                left: dims.to_vec(),
                right: vec![],
            });
            return Param::from_mapped_value(id, t, mapper);
        };
        if sdims != dims {
            self.error = Some(TrainError::Mismatch {
                index,
                left: dims.to_vec(),
                right: sdims,
            });
            return Param::from_mapped_value(id, t, mapper);
        }
        let was_autodiff = t.is_autodiff();
        let require_grad = t.is_require_grad();
        let s = s.reshape(dims).to_device(&t.clone().inner().device());
        let mut new = ema_tensor(t.inner(), s, self.momentum);
        if was_autodiff {
            new = Tensor::from_inner(new);
            if require_grad {
                new = new.require_grad();
            }
        }
        Param::from_mapped_value(id, new, mapper)
    }
}
