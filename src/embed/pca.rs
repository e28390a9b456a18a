//! Principal components of patch features: the DINO-style false-colour view.

use burn::prelude::*;

/// The top `k` principal directions of `features` (`[N, D]`, rows are samples), each of unit
/// length with its largest entry positive, strongest first, and the features projected on
/// them (`[N, k]`, centred).
///
/// The `D×D` covariance is one device matmul; the directions come from power iteration with
/// deflation on the host (`k` is small).
pub fn principal_components(
    features: &[f32],
    n: usize,
    d: usize,
    k: usize,
    device: &Device,
) -> (Vec<Vec<f64>>, Vec<f32>) {
    let mean: Vec<f32> = (0..d)
        .map(|j| (0..n).map(|i| features[i * d + j] as f64).sum::<f64>() as f32 / n.max(1) as f32)
        .collect();
    let centred: Vec<f32> = features
        .iter()
        .enumerate()
        .map(|(i, &v)| v - mean[i % d])
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(centred, [n, d]), device);
    let cov: Vec<f32> = x
        .clone()
        .transpose()
        .matmul(x.clone())
        .into_data()
        .iter::<f32>()
        .collect();
    let mut cov: Vec<f64> = cov.into_iter().map(f64::from).collect();

    let mut dirs = Vec::with_capacity(k);
    for c in 0..k.min(d) {
        // A fixed, generic start vector: deterministic across runs and machines.
        let mut v: Vec<f64> = (0..d)
            .map(|i| 1.0 + ((i * 7 + c * 13) % 11) as f64 / 10.0)
            .collect();
        let mut lambda = 0.0;
        for _ in 0..500 {
            let mut w = vec![0.0; d];
            for (i, wi) in w.iter_mut().enumerate() {
                *wi = (0..d).map(|j| cov[i * d + j] * v[j]).sum();
            }
            let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
            if norm == 0.0 {
                break;
            }
            w.iter_mut().for_each(|a| *a /= norm);
            let delta: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
            v = w;
            lambda = norm;
            if delta < 1e-10 {
                break;
            }
        }
        let big = v
            .iter()
            .cloned()
            .fold(0.0f64, |m, a| if a.abs() > m.abs() { a } else { m });
        if big < 0.0 {
            v.iter_mut().for_each(|a| *a = -*a);
        }
        // Deflate: remove this direction's share of the covariance.
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] -= lambda * v[i] * v[j];
            }
        }
        dirs.push(v);
    }
    let basis: Vec<f32> = (0..d)
        .flat_map(|i| dirs.iter().map(move |v| v[i] as f32).collect::<Vec<_>>())
        .collect();
    let b = Tensor::<2>::from_data(TensorData::new(basis, [d, dirs.len()]), device);
    let proj = x.matmul(b).into_data().iter::<f32>().collect();
    (dirs, proj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_axes_of_an_elongated_cloud() {
        // Points spread 10× along (1, 1, 0)/√2 and 3× along z.
        let mut f = Vec::new();
        for i in 0..200 {
            let t = (i as f32 * 0.37).sin() * 10.0;
            let s = (i as f32 * 1.91).cos() * 3.0;
            f.extend([t / 2f32.sqrt() + 5.0, t / 2f32.sqrt() - 1.0, s]);
        }
        let (dirs, proj) = principal_components(&f, 200, 3, 2, &Device::default());
        let h = 1.0 / 2f64.sqrt();
        assert!(
            (dirs[0][0] - h).abs() < 1e-4 && (dirs[0][1] - h).abs() < 1e-4,
            "{dirs:?}"
        );
        assert!((dirs[1][2].abs() - 1.0).abs() < 1e-4, "{dirs:?}");
        assert_eq!(proj.len(), 400);
        let var0: f32 = proj.iter().step_by(2).map(|p| p * p).sum();
        let var1: f32 = proj.iter().skip(1).step_by(2).map(|p| p * p).sum();
        assert!(var0 > 5.0 * var1);
    }
}
