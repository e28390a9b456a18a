//! The element type embeddings are stored in, and what rounding to it costs.

use std::fmt;
use std::str::FromStr;

use half::f16;

/// Element type of stored embeddings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE float32 (exact).
    #[default]
    F32,
    /// IEEE float16: half the bytes, ~3 significant digits, |x| ≤ 65504.
    F16,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
        }
    }

    /// The values as this type would store them, read back as f32.
    pub fn round_trip(self, x: &[f32]) -> Vec<f32> {
        match self {
            Self::F32 => x.to_vec(),
            Self::F16 => x.iter().map(|&v| f16::from_f32(v).to_f32()).collect(),
        }
    }

    /// The values as float16.
    pub fn to_f16(x: &[f32]) -> Vec<f16> {
        x.iter().map(|&v| f16::from_f32(v)).collect()
    }

    /// Little-endian bytes of the values in this type.
    pub fn le_bytes(self, x: &[f32]) -> Vec<u8> {
        match self {
            Self::F32 => x.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Self::F16 => x
                .iter()
                .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                .collect(),
        }
    }
}

impl FromStr for Dtype {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Self::F32),
            "f16" | "float16" => Ok(Self::F16),
            _ => Err(format!("unknown dtype `{s}`: use f32 or f16")),
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        })
    }
}

/// `‖round(x) − x‖ / ‖x‖` over every finite value of `parts` (NaN rows of no-data tiles are
/// left out).
pub fn relative_rms_error(parts: &[&[f32]], round: impl Fn(&[f32]) -> Vec<f32>) -> f64 {
    let (mut err, mut norm) = (0.0f64, 0.0f64);
    for x in parts {
        for (a, b) in x.iter().zip(round(x)) {
            if a.is_finite() {
                err += (f64::from(b) - f64::from(*a)).powi(2);
                norm += f64::from(*a).powi(2);
            }
        }
    }
    (err / norm.max(f64::MIN_POSITIVE)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_keeps_about_three_digits_and_nan() {
        let x = [1.0f32, -0.333_333, 1234.567, f32::NAN];
        let r = Dtype::F16.round_trip(&x);
        assert_eq!(r[0], 1.0);
        assert!((r[1] + 0.333_333).abs() < 2e-4);
        assert!(r[3].is_nan());
        let e = relative_rms_error(&[&x], |v| Dtype::F16.round_trip(v));
        assert!(e > 0.0 && e < 1e-3, "{e}");
        assert_eq!(Dtype::F16.le_bytes(&[1.0]), [0x00, 0x3c]);
        assert_eq!("F16".parse::<Dtype>(), Ok(Dtype::F16));
        assert!("bf16".parse::<Dtype>().is_err());
    }
}
