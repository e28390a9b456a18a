//! The fixed 1-D sin-cos encoding of optical wavelengths (`get_1d_sincos_pos_embed_from_grid_torch`).

use burn::prelude::*;

/// PyTorch's float32 frequency tables for the widths of the presets, bit for bit.
/// See `scripts/gen_omega_tables.py` for why they are shipped rather than computed.
const TORCH_TABLES: &[(usize, &[u8])] = &[
    (48, include_bytes!("omega/omega_48.f32le")),
    (1152, include_bytes!("omega/omega_1152.f32le")),
    (2304, include_bytes!("omega/omega_2304.f32le")),
    (3072, include_bytes!("omega/omega_3072.f32le")),
    (4608, include_bytes!("omega/omega_4608.f32le")),
];

/// Frequencies `ω_i = 1 / 10000^(i / (E/2))`, `i < E/2`, as float32.
///
/// Equal to torch's table for the preset widths; for other widths `10000^x` is evaluated in
/// f64 and rounded, which can differ from torch's SLEEF `powf` by one ulp in ~1% of entries.
pub fn sincos_omega(embed_dim: usize) -> Vec<f32> {
    if let Some((_, bytes)) = TORCH_TABLES.iter().find(|(e, _)| *e == embed_dim) {
        return bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
    }
    let half = (embed_dim / 2) as f32;
    (0..embed_dim / 2)
        .map(|i| {
            let x = i as f32 / half;
            let pow = 10000f64.powf(x as f64) as f32;
            1.0 / pow
        })
        .collect()
}

/// Sin-cos embedding of positions: `[sin(pos·ω) | cos(pos·ω)]` (concatenated halves).
///
/// # Shapes
/// - `pos`: `[N]`
/// - output: `[N, E]`
pub fn sincos_embed(pos: Tensor<1>, embed_dim: usize) -> Tensor<2> {
    let device = pos.device();
    let omega = sincos_omega(embed_dim);
    let omega = Tensor::<1>::from_data(TensorData::new(omega, [embed_dim / 2]), &device);
    // One f32 product per element, as torch's einsum "m,d->md" does.
    let args = pos.unsqueeze_dim::<2>(1) * omega.unsqueeze_dim::<2>(0); // [N, E/2]
    Tensor::cat(vec![args.clone().sin(), args.cos()], 1)
}
