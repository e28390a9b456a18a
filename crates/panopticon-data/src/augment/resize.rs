//! PyTorch's anti-aliased bicubic resize (`interpolate(mode="bicubic", antialias=True,
//! align_corners=False)`, the PIL-compatible filter torchvision uses), spec §4.4 step 5.

use super::error::{AugmentError, Result};

/// Keys cubic kernel with `a = −0.5` (torch's `aa_filter` for bicubic).
fn cubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Normalised filter taps of a 1-D resize from `input` to `output` samples.
#[derive(Debug, Clone)]
pub(crate) struct Taps {
    /// First input index of each output sample.
    start: Vec<usize>,
    /// Weights of each output sample (`len[i]` of them from `offset[i]`), computed in f64
    /// and stored as f32 like torch's float kernels.
    weights: Vec<f32>,
    offset: Vec<usize>,
    len: Vec<usize>,
}

impl Taps {
    /// torch's `_compute_index_ranges_weights` for the antialiased bicubic filter.
    pub(crate) fn new(input: usize, output: usize) -> Self {
        let scale = input as f64 / output as f64;
        let support = 2.0 * scale.max(1.0);
        let invscale = if scale >= 1.0 { 1.0 / scale } else { 1.0 };
        let (mut start, mut weights, mut offset, mut len) = (vec![], vec![], vec![], vec![]);
        let mut raw: Vec<f64> = Vec::new();
        for i in 0..output {
            let center = scale * (i as f64 + 0.5);
            // `as i64` truncates toward zero like the C++ static_cast.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(input as i64).max(0) as usize;
            let n = xmax.saturating_sub(xmin);
            let first = weights.len();
            let mut total = 0.0;
            for j in 0..n {
                let w = cubic(((j + xmin) as f64 - center + 0.5) * invscale);
                raw.push(w);
                total += w;
            }
            let norm = if total != 0.0 { total } else { 1.0 };
            weights.extend(raw.drain(..).map(|w: f64| (w / norm) as f32));
            start.push(xmin);
            offset.push(first);
            len.push(n);
        }
        Self {
            start,
            weights,
            offset,
            len,
        }
    }

    /// First input index and weights of output sample `i`.
    #[inline]
    fn taps(&self, i: usize) -> (usize, &[f32]) {
        (
            self.start[i],
            &self.weights[self.offset[i]..self.offset[i] + self.len[i]],
        )
    }
}

/// Resizes every channel of `src` to `out_h × out_w` with anti-aliased bicubic
/// interpolation (separable: width first, then height, as torch does). Output is not clamped.
///
/// # Shapes
/// - `src`: `[C, in_h, in_w]` with `in = [C, in_h, in_w]`.
/// - returns `[C, out_h, out_w]`.
pub fn resize_bicubic_aa(
    src: &[f32],
    input: [usize; 3],
    out_h: usize,
    out_w: usize,
) -> Result<Vec<f32>> {
    let [c, in_h, in_w] = input;
    for (what, n) in [
        ("resize input channels", c),
        ("resize input height", in_h),
        ("resize input width", in_w),
        ("resize output height", out_h),
        ("resize output width", out_w),
    ] {
        if n == 0 {
            return Err(AugmentError::Empty { what });
        }
    }
    if src.len() != c * in_h * in_w {
        return Err(AugmentError::DataLength {
            channels: c,
            height: in_h,
            width: in_w,
            expected: c * in_h * in_w,
            got: src.len(),
        });
    }
    let horizontal = Taps::new(in_w, out_w);
    let vertical = Taps::new(in_h, out_h);
    let mut out = Vec::with_capacity(c * out_h * out_w);
    let mut tmp = vec![0.0f32; in_h * out_w];
    for ch in src.chunks_exact(in_h * in_w) {
        resize_plane(
            ch,
            in_h,
            in_w,
            out_h,
            out_w,
            &horizontal,
            &vertical,
            &mut tmp,
            &mut out,
        );
    }
    Ok(out)
}

/// One `[in_h, in_w]` plane → appended `[out_h, out_w]`; `tmp` holds `[in_h, out_w]`.
#[allow(clippy::too_many_arguments)] // private hot loop; grouping would only add indirection
pub(crate) fn resize_plane(
    plane: &[f32],
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
    horizontal: &Taps,
    vertical: &Taps,
    tmp: &mut Vec<f32>,
    out: &mut Vec<f32>,
) {
    // torch skips a pass whose size is unchanged (the taps would be the identity anyway).
    let rows: &[f32] = if in_w == out_w {
        plane
    } else {
        tmp.clear();
        for row in plane.chunks_exact(in_w) {
            for x in 0..out_w {
                let (start, w) = horizontal.taps(x);
                let acc: f32 = w.iter().zip(&row[start..]).map(|(&wk, &v)| wk * v).sum();
                tmp.push(acc);
            }
        }
        tmp
    };
    if in_h == out_h {
        out.extend_from_slice(rows);
        return;
    }
    // Whole rows at a time keeps the vertical pass cache-friendly.
    let mut acc = vec![0.0f32; out_w];
    for y in 0..out_h {
        acc.fill(0.0);
        let (start, w) = vertical.taps(y);
        for (k, &wk) in w.iter().enumerate() {
            let row = &rows[(start + k) * out_w..(start + k + 1) * out_w];
            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += wk * v);
        }
        out.extend_from_slice(&acc);
    }
}
