//! Multi-head self-attention straight from the packed `qkv` projection, on the CPU.
//!
//! The generic route reshapes `qkv` to `[3, B, h, N, hd]`, copies `q`, `k` and `v` into
//! contiguous heads, runs Flex's attention (a scalar `expf` per score) and copies the result
//! back to `[B, N, D]`. Here both GEMMs read the heads in place through strides, write their
//! output straight into `[B, N, D]`, and the softmax is a vectorised loop: no copies.

use std::mem::MaybeUninit;

use gemm::{Parallelism, gemm};

use super::erf::exp_neg;
use super::uninit::OutPtr;

/// Softmax over each `n`-long row of `scores` after scaling by `scale > 0`:
/// `exp((s − max)·scale) / Σ`. A row holding a NaN comes out all NaN (as in PyTorch).
pub fn softmax_rows(scores: &mut [f32], n: usize, scale: f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { softmax_avx512(scores, n, scale) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            return unsafe { softmax_avx2(scores, n, scale) };
        }
    }
    softmax_generic(scores, n, scale)
}

/// # Safety
/// The CPU must support AVX-512F (checked at run time by the caller).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn softmax_avx512(scores: &mut [f32], n: usize, scale: f32) {
    softmax_generic(scores, n, scale)
}

/// # Safety
/// The CPU must support AVX2 and FMA (checked at run time by the caller).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_avx2(scores: &mut [f32], n: usize, scale: f32) {
    softmax_generic(scores, n, scale)
}

#[inline(always)]
fn softmax_generic(scores: &mut [f32], n: usize, scale: f32) {
    for row in scores.chunks_exact_mut(n) {
        softmax_row(row, scale);
    }
}

/// Lanes of the partial max/sum accumulators: lets LLVM keep them in vector registers
/// (a float reduction in one accumulator cannot be reordered, so it would not vectorise).
const LANES: usize = 16;

#[inline(always)]
fn softmax_row(row: &mut [f32], scale: f32) {
    let mut m = [f32::NEG_INFINITY; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            m[i] = if c[i] > m[i] { c[i] } else { m[i] };
        }
    }
    let mut max = f32::NEG_INFINITY;
    for &x in chunks.remainder().iter().chain(&m) {
        max = if x > max { x } else { max };
    }
    let mut acc = [0.0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            let e = exp_neg((max - c[i]) * scale);
            c[i] = e;
            acc[i] += e;
        }
    }
    let mut sum = 0.0f32;
    for x in chunks.into_remainder() {
        let e = exp_neg((max - *x) * scale);
        *x = e;
        sum += e;
    }
    let inv = 1.0 / (sum + acc.iter().sum::<f32>());
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// `softmax(q·kᵀ·scale)·v` per head, from the DINOv2 `qkv` layout, into `out`.
///
/// Work is split over rayon's threads by `(batch, head)`; each GEMM runs single-threaded.
///
/// # Shapes
/// - `qkv`: `[B, N, 3·D]` row-major: `[q | k | v]`, each `h` contiguous `D/h` chunks
/// - `out`: `[B, N, D]` row-major (fully overwritten)
pub fn self_attention(
    qkv: &[f32],
    [b, n, d]: [usize; 3],
    heads: usize,
    scale: f32,
    out: &mut [MaybeUninit<f32>],
) {
    assert!(
        heads > 0 && d.is_multiple_of(heads),
        "D = {d} not a multiple of {heads} heads"
    );
    assert_eq!(qkv.len(), b * n * 3 * d, "qkv is not [B, N, 3D]");
    assert_eq!(out.len(), b * n * d, "out is not [B, N, D]");
    let tasks = b * heads;
    if tasks == 0 || n == 0 {
        return;
    }
    // SAFETY: each task below writes only its own `(batch, head)` columns of `out`.
    let dst = unsafe { OutPtr::new(out) };
    // rayon's pool is already running (the GEMMs use it): no thread start per call.
    use rayon::prelude::*;
    (0..tasks).into_par_iter().for_each_init(
        || vec![0.0f32; n * n],
        |scores, t| {
            // SAFETY: task `t` owns batch `t / heads`, head `t % heads` of `out`; the asserts
            // above bound every pointer below.
            unsafe { head(qkv, [n, d], heads, scale, t, scores, dst) };
        },
    );
}

/// One `(batch, head)` task. `scores` is `[N, N]` scratch.
///
/// # Safety
/// `qkv` must be `[B, N, 3D]` and `out` point to a `[B, N, D]` output with `task < B·heads`;
/// no other thread may touch this task's columns of `out` meanwhile.
unsafe fn head(
    qkv: &[f32],
    [n, d]: [usize; 2],
    heads: usize,
    scale: f32,
    task: usize,
    scores: &mut [f32],
    out: OutPtr,
) {
    let (bi, h) = (task / heads, task % heads);
    let hd = d / heads;
    let row = (3 * d) as isize;
    let (n_i, d_i) = (n as isize, d as isize);
    // SAFETY (whole body): offsets stay inside `qkv` ([B, N, 3D]) and `out` ([B, N, D]).
    unsafe {
        let q = qkv.as_ptr().add(bi * n * 3 * d + h * hd);
        let (k, v) = (q.add(d), q.add(2 * d));
        // scores[i, j] = Σ_c q[i, c]·k[j, c]: the rhs is kᵀ, read through strides.
        gemm(
            n,
            n,
            hd,
            scores.as_mut_ptr(),
            1,
            n_i,
            false,
            q,
            1,
            row,
            k,
            row,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
        softmax_rows(scores, n, scale);
        // out[i, h·hd + c] = Σ_j p[i, j]·v[j, c]
        gemm(
            n,
            hd,
            n,
            out.get().add(bi * n * d + h * hd),
            1,
            d_i,
            false,
            scores.as_ptr(),
            1,
            n_i,
            v,
            1,
            row,
            0.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::pseudo_random;
    use super::super::uninit::as_uninit;
    use super::*;

    /// Plain f64 attention, the definition.
    fn reference(qkv: &[f32], [b, n, d]: [usize; 3], heads: usize, scale: f64) -> Vec<f64> {
        let hd = d / heads;
        let at = |bi: usize, i: usize, part: usize, h: usize, c: usize| {
            qkv[(bi * n + i) * 3 * d + part * d + h * hd + c] as f64
        };
        let mut out = vec![0.0; b * n * d];
        for bi in 0..b {
            for h in 0..heads {
                for i in 0..n {
                    let s: Vec<f64> = (0..n)
                        .map(|j| {
                            (0..hd)
                                .map(|c| at(bi, i, 0, h, c) * at(bi, j, 1, h, c))
                                .sum::<f64>()
                                * scale
                        })
                        .collect();
                    let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = s.iter().map(|x| (x - max).exp()).collect();
                    let sum: f64 = e.iter().sum();
                    for c in 0..hd {
                        out[(bi * n + i) * d + h * hd + c] =
                            (0..n).map(|j| e[j] / sum * at(bi, j, 2, h, c)).sum();
                    }
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_across_shapes() {
        // Odd N (row remainders), one head, many heads, a batch.
        for (shape, heads, amp) in [
            ([1, 1, 4], 1, 1.0),
            ([2, 37, 24], 3, 2.0),
            ([3, 17, 64], 8, 4.0),
            ([1, 257, 96], 2, 3.0),
        ] {
            let [b, n, d] = shape;
            let qkv = pseudo_random(b * n * 3 * d, (b * n * d) as u64, amp);
            let scale = ((d / heads) as f64).powf(-0.5);
            let want = reference(&qkv, shape, heads, scale);
            let mut got = vec![f32::NAN; b * n * d];
            self_attention(&qkv, shape, heads, scale as f32, as_uninit(&mut got));
            // f32 logits of magnitude up to ~20 carry ~1e-6 relative rounding each, which the
            // exponential turns into ~1e-5 on the probabilities, for any f32 implementation.
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (*g as f64 - w).abs() <= 2e-5 * (1.0 + w.abs()),
                    "{shape:?}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn softmax_is_exact_and_propagates_nan() {
        let mut row: Vec<f32> = (0..45).map(|i| (i as f32 * 0.37).sin() * 30.0).collect();
        let want: Vec<f64> = {
            let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
            let e: Vec<f64> = row
                .iter()
                .map(|&x| ((x as f64 - max) * 0.5).exp())
                .collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|x| x / s).collect()
        };
        softmax_rows(&mut row, 45, 0.5);
        for (g, w) in row.iter().zip(&want) {
            assert!(
                (*g as f64 - w).abs() <= 1e-6 * w.max(1e-30) + 1e-12,
                "{g} vs {w}"
            );
        }
        let mut row = vec![0.5f32; 20];
        row[17] = f32::NAN;
        softmax_rows(&mut row, 20, 1.0);
        assert!(row.iter().all(|x| x.is_nan()), "{row:?}");
    }
}
