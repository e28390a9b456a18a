//! NumPy `.npy` v1.0 arrays.

use super::Dtype;

/// NumPy `.npy` v1.0 header of a C-ordered little-endian float array of `dtype`.
pub fn npy_header(shape: &[usize], dtype: Dtype) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let descr = match dtype {
        Dtype::F32 => "<f4",
        Dtype::F16 => "<f2",
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + dict + newline, padded to a multiple of 64.
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.as_bytes());
    out
}

/// A whole `.npy` file of `values` (row-major, `shape`) stored as `dtype`.
pub(super) fn encode(values: &[f32], shape: &[usize], dtype: Dtype) -> Vec<u8> {
    let mut bytes = npy_header(shape, dtype);
    bytes.extend(dtype.le_bytes(values));
    bytes
}
