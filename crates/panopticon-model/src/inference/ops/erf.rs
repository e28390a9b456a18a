//! Branch-free f32 `erf` and exact-GELU kernels over slices, written so LLVM vectorises the
//! loops (no calls, no data-dependent branches): Flex's own GELU calls scalar `libm::erff`
//! per element, 35× slower than PyTorch's.

/// `erf(x)`, |error| ≤ 5e-7 (Abramowitz & Stegun 7.1.26 with a polynomial `exp`).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152_1,
        1.061_405_4,
    ];
    let a = x.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let y = 1.0 - poly * exp_neg(a * a);
    // Near 0 that difference cancels; the Maclaurin series (to x^11) is exact to 2e-8 there.
    let x2 = x * x;
    let series = x
        * (1.0
            - x2 * (1.0 / 3.0
                - x2 * (1.0 / 10.0
                    - x2 * (1.0 / 42.0 - x2 * (1.0 / 216.0 - x2 * (1.0 / 1320.0))))))
        * std::f32::consts::FRAC_2_SQRT_PI;
    if a < 0.5 { series } else { y.copysign(x) }
}

/// `exp(-z)` for `z ≥ 0`; 0 beyond f32's normal range, NaN for NaN. Cody–Waite reduction to
/// `r ∈ [-ln2/2, ln2/2]`, degree-7 Taylor polynomial (relative error ≤ 5e-9 before rounding),
/// scaled by `2^n` through the exponent bits.
#[inline(always)]
pub(super) fn exp_neg(z: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // 1.5·2^23: adding it rounds to an integer, which then sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // Not `z.min(87.0)`: that would turn a NaN into 87 and hide it.
    let v = -(if z > 87.0 { 87.0 } else { z });
    let shifted = v * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = (v - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let ni = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    p * f32::from_bits(((ni + 127) << 23) as u32)
}

/// In place: `x ← 0.5·x·(1 + erf(x/√2))`, the exact (not tanh) GELU. Uses AVX2+FMA when the
/// CPU has them (8 lanes instead of 4; the same operations, no contraction), SSE2 otherwise.
pub fn gelu_in_place(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function is compiled for.
        return unsafe { gelu_avx2(xs) };
    }
    gelu_generic(xs)
}

#[inline(always)]
pub(super) fn gelu_generic(xs: &mut [f32]) {
    for x in xs {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// # Safety
/// The CPU must support AVX2 and FMA (checked at run time by the caller).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_avx2(xs: &mut [f32]) {
    gelu_generic(xs)
}

/// Below this many elements per task a rayon task costs more than it saves.
#[cfg(feature = "flex")]
const MIN_PER_TASK: usize = 1 << 16;

/// [`gelu_in_place`] split over rayon's threads for large slices (the pool is already
/// running: no thread start per call).
pub fn gelu_in_place_par(xs: &mut [f32]) {
    #[cfg(feature = "flex")]
    if xs.len() >= 2 * MIN_PER_TASK {
        use rayon::prelude::*;
        let chunk = xs
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(MIN_PER_TASK);
        xs.par_chunks_mut(chunk).for_each(gelu_in_place);
        return;
    }
    gelu_in_place(xs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// musl's `erf` (the `libm` crate, f64): an independent reference.
    fn erf_ref(x: f64) -> f64 {
        libm::erf(x)
    }

    #[test]
    fn erf_is_within_5e_7_everywhere() {
        let mut worst = (0.0f64, 0.0f32);
        for i in -80_000..=80_000 {
            let x = i as f32 * 1e-4; // [-8, 8]
            let err = (erf(x) as f64 - erf_ref(x as f64)).abs();
            if err > worst.0 {
                worst = (err, x);
            }
        }
        assert!(worst.0 <= 5e-7, "max |Δ| {:e} at {}", worst.0, worst.1);
        for x in [
            0.0f32,
            -0.0,
            1e-30,
            20.0,
            -20.0,
            1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ] {
            let want = erf_ref(x as f64) as f32;
            assert!((erf(x) - want).abs() <= 5e-7, "erf({x}) = {}", erf(x));
        }
        assert!(erf(f32::NAN).is_nan());
    }

    #[test]
    fn gelu_matches_the_exact_definition_and_threads_change_nothing() {
        let xs: Vec<f32> = (0..300_001)
            .map(|i| (i as f32 - 150_000.0) * 7e-5)
            .collect();
        let mut serial = xs.clone();
        gelu_in_place(&mut serial);
        let mut par = xs.clone();
        gelu_in_place_par(&mut par);
        assert_eq!(serial, par);
        for (x, g) in xs.iter().zip(&serial) {
            let want = 0.5 * *x as f64 * (1.0 + erf_ref(*x as f64 / std::f64::consts::SQRT_2));
            let tol = 2e-7 * x.abs().max(1.0) as f64;
            assert!(
                (*g as f64 - want).abs() <= tol,
                "gelu({x}) = {g}, want {want}"
            );
        }
    }
}
