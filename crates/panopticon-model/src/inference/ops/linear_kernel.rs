//! `y = epilogue(x·W + b)` on the CPU: one GEMM, then one pass for everything after it.
//!
//! Burn's route for a transformer block's `x + γ ⊙ (h·W + b)` is a GEMM and then four
//! passes, each writing a fresh `[M, N]` tensor (bias, LayerScale, residual; or bias and
//! GELU). Here the GEMM (the `gemm` crate, as in Flex) writes `out`, and a single pass over
//! each row block, while it is still in cache, adds the bias and applies the epilogue.
//!
//! For a few hundred rows (one or two images) the weights dominate the memory traffic: each
//! is read once per forward, from DRAM. gemm's packing reads a `[K, N]` weight as short
//! strided segments; [`linear_panels`] reads a weight laid out once by [`pack_panels`] as
//! one sequential stream per panel of output columns, copies neither operand, and finishes
//! each panel's outputs right after its GEMM.

use std::mem::MaybeUninit;

use gemm::{Parallelism, gemm};

use super::erf::gelu_generic;
use super::uninit::{OutPtr, assume_written};

/// Rows per epilogue task: a few tens of KiB of `out`, still in L2 after the GEMM wrote them.
const ROWS_PER_TASK: usize = 16;
/// Below this many multiply-adds the GEMM runs on one thread.
const MIN_PARALLEL: usize = 1 << 20;

/// Output columns per panel of [`pack_panels`].
pub const PANEL: usize = 64;
/// Up to this many rows [`linear_panels`] is the faster route; above, `x` no longer stays in
/// a core's L2 across panels and gemm's own blocking wins (measured at ViT-B/14 shapes:
/// 257 and 514 rows faster, 1028 even, 2056 slower).
pub const PANEL_MAX_ROWS: usize = 640;
/// Rows of `x` per GEMM call of [`linear_panels`]: gemm copies its left operand (here the
/// panel, already laid out as gemm reads it) once a call has more than 8 · 6 = 48 columns
/// (its AVX-512 micro-kernel is 6 columns wide); at most 48 it reads the panel in place.
/// Measured at ViT-B/14, B = 1: 3 % faster per forward than one call over all 257 rows.
const ROWS_PER_GEMM: usize = 48;

/// `w` `[K, N]` row-major → panel-major: for each block of [`PANEL`] columns (the last one
/// narrower when `N` is not a multiple), its `[K, width]` rows, contiguous.
///
/// # Panics
/// If `w` is not `[K, N]`.
pub fn pack_panels(w: &[f32], k: usize, n: usize) -> Vec<f32> {
    assert_eq!(w.len(), k * n, "w is not [K, N]");
    let mut out = Vec::with_capacity(k * n);
    for c0 in (0..n).step_by(PANEL) {
        let width = PANEL.min(n - c0);
        for row in w.chunks_exact(n) {
            out.extend_from_slice(&row[c0..c0 + width]);
        }
    }
    out
}

/// What is done to each `y = x·W + b` before it is stored.
#[derive(Clone, Copy)]
pub enum Epilogue<'a> {
    /// `y`.
    Plain,
    /// The exact (erf) GELU of `y`.
    Gelu,
    /// `residual + gamma ⊙ y` (`gamma` absent: 1), in PyTorch's order: scale, then add.
    Residual {
        /// `[M, N]`, like the output.
        residual: &'a [f32],
        /// `[N]`.
        gamma: Option<&'a [f32]>,
    },
}

/// `out = epilogue(x·w + bias)`.
///
/// # Shapes
/// - `x`: `[M, K]` row-major
/// - `w`: `[K, N]` row-major (Burn's `Linear` weight)
/// - `bias`, `gamma`: `[N]`; `residual`, `out`: `[M, N]` row-major (`out` fully overwritten)
///
/// # Panics
/// If a slice has the wrong length.
pub fn linear(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    [m, k, n]: [usize; 3],
    epilogue: Epilogue<'_>,
    out: &mut [MaybeUninit<f32>],
) {
    if nothing_to_do(x, w, bias, [m, k, n], epilogue, out.len()) {
        return;
    }
    let threads = if m * n * k < MIN_PARALLEL {
        1
    } else {
        rayon::current_num_threads().max(1)
    };
    let parallelism = match threads {
        1 => Parallelism::None,
        t => Parallelism::Rayon(t),
    };
    // SAFETY: row-major `[M, K]·[K, N] → [M, N]`; the asserts above bound every access.
    unsafe {
        gemm(
            m,
            n,
            k,
            out.as_mut_ptr().cast(),
            1,
            n as isize,
            false, // overwrite `out`
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    if bias.is_none() && matches!(epilogue, Epilogue::Plain) {
        return;
    }
    let finish = |(t, rows): (usize, &mut [MaybeUninit<f32>])| {
        let first = t * ROWS_PER_TASK;
        // SAFETY: the GEMM above wrote every element of `out`.
        let rows = unsafe { assume_written(rows) };
        for (i, row) in rows.chunks_exact_mut(n).enumerate() {
            let residual = match epilogue {
                Epilogue::Residual { residual, .. } => {
                    Some(&residual[(first + i) * n..(first + i + 1) * n])
                }
                _ => None,
            };
            finish_row(row, bias, epilogue, residual);
        }
    };
    let tasks = out.chunks_mut(ROWS_PER_TASK * n).enumerate();
    if threads == 1 {
        tasks.for_each(finish);
    } else {
        use rayon::prelude::*;
        out.par_chunks_mut(ROWS_PER_TASK * n)
            .enumerate()
            .for_each(finish);
    }
}

/// [`linear`] with the weight in [`pack_panels`] order (`panels`): each task takes one panel of
/// output columns, runs single-threaded GEMMs on it, [`ROWS_PER_GEMM`] rows of `x` at a time
/// (the weight read is one sequential stream), and finishes those outputs while they are in
/// cache.
///
/// # Shapes
/// As [`linear`], with `panels` holding `[K, N]` panel-major.
///
/// # Panics
/// If a slice has the wrong length.
pub fn linear_panels(
    x: &[f32],
    panels: &[f32],
    bias: Option<&[f32]>,
    [m, k, n]: [usize; 3],
    epilogue: Epilogue<'_>,
    out: &mut [MaybeUninit<f32>],
) {
    if nothing_to_do(x, panels, bias, [m, k, n], epilogue, out.len()) {
        return;
    }
    // SAFETY: each panel task below writes only its own columns of `out`.
    let dst = unsafe { OutPtr::new(out) };
    let finish = bias.is_some() || !matches!(epilogue, Epilogue::Plain);
    let panel = |p: usize| {
        let c0 = p * PANEL;
        let width = PANEL.min(n - c0);
        let w = &panels[c0 * k..(c0 + width) * k];
        let cols = c0..c0 + width;
        let epilogue = match epilogue {
            Epilogue::Residual { residual, gamma } => Epilogue::Residual {
                residual,
                gamma: gamma.map(|g| &g[cols.clone()]),
            },
            e => e,
        };
        let bias = bias.map(|b| &b[cols.clone()]);
        for r0 in (0..m).step_by(ROWS_PER_GEMM) {
            let r1 = (r0 + ROWS_PER_GEMM).min(m);
            // Transposed, `outᵀ = panelᵀ·xᵀ`: the panel is the GEMM's left operand, already
            // in its packed layout (`[K, 64]` = `K` strips of 64 outputs), and `x`'s rows are
            // read in place: neither operand is copied.
            // SAFETY: `[width, K]·[K, r1 − r0]` into rows `r0..r1`, columns `c0..c0 + width`
            // of the `[M, N]` output, which only this task writes; the asserts above bound
            // every access.
            unsafe {
                gemm(
                    width,
                    r1 - r0,
                    k,
                    dst.add(r0 * n + c0),
                    n as isize,
                    1,
                    false, // overwrite
                    w.as_ptr(),
                    width as isize,
                    1,
                    x.as_ptr().add(r0 * k),
                    k as isize,
                    1,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
            if !finish {
                continue;
            }
            // Finished while these rows are still in L1.
            for i in r0..r1 {
                // SAFETY: row `i`'s columns of this panel, written by this task only.
                let row = unsafe { std::slice::from_raw_parts_mut(dst.add(i * n + c0), width) };
                let res = match epilogue {
                    Epilogue::Residual { residual, .. } => Some(&residual[i * n..][cols.clone()]),
                    _ => None,
                };
                finish_row(row, bias, epilogue, res);
            }
        }
    };
    let count = n.div_ceil(PANEL);
    if m * n * k < MIN_PARALLEL {
        (0..count).for_each(panel);
    } else {
        use rayon::prelude::*;
        (0..count).into_par_iter().for_each(panel);
    }
}

/// The length checks of [`linear`] and [`linear_panels`] (panicking with the operand's name);
/// then whether the output is empty.
fn nothing_to_do(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    [m, k, n]: [usize; 3],
    epilogue: Epilogue<'_>,
    out_len: usize,
) -> bool {
    assert_eq!(x.len(), m * k, "x is not [M, K]");
    assert_eq!(w.len(), k * n, "the weight is not [K, N]");
    assert_eq!(out_len, m * n, "out is not [M, N]");
    assert!(bias.is_none_or(|b| b.len() == n), "bias is not [N]");
    if let Epilogue::Residual { residual, gamma } = epilogue {
        assert_eq!(residual.len(), m * n, "residual is not [M, N]");
        assert!(gamma.is_none_or(|g| g.len() == n), "gamma is not [N]");
    }
    m == 0 || n == 0
}

/// `row ← epilogue(row + bias)`, vectorised for the CPU it runs on.
fn finish_row(row: &mut [f32], bias: Option<&[f32]>, epilogue: Epilogue<'_>, res: Option<&[f32]>) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { finish_row_avx512(row, bias, epilogue, res) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: as above.
            return unsafe { finish_row_avx2(row, bias, epilogue, res) };
        }
    }
    finish_row_generic(row, bias, epilogue, res)
}

/// # Safety
/// The CPU must support AVX-512F (checked at run time by the caller).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn finish_row_avx512(
    row: &mut [f32],
    bias: Option<&[f32]>,
    epilogue: Epilogue<'_>,
    res: Option<&[f32]>,
) {
    finish_row_generic(row, bias, epilogue, res)
}

/// # Safety
/// The CPU must support AVX2 and FMA (checked at run time by the caller).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn finish_row_avx2(
    row: &mut [f32],
    bias: Option<&[f32]>,
    epilogue: Epilogue<'_>,
    res: Option<&[f32]>,
) {
    finish_row_generic(row, bias, epilogue, res)
}

#[inline(always)]
fn finish_row_generic(
    row: &mut [f32],
    bias: Option<&[f32]>,
    epilogue: Epilogue<'_>,
    res: Option<&[f32]>,
) {
    if let Some(b) = bias {
        for (y, b) in row.iter_mut().zip(b) {
            *y += b;
        }
    }
    match (epilogue, res) {
        (Epilogue::Gelu, _) => gelu_generic(row),
        (Epilogue::Residual { gamma, .. }, Some(res)) => match gamma {
            Some(g) => {
                for ((y, r), g) in row.iter_mut().zip(res).zip(g) {
                    *y = r + *y * g;
                }
            }
            None => {
                for (y, r) in row.iter_mut().zip(res) {
                    *y += r;
                }
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::pseudo_random;
    use super::super::uninit::as_uninit;
    use super::*;

    /// The definition in f64, with PyTorch's epilogue order.
    fn reference(
        x: &[f32],
        w: &[f32],
        bias: Option<&[f32]>,
        [m, k, n]: [usize; 3],
        epilogue: Epilogue<'_>,
    ) -> Vec<f64> {
        let mut out = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut y: f64 = (0..k)
                    .map(|p| x[i * k + p] as f64 * w[p * n + j] as f64)
                    .sum();
                y += bias.map_or(0.0, |b| b[j] as f64);
                out[i * n + j] = match epilogue {
                    Epilogue::Plain => y,
                    Epilogue::Gelu => 0.5 * y * (1.0 + libm::erf(y / std::f64::consts::SQRT_2)),
                    Epilogue::Residual { residual, gamma } => {
                        residual[i * n + j] as f64 + gamma.map_or(1.0, |g| g[j] as f64) * y
                    }
                };
            }
        }
        out
    }

    /// Shapes with every remainder: rows not a multiple of the epilogue's row block, odd
    /// columns, a long `K`, and sizes above and below the threshold for threads.
    #[test]
    fn matches_the_definition_across_shapes_and_epilogues() {
        let shapes = [
            [1, 1, 1],
            [5, 7, 3],
            [13, 48, 48],
            [257, 96, 144],
            [300, 1100, 77],
            [257, 768, 200],
            [40, 64, 2304],
        ];
        for (s, &[m, k, n]) in shapes.iter().enumerate() {
            let s = s as u64;
            let x = pseudo_random(m * k, 1 + s, 2.0);
            let w = pseudo_random(k * n, 100 + s, 0.3);
            let b = pseudo_random(n, 200 + s, 1.0);
            let res = pseudo_random(m * n, 300 + s, 3.0);
            let g = pseudo_random(n, 400 + s, 0.5);
            let epilogues = [
                Epilogue::Plain,
                Epilogue::Gelu,
                Epilogue::Residual {
                    residual: &res,
                    gamma: Some(&g),
                },
                Epilogue::Residual {
                    residual: &res,
                    gamma: None,
                },
            ];
            for (e, epilogue) in epilogues.into_iter().enumerate() {
                let bias = (e != 1 || s.is_multiple_of(2)).then_some(b.as_slice());
                let want = reference(&x, &w, bias, [m, k, n], epilogue);
                let panels = pack_panels(&w, k, n);
                for route in ["gemm", "panels"] {
                    let mut out = vec![f32::NAN; m * n];
                    match route {
                        "gemm" => linear(&x, &w, bias, [m, k, n], epilogue, as_uninit(&mut out)),
                        _ => linear_panels(
                            &x,
                            &panels,
                            bias,
                            [m, k, n],
                            epilogue,
                            as_uninit(&mut out),
                        ),
                    }
                    // f32 accumulation over K terms of size ≲ 0.3·2: a few ulps per term.
                    let tol = 2e-6 * (k as f64).sqrt() * 2.0 + 1e-6;
                    for (i, (&got, &want)) in out.iter().zip(&want).enumerate() {
                        assert!(
                            (got as f64 - want).abs() <= tol * (1.0 + want.abs()),
                            "{route} shape {:?} epilogue {e}: [{i}] = {got}, want {want}",
                            [m, k, n]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn panels_are_column_blocks_of_the_weight() {
        // [K = 2, N = 70]: a full panel of 64 columns, then one of 6.
        let w: Vec<f32> = (0..140).map(|i| i as f32).collect();
        let p = pack_panels(&w, 2, 70);
        assert_eq!(p[..64], w[..64]);
        assert_eq!(p[64..128], w[70..134]);
        assert_eq!(p[128..134], w[64..70]);
        assert_eq!(p[134..], w[134..]);
    }

    #[test]
    fn nan_in_a_row_stays_in_that_row() {
        let [m, k, n] = [9, 20, 70];
        let mut x = pseudo_random(m * k, 7, 1.0);
        x[4 * k + 3] = f32::NAN;
        let w = pseudo_random(k * n, 8, 1.0);
        let panels = pack_panels(&w, k, n);
        for route in 0..2 {
            let mut out = vec![0.0; m * n];
            match route {
                0 => linear(&x, &w, None, [m, k, n], Epilogue::Gelu, as_uninit(&mut out)),
                _ => linear_panels(
                    &x,
                    &panels,
                    None,
                    [m, k, n],
                    Epilogue::Gelu,
                    as_uninit(&mut out),
                ),
            }
            for (i, row) in out.chunks(n).enumerate() {
                assert_eq!(
                    row.iter().all(|v| v.is_nan()),
                    i == 4,
                    "route {route} row {i}"
                );
                assert!(i == 4 || row.iter().all(|v| v.is_finite()), "row {i}");
            }
        }
    }
}
