//! KoLeo regulariser (spec §3.4 step 9).

use burn::prelude::*;

use crate::error::{Result, TrainError};

/// Eps of the L2 normalisation, the pairwise distance and the log.
pub const KOLEO_EPS: f64 = 1e-8;

/// `KoLeoLoss` on one crop set: L2-normalise rows (eps 1e-8), find each row's nearest
/// neighbour by maximum inner product excluding itself, `d_i = ‖x_i − x_nn(i) + 1e-8‖₂`,
/// loss `−mean_i log(d_i + 1e-8)`.
///
/// The neighbour search is not differentiated (as upstream's `torch.max` indices).
///
/// # Shapes
/// `x`: `[n, D]` with `n ≥ 2`; returns `[1]`.
pub fn koleo_loss(x: Tensor<2>) -> Result<Tensor<1>> {
    let [n, d] = x.dims();
    if n < 2 {
        return Err(TrainError::Shape {
            what: "KoLeo input",
            expected: "[n ≥ 2, D] (each vector needs a neighbour)".into(),
            got: vec![n, d],
        });
    }
    let device = x.device();
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(KOLEO_EPS); // [n, 1]
    let xn = x / norm;
    let dots = xn.clone().detach().matmul(xn.clone().detach().transpose());
    let diag = Tensor::<2, Bool>::diag_mask([n, n], 0, &device).bool_not();
    let dots = dots.mask_fill(diag, -1.0);
    let nn = dots.argmax(1).reshape([n]);
    let neighbours = xn.clone().select(0, nn);
    let dist = (xn - neighbours + KOLEO_EPS)
        .square()
        .sum_dim(1)
        .sqrt()
        .reshape([n]);
    Ok(-(dist + KOLEO_EPS).log().mean().reshape([1]))
}
