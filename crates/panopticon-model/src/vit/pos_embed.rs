//! Resizing the stored positional embedding to any patch grid, exactly as the official model
//! does (`interpolate_pos_encoding` → `F.interpolate(mode="bicubic")`).
//!
//! PyTorch's bicubic resize is separable and linear in its input, so it is expressed here as
//! two small matrices per grid (rows `[h0, M]`, cols `[w0, M]`) whose entries replicate
//! ATen's float32 index/weight arithmetic. Applying them is two matmuls, which keeps the
//! resize differentiable and on the model's device. The matrices are cached per grid size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use burn::prelude::*;

/// One axis of a resize: weights `[out, in]`, row-major.
type Matrix = Arc<Vec<f32>>;

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
struct Key {
    input: usize,
    output: usize,
    /// `f64::to_bits` of the scale factor, 0 for size-based.
    scale_bits: u64,
    antialias: bool,
}

fn cache() -> &'static Mutex<HashMap<Key, Matrix>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Matrix>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cubic1(x: f32, a: f32) -> f32 {
    ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
}

fn cubic2(x: f32, a: f32) -> f32 {
    ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
}

/// `area_pixel_compute_scale` with align_corners=false: `1/scale` if a scale is given
/// (computed in f64, used as f32), else `in/out`.
fn pixel_scale(input: usize, output: usize, scale: Option<f64>) -> f32 {
    match scale {
        Some(s) if s > 0.0 => (1.0 / s) as f32,
        _ => input as f32 / output as f32,
    }
}

/// ATen `upsample_bicubic2d` (align_corners=false, a=−0.75) along one axis.
fn bicubic_matrix(input: usize, output: usize, scale: Option<f64>) -> Vec<f32> {
    let s = pixel_scale(input, output, scale);
    let mut m = vec![0f32; output * input];
    for i in 0..output {
        let real = s * (i as f32 + 0.5) - 0.5;
        let i0 = real.floor();
        let t = real - i0;
        let w = [
            cubic2(t + 1.0, -0.75),
            cubic1(t, -0.75),
            cubic1(1.0 - t, -0.75),
            cubic2(2.0 - t, -0.75),
        ];
        for (j, wj) in w.iter().enumerate() {
            let idx = (i0 as i64 - 1 + j as i64).clamp(0, input as i64 - 1) as usize;
            m[i * input + idx] += wj;
        }
    }
    m
}

/// ATen's antialiased bicubic (`_upsample_bicubic2d_aa`, PIL-style, a=−0.5) along one axis.
fn bicubic_aa_matrix(input: usize, output: usize, scale: Option<f64>) -> Vec<f32> {
    let s = pixel_scale(input, output, scale);
    let support: f32 = if s >= 1.0 { 2.0 * s } else { 2.0 };
    let invscale: f32 = if s >= 1.0 { 1.0 / s } else { 1.0 };
    let max_size = (support.ceil() as usize) * 2 + 1;
    let filter = |x: f32| {
        let x = x.abs();
        if x < 1.0 {
            cubic1(x, -0.5)
        } else if x < 2.0 {
            cubic2(x, -0.5)
        } else {
            0.0
        }
    };
    let mut m = vec![0f32; output * input];
    for i in 0..output {
        let center = (s as f64 * (i as f64 + 0.5)) as f32;
        let xmin = ((center as f64 - support as f64 + 0.5) as i64).max(0) as usize;
        let xmax = ((center as f64 + support as f64 + 0.5) as i64).min(input as i64) as usize;
        let size = xmax.saturating_sub(xmin).min(max_size);
        let w: Vec<f32> = (0..size)
            .map(|j| filter((((j + xmin) as f64 - center as f64 + 0.5) * invscale as f64) as f32))
            .collect();
        let total: f32 = w.iter().sum();
        for (j, wj) in w.iter().enumerate() {
            m[i * input + xmin + j] = if total != 0.0 { wj / total } else { *wj };
        }
    }
    m
}

fn axis_matrix(input: usize, output: usize, scale: Option<f64>, antialias: bool) -> Matrix {
    let key = Key {
        input,
        output,
        scale_bits: scale.map_or(0, f64::to_bits),
        antialias,
    };
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(key)
        .or_insert_with(|| {
            Arc::new(if antialias {
                bicubic_aa_matrix(input, output, scale)
            } else {
                bicubic_matrix(input, output, scale)
            })
        })
        .clone()
}

/// Resizes a `[1, 1+M·M, D]` positional embedding (cls row first) to a `rows × cols` patch
/// grid for an image of `height × width` pixels, as `interpolate_pos_encoding` does:
/// untouched if the grid is the stored one and the image is square; otherwise bicubic with
/// scale factors `(n + offset)/M` (or output size when `offset == 0`).
///
/// # Shapes
/// - `pos_embed`: `[1, 1 + M·M, D]`
/// - output: `[1, 1 + rows·cols, D]`
pub fn interpolate_pos_embed(
    pos_embed: Tensor<3>,
    (rows, cols): (usize, usize),
    (height, width): (usize, usize),
    offset: f64,
    antialias: bool,
) -> Tensor<3> {
    let [_, n1, d] = pos_embed.dims();
    let n = n1 - 1;
    let m = (n as f64).sqrt().round() as usize;
    if rows * cols == n && height == width {
        return pos_embed;
    }
    let device = pos_embed.device();
    let (sy, sx) = if offset != 0.0 {
        (
            Some((rows as f64 + offset) / m as f64),
            Some((cols as f64 + offset) / m as f64),
        )
    } else {
        (None, None)
    };
    let load = |v: Matrix, out: usize| {
        Tensor::<2>::from_data(TensorData::new(v.to_vec(), [out, m]), &device)
    };
    let wy = load(axis_matrix(m, rows, sy, antialias), rows); // [rows, M]
    let wx = load(axis_matrix(m, cols, sx, antialias), cols); // [cols, M]
    let cls = pos_embed.clone().narrow(1, 0, 1);
    let grid = pos_embed.narrow(1, 1, n).reshape([m, m, d]); // [i, j, D]
    // Along the width first, then the height, as ATen does.
    let t = wx.unsqueeze_dim::<3>(0).expand([m, cols, m]).matmul(grid); // [M, cols, D]
    let out = wy
        .matmul(t.reshape([m, cols * d]))
        .reshape([1, rows * cols, d]);
    Tensor::cat(vec![cls, out], 1)
}

/// Output size PyTorch derives from a scale factor: `floor(M · s)` in f64.
pub fn scaled_size(m: usize, target: usize, offset: f64) -> usize {
    if offset == 0.0 {
        return target;
    }
    (m as f64 * ((target as f64 + offset) / m as f64)).floor() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bicubic_rows_sum_to_one() {
        for (i, o) in [(37, 16), (37, 7), (4, 5), (4, 2)] {
            let m = bicubic_matrix(i, o, Some((o as f64 + 0.1) / i as f64));
            for r in 0..o {
                let s: f32 = m[r * i..(r + 1) * i].iter().sum();
                assert!((s - 1.0).abs() < 1e-5, "{i}->{o} row {r}: {s}");
            }
        }
    }

    #[test]
    fn identity_size_is_identity() {
        let m = bicubic_matrix(5, 5, None);
        for r in 0..5 {
            for c in 0..5 {
                let want = if r == c { 1.0 } else { 0.0 };
                assert!((m[r * 5 + c] - want).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn scaled_sizes_are_the_targets() {
        for t in 1..80 {
            assert_eq!(scaled_size(37, t, 0.1), t);
        }
    }
}
