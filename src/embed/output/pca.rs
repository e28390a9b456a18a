//! PCA compression of dense feature maps: a basis fitted on a sample of the run's patch
//! features, stored with the output so that `x ≈ mean + basisᵀ · components`.

use burn::prelude::*;

/// At most this many patch vectors (evenly spread over the run) are used for the fit.
const SAMPLE: usize = 16384;
/// Extra subspace directions that speed up convergence of the leading `k`.
const OVERSAMPLE: usize = 8;
const ITERATIONS: usize = 60;

/// Errors of [`PcaBasis::fit`].
#[derive(Debug, thiserror::Error)]
pub enum PcaError {
    /// Fewer valid patch vectors than components.
    #[error("--pca {k}: only {n} valid patch features to fit it on (need at least {k})")]
    TooFewSamples {
        /// Components asked for.
        k: usize,
        /// Valid (finite) patch vectors found.
        n: usize,
    },
}

/// A PCA basis of `D`-dimensional patch features.
///
/// # Shapes
/// - `mean`: `[D]`
/// - `components`: `[K, D]`, orthonormal rows, strongest first, each with its largest entry
///   positive
#[derive(Debug, Clone)]
pub struct PcaBasis {
    /// Per-dimension mean of the fitted sample.
    pub mean: Vec<f32>,
    /// Principal directions, row-major `[K, D]`.
    pub components: Vec<f32>,
    /// Variance along each component, `[K]`.
    pub variance: Vec<f64>,
    /// Fraction of the sample's total variance the `K` components keep.
    pub explained: f64,
    /// Feature width `D`.
    pub dim: usize,
}

impl PcaBasis {
    /// Number of components `K`.
    pub fn k(&self) -> usize {
        self.variance.len()
    }

    /// Fits `k` components on a sample of the patches of `maps` (each `[D, rows, cols]`);
    /// patches with a non-finite value (no-data tiles) are left out.
    pub fn fit(maps: &[&[f32]], dim: usize, k: usize, device: &Device) -> Result<Self, PcaError> {
        let total: usize = maps.iter().map(|m| m.len() / dim).sum();
        let step = total.div_ceil(SAMPLE).max(1);
        let mut sample = Vec::new();
        let mut index = 0usize;
        for map in maps {
            let cells = map.len() / dim;
            for p in 0..cells {
                index += 1;
                if !(index - 1).is_multiple_of(step) {
                    continue;
                }
                let v: Vec<f32> = (0..dim).map(|d| map[d * cells + p]).collect();
                if v.iter().all(|x| x.is_finite()) {
                    sample.extend(v);
                }
            }
        }
        let n = sample.len() / dim;
        if n < k.max(2) {
            return Err(PcaError::TooFewSamples { k, n });
        }
        let mean: Vec<f32> = (0..dim)
            .map(|j| {
                ((0..n).map(|i| f64::from(sample[i * dim + j])).sum::<f64>() / n as f64) as f32
            })
            .collect();
        sample
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v -= mean[i % dim]);
        let x = Tensor::<2>::from_data(TensorData::new(sample, [n, dim]), device);
        let cov: Vec<f64> = x
            .clone()
            .transpose()
            .matmul(x)
            .div_scalar(n as f32)
            .into_data()
            .iter::<f32>()
            .map(f64::from)
            .collect();
        let trace: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
        let (variance, dirs) = top_eigen(&cov, dim, k);
        let components = dirs.iter().flatten().map(|&v| v as f32).collect();
        Ok(Self {
            mean,
            components,
            explained: variance.iter().sum::<f64>() / trace.max(f64::MIN_POSITIVE),
            variance,
            dim,
        })
    }

    /// Projects a `[D, rows, cols]` map onto the basis: `[K, rows, cols]`.
    pub fn project(&self, map: &[f32], device: &Device) -> Vec<f32> {
        let (d, cells) = (self.dim, map.len() / self.dim);
        let centred: Vec<f32> = map
            .iter()
            .enumerate()
            .map(|(i, &v)| v - self.mean[i / cells])
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(centred, [d, cells]), device);
        let b = Tensor::<2>::from_data(
            TensorData::new(self.components.clone(), [self.k(), d]),
            device,
        );
        b.matmul(x).into_data().iter::<f32>().collect()
    }

    /// `(‖x̂ − x‖², ‖x‖²)` of the reconstruction `x̂ = mean + basisᵀ · components` of a
    /// `[D, rows, cols]` map from its stored `[K, rows, cols]` components, over finite patches.
    pub fn reconstruction_error(
        &self,
        map: &[f32],
        components: &[f32],
        device: &Device,
    ) -> (f64, f64) {
        let (d, k, cells) = (self.dim, self.k(), map.len() / self.dim);
        let b = Tensor::<2>::from_data(TensorData::new(self.components.clone(), [k, d]), device);
        let c = Tensor::<2>::from_data(TensorData::new(components.to_vec(), [k, cells]), device);
        let recon: Vec<f32> = b.transpose().matmul(c).into_data().iter::<f32>().collect();
        let (mut err, mut norm) = (0.0, 0.0);
        for p in 0..cells {
            if (0..d).any(|j| !map[j * cells + p].is_finite()) {
                continue;
            }
            for j in 0..d {
                let x = f64::from(map[j * cells + p]);
                let y = f64::from(recon[j * cells + p]) + f64::from(self.mean[j]);
                err += (x - y).powi(2);
                norm += x * x;
            }
        }
        (err, norm)
    }
}

/// The `k` leading eigenpairs of a symmetric `d×d` matrix (row-major), largest first: block
/// power (subspace) iteration with Gram–Schmidt, then Rayleigh–Ritz with Jacobi rotations.
/// Deterministic (fixed start block).
fn top_eigen(a: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let m = (k + OVERSAMPLE).min(d);
    // Start block: a fixed, generic pattern (columns of q stored as rows: q[c][i]).
    let mut q: Vec<Vec<f64>> = (0..m)
        .map(|c| {
            (0..d)
                .map(|i| ((i * 7919 + c * 104729) % 1009) as f64 / 1009.0 - 0.5)
                .collect()
        })
        .collect();
    orthonormalise(&mut q);
    let apply = |v: &[f64]| -> Vec<f64> {
        (0..d)
            .map(|i| {
                a[i * d..(i + 1) * d]
                    .iter()
                    .zip(v)
                    .map(|(x, y)| x * y)
                    .sum()
            })
            .collect()
    };
    let iterations = if m == d { 1 } else { ITERATIONS };
    for _ in 0..iterations {
        q = q.iter().map(|v| apply(v)).collect();
        orthonormalise(&mut q);
    }
    // Rayleigh–Ritz: T = Qᵀ A Q (m×m), eigenvectors W, Ritz vectors Q W.
    let aq: Vec<Vec<f64>> = q.iter().map(|v| apply(v)).collect();
    let mut t = vec![0.0; m * m];
    for r in 0..m {
        for c in 0..m {
            t[r * m + c] = q[r].iter().zip(&aq[c]).map(|(x, y)| x * y).sum();
        }
    }
    let (values, w) = jacobi(&mut t, m);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    let mut out_values = Vec::with_capacity(k);
    let mut out_dirs = Vec::with_capacity(k);
    for &e in order.iter().take(k) {
        let mut v: Vec<f64> = (0..d)
            .map(|i| (0..m).map(|r| q[r][i] * w[r * m + e]).sum())
            .collect();
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |b, x| if x.abs() > b.abs() { x } else { b });
        if big < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        out_values.push(values[e].max(0.0));
        out_dirs.push(v);
    }
    (out_values, out_dirs)
}

/// Modified Gram–Schmidt on the rows of `q` (a zero row stays zero).
fn orthonormalise(q: &mut [Vec<f64>]) {
    for i in 0..q.len() {
        for j in 0..i {
            let dot: f64 = q[i].iter().zip(&q[j]).map(|(a, b)| a * b).sum();
            let (head, tail) = q.split_at_mut(i);
            tail[0]
                .iter_mut()
                .zip(&head[j])
                .for_each(|(a, b)| *a -= dot * b);
        }
        let norm = q[i].iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 0.0 {
            q[i].iter_mut().for_each(|a| *a /= norm);
        }
    }
}

/// Eigen-decomposition of a symmetric `m×m` matrix by cyclic Jacobi rotations; returns the
/// eigenvalues and the eigenvectors as the columns of a row-major `m×m` matrix.
fn jacobi(a: &mut [f64], m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; m * m];
    (0..m).for_each(|i| v[i * m + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _ in 0..100 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * m + j].powi(2))
            .sum();
        if off <= 1e-24 * scale {
            break;
        }
        for p in 0..m {
            for r in p + 1..m {
                let apr = a[p * m + r];
                if apr.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[r * m + r] - a[p * m + p]) / (2.0 * apr);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for i in 0..m {
                    let (aip, air) = (a[i * m + p], a[i * m + r]);
                    a[i * m + p] = c * aip - s * air;
                    a[i * m + r] = s * aip + c * air;
                }
                for i in 0..m {
                    let (api, ari) = (a[p * m + i], a[r * m + i]);
                    a[p * m + i] = c * api - s * ari;
                    a[r * m + i] = s * api + c * ari;
                }
                for i in 0..m {
                    let (vip, vir) = (v[i * m + p], v[i * m + r]);
                    v[i * m + p] = c * vip - s * vir;
                    v[i * m + r] = s * vip + c * vir;
                }
            }
        }
    }
    ((0..m).map(|i| a[i * m + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        let mut a = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let orig = a.clone();
        let (values, v) = jacobi(&mut a, 3);
        for e in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| orig[i * 3 + j] * v[j * 3 + e]).sum();
                assert!((av - values[e] * v[i * 3 + e]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn recovers_a_low_rank_map_exactly_and_keeps_its_variance() {
        // D = 40 features that live in a 3-dimensional subspace plus a mean.
        let (d, cells) = (40, 500);
        let mut map = vec![0.0f32; d * cells];
        for p in 0..cells {
            let z = [
                (p as f32 * 0.37).sin() * 5.0,
                (p as f32 * 1.3).cos() * 2.0,
                (p % 7) as f32,
            ];
            for j in 0..d {
                let basis = [
                    (j as f32 * 0.1).sin(),
                    (j as f32 * 0.7).cos(),
                    (j % 3) as f32,
                ];
                map[j * cells + p] = 3.0 + (0..3).map(|r| z[r] * basis[r]).sum::<f32>();
            }
        }
        let device = Device::default();
        let pca = PcaBasis::fit(&[&map], d, 3, &device).unwrap();
        assert!(pca.explained > 0.9999, "{}", pca.explained);
        let proj = pca.project(&map, &device);
        assert_eq!(proj.len(), 3 * cells);
        let (err, norm) = pca.reconstruction_error(&map, &proj, &device);
        assert!((err / norm).sqrt() < 1e-4, "{}", (err / norm).sqrt());
        // Orthonormal rows.
        for a in 0..3 {
            for b in 0..3 {
                let dot: f32 = (0..d)
                    .map(|j| pca.components[a * d + j] * pca.components[b * d + j])
                    .sum();
                assert!((dot - (a == b) as u8 as f32).abs() < 1e-4);
            }
        }
        assert!(matches!(
            PcaBasis::fit(&[&map[..2 * d]], d, 3, &device),
            Err(PcaError::TooFewSamples { .. })
        ));
    }
}
