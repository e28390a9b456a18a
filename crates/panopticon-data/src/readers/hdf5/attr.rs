//! HDF5 attribute values.

/// The value of an HDF5 attribute, widened to one type per class.
///
/// A scalar attribute gives a one-element vector; an N-d attribute its elements row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Fixed- or variable-length strings (h5py writes `str` as variable-length UTF-8 and
    /// `np.bytes_` as fixed-length ASCII; padding is removed).
    Text(Vec<String>),
    /// Signed integers of any width.
    Int(Vec<i64>),
    /// Unsigned integers of any width.
    UInt(Vec<u64>),
    /// 32- or 64-bit floats (`f32` widened exactly).
    Float(Vec<f64>),
}

impl AttrValue {
    /// The string of a single-string attribute.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(v) if v.len() == 1 => Some(&v[0]),
            _ => None,
        }
    }

    /// Numeric values as `f64` (integers beyond 2^53 round); `None` for strings.
    pub fn to_f64s(&self) -> Option<Vec<f64>> {
        match self {
            Self::Text(_) => None,
            Self::Int(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Self::UInt(v) => Some(v.iter().map(|&x| x as f64).collect()),
            Self::Float(v) => Some(v.clone()),
        }
    }

    /// The value of a single-number attribute as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self.to_f64s() {
            Some(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(v) => v.len(),
            Self::Int(v) => v.len(),
            Self::UInt(v) => v.len(),
            Self::Float(v) => v.len(),
        }
    }

    /// Whether there are no elements (a null dataspace).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
