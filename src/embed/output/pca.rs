//! PCA compression of dense feature maps: a basis fitted on a sample of the run's patch
//! features, stored with the output so that `x ≈ mean + basisᵀ · components`.
//!
//! The fit runs on the host in float64 with every sum in a fixed order, so the same sample
//! gives the same basis, bit for bit, on any machine and thread count: the shards of a batch
//! run that fit the run's basis independently agree.

use burn::prelude::*;

/// At most this many patch vectors (evenly spread over the run) are used for a fit.
pub const PCA_FIT_VECTORS: usize = 16384;
/// Extra subspace directions that speed up convergence of the leading `k`.
const OVERSAMPLE: usize = 8;
const ITERATIONS: usize = 60;

/// Errors of [`PcaBasis::fit`] and of reading a basis file.
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
    /// A basis file that cannot be used.
    #[error("PCA basis {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Patch vectors drawn from dense maps for a PCA fit.
///
/// # Shapes
/// - `vectors`: `[n, D]` row-major, every value finite
#[derive(Debug, Clone)]
pub struct PcaSample {
    dim: usize,
    vectors: Vec<f32>,
}

impl PcaSample {
    /// An empty sample of `dim`-dimensional vectors.
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            vectors: Vec::new(),
        }
    }

    /// Number of vectors `n`.
    pub fn len(&self) -> usize {
        self.vectors.len() / self.dim.max(1)
    }

    /// Whether no vector has been added.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Adds patch `p` of a `[D, rows, cols]` map with `cells` patches, if all its values are
    /// finite (no-data tiles are NaN).
    fn add_patch(&mut self, map: &[f32], cells: usize, p: usize) {
        let v = (0..self.dim).map(|d| map[d * cells + p]);
        if v.clone().all(f32::is_finite) {
            self.vectors.extend(v);
        }
    }

    /// Adds at most `quota` patches of a `[D, rows, cols]` map, evenly spaced from the first.
    pub fn add_map(&mut self, map: &[f32], quota: usize) {
        let cells = map.len() / self.dim.max(1);
        let step = cells.div_ceil(quota.max(1)).max(1);
        for p in (0..cells).step_by(step) {
            self.add_patch(map, cells, p);
        }
    }
}

/// A PCA basis of `D`-dimensional patch features.
///
/// # Shapes
/// - `mean`: `[D]`
/// - `components`: `[K, D]`, orthonormal rows, strongest first, each with its largest entry
///   positive
#[derive(Debug, Clone, PartialEq)]
pub struct PcaBasis {
    /// Per-dimension mean of the fitted sample.
    pub mean: Vec<f32>,
    /// Principal directions, row-major `[K, D]`.
    pub components: Vec<f32>,
    /// Variance along each component, `[K]` (float32 values, as the basis file stores them).
    pub variance: Vec<f64>,
    /// Fraction of the sample's total variance the `K` components keep (NaN when a basis file
    /// does not say).
    pub explained: f64,
    /// Feature width `D`.
    pub dim: usize,
}

impl PcaBasis {
    /// Number of components `K`.
    pub fn k(&self) -> usize {
        self.variance.len()
    }

    /// Fits `k` components on at most [`PCA_FIT_VECTORS`] patches evenly spread over `maps`
    /// (each `[D, rows, cols]`); patches with a non-finite value (no-data tiles) are left out.
    pub fn fit(maps: &[&[f32]], dim: usize, k: usize) -> Result<Self, PcaError> {
        let total: usize = maps.iter().map(|m| m.len() / dim).sum();
        let step = total.div_ceil(PCA_FIT_VECTORS).max(1);
        let mut sample = PcaSample::new(dim);
        let mut index = 0usize;
        for map in maps {
            let cells = map.len() / dim;
            for p in 0..cells {
                if index.is_multiple_of(step) {
                    sample.add_patch(map, cells, p);
                }
                index += 1;
            }
        }
        Self::fit_sample(sample, k)
    }

    /// Fits `k` components on `sample`.
    pub fn fit_sample(sample: PcaSample, k: usize) -> Result<Self, PcaError> {
        let (dim, n) = (sample.dim, sample.len());
        if n < k.max(2) {
            return Err(PcaError::TooFewSamples { k, n });
        }
        let mut x = sample.vectors;
        let mean: Vec<f32> = (0..dim)
            .map(|j| ((0..n).map(|i| f64::from(x[i * dim + j])).sum::<f64>() / n as f64) as f32)
            .collect();
        x.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v -= mean[i % dim]);
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        let cov = covariance(&x, n, dim, threads);
        let trace: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
        let (variance, dirs) = top_eigen(&cov, dim, k);
        // As the basis file stores them, so a basis read back equals the one fitted.
        let variance: Vec<f64> = variance.iter().map(|&v| f64::from(v as f32)).collect();
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

/// `XᵀX / n` of `n` centred rows `x` (`[n, D]`), in float64 on `threads` threads. Products of
/// two f32 are exact in f64 and each entry is summed in one fixed order whatever the thread
/// split, so the result does not depend on the machine.
fn covariance(x: &[f32], n: usize, d: usize, threads: usize) -> Vec<f64> {
    let mut cols = vec![0f32; d * n]; // [D, n]: each feature contiguous
    for (i, row) in x.chunks_exact(d).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            cols[j * n + i] = v;
        }
    }
    let threads = threads.clamp(1, d.max(1));
    let rows: Vec<(usize, Vec<f64>)> = std::thread::scope(|s| {
        let cols = &cols;
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..d)
                        .step_by(threads)
                        .map(|i| {
                            let a = &cols[i * n..(i + 1) * n];
                            let row = (i..d).map(|j| dot(a, &cols[j * n..(j + 1) * n]));
                            (i, row.collect())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a covariance thread panicked"))
            .collect()
    });
    let mut cov = vec![0f64; d * d];
    for (i, row) in rows {
        for (j, v) in (i..d).zip(row) {
            cov[i * d + j] = v / n as f64;
            cov[j * d + i] = v / n as f64;
        }
    }
    cov
}

/// `Σ aᵢbᵢ` in float64 over 8 lanes, then the lanes and the tail in order.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = (ca.remainder().iter().zip(cb.remainder()))
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += f64::from(x[l]) * f64::from(y[l]);
        }
    }
    lanes.iter().sum::<f64>() + tail
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
    // A full block already spans the space: Rayleigh–Ritz on it is exact.
    let iterations = if m == d { 0 } else { ITERATIONS };
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

/// Orthonormalises the rows of `q` in order: Gram–Schmidt, twice (once loses orthogonality
/// when a row is nearly in the span of the earlier ones, as the null directions of a
/// rank-deficient covariance are). A row numerically in that span (or zero) is replaced by the
/// first unit vector that keeps a fair part of its length, so the rows always end orthonormal.
fn orthonormalise(q: &mut [Vec<f64>]) {
    let d = q.first().map_or(0, Vec::len);
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    for i in 0..q.len() {
        let before = norm(&q[i]);
        let (head, tail) = q.split_at_mut(i);
        let row = &mut tail[0];
        let project_out = |row: &mut Vec<f64>| {
            for _ in 0..2 {
                for h in head.iter() {
                    let dot: f64 = row.iter().zip(h).map(|(a, b)| a * b).sum();
                    row.iter_mut().zip(h).for_each(|(a, b)| *a -= dot * b);
                }
            }
        };
        project_out(row);
        let mut n = norm(row);
        if n <= 1e-9 * before || n == 0.0 {
            // Some unit vector keeps at least 1/√d of its length: Σₑ residual² = d − i ≥ 1.
            for e in 0..d {
                *row = (0..d).map(|j| f64::from(u8::from(j == e))).collect();
                project_out(row);
                n = norm(row);
                if n > 0.5 / (d as f64).sqrt() {
                    break;
                }
            }
        }
        if n > 0.0 {
            row.iter_mut().for_each(|a| *a /= n);
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
    fn covariance_does_not_depend_on_the_thread_split() {
        let (n, d) = (301, 13);
        let x: Vec<f32> = (0..n * d)
            .map(|i| ((i * 7919 % 1013) as f32 - 506.0) * 1e-3)
            .collect();
        let one = covariance(&x, n, d, 1);
        for threads in [2, 3, 7, 64] {
            let many = covariance(&x, n, d, threads);
            assert!(
                one.iter()
                    .zip(&many)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{threads} threads"
            );
        }
        let direct: f64 = (0..n)
            .map(|i| f64::from(x[i * d + 2]) * f64::from(x[i * d + 5]))
            .sum();
        assert!((one[2 * d + 5] - direct / n as f64).abs() < 1e-12);
        assert_eq!(one[2 * d + 5].to_bits(), one[5 * d + 2].to_bits());
    }

    /// Features that sum to zero (as LayerNorm's do) leave a null direction: K = D still gives
    /// orthonormal components and an exact reconstruction.
    #[test]
    fn rank_deficient_features_still_give_an_orthonormal_basis() {
        let (d, cells) = (24, 400);
        let mut map = vec![0.0f32; d * cells];
        for p in 0..cells {
            let v: Vec<f32> = (0..d)
                .map(|j| ((p * 31 + j * 17) % 23) as f32 * (1.0 + j as f32 * 0.1))
                .collect();
            let mean = v.iter().sum::<f32>() / d as f32;
            for j in 0..d {
                map[j * cells + p] = v[j] - mean;
            }
        }
        let device = Device::default();
        for k in [d, d - 1, 5] {
            let pca = PcaBasis::fit(&[&map], d, k).unwrap();
            for a in 0..k {
                for b in 0..k {
                    let dot: f32 = (0..d)
                        .map(|j| pca.components[a * d + j] * pca.components[b * d + j])
                        .sum();
                    assert!(
                        (dot - (a == b) as u8 as f32).abs() < 1e-5,
                        "K={k}: {a}·{b} = {dot}"
                    );
                }
            }
            let proj = pca.project(&map, &device);
            let (err, norm) = pca.reconstruction_error(&map, &proj, &device);
            if k >= d - 1 {
                assert!((err / norm).sqrt() < 1e-5, "K={k}: {}", (err / norm).sqrt());
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
        let pca = PcaBasis::fit(&[&map], d, 3).unwrap();
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
            PcaBasis::fit(&[&map[..2 * d]], d, 3),
            Err(PcaError::TooFewSamples { .. })
        ));
    }
}
