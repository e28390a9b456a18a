//! N-d arrays read from HDF5 datasets, in their stored type.

/// Element type of an HDF5 dataset (numeric classes only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H5DType {
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 64-bit integer.
    U64,
    /// Signed 64-bit integer (numpy's default integer, so common in h5py files).
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl H5DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
        }
    }

    /// The numpy name (`"uint8"`, …, `"float64"`), as h5py reports `dataset.dtype`.
    pub fn numpy_name(self) -> &'static str {
        match self {
            Self::U8 => "uint8",
            Self::I8 => "int8",
            Self::U16 => "uint16",
            Self::I16 => "int16",
            Self::U32 => "uint32",
            Self::I32 => "int32",
            Self::U64 => "uint64",
            Self::I64 => "int64",
            Self::F32 => "float32",
            Self::F64 => "float64",
        }
    }
}

/// Elements in their stored type, row-major (C order), native byte order.
#[derive(Debug, Clone, PartialEq)]
pub enum H5Data {
    /// Unsigned 8-bit.
    U8(Vec<u8>),
    /// Signed 8-bit.
    I8(Vec<i8>),
    /// Unsigned 16-bit.
    U16(Vec<u16>),
    /// Signed 16-bit.
    I16(Vec<i16>),
    /// Unsigned 32-bit.
    U32(Vec<u32>),
    /// Signed 32-bit.
    I32(Vec<i32>),
    /// Unsigned 64-bit.
    U64(Vec<u64>),
    /// Signed 64-bit.
    I64(Vec<i64>),
    /// 32-bit float.
    F32(Vec<f32>),
    /// 64-bit float.
    F64(Vec<f64>),
}

macro_rules! each {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            H5Data::U8($v) => $body,
            H5Data::I8($v) => $body,
            H5Data::U16($v) => $body,
            H5Data::I16($v) => $body,
            H5Data::U32($v) => $body,
            H5Data::I32($v) => $body,
            H5Data::U64($v) => $body,
            H5Data::I64($v) => $body,
            H5Data::F32($v) => $body,
            H5Data::F64($v) => $body,
        }
    };
}

impl H5Data {
    /// The element type.
    pub fn dtype(&self) -> H5DType {
        match self {
            Self::U8(_) => H5DType::U8,
            Self::I8(_) => H5DType::I8,
            Self::U16(_) => H5DType::U16,
            Self::I16(_) => H5DType::I16,
            Self::U32(_) => H5DType::U32,
            Self::I32(_) => H5DType::I32,
            Self::U64(_) => H5DType::U64,
            Self::I64(_) => H5DType::I64,
            Self::F32(_) => H5DType::F32,
            Self::F64(_) => H5DType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every element as `f32` (`as` cast, i.e. numpy's `astype(float32)`: exact for integers
    /// up to 2^24, round-to-nearest for wider values and `f64`).
    #[allow(clippy::unnecessary_cast)] // one macro arm per type, f32 included
    pub fn to_f32(&self) -> Vec<f32> {
        each!(self, v => v.iter().map(|&x| x as f32).collect())
    }

    /// Every element as `f64` (exact except for 64-bit integers beyond 2^53).
    #[allow(clippy::unnecessary_cast)] // one macro arm per type, f64 included
    pub fn to_f64(&self) -> Vec<f64> {
        each!(self, v => v.iter().map(|&x| x as f64).collect())
    }

    /// Little-endian bytes of the elements (numpy's `astype('<…').tobytes()`).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        each!(self, v => v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}

/// An N-d array read from an HDF5 dataset (or one row of it).
///
/// # Shapes
/// - `data`: `shape.iter().product()` elements in row-major order; a scalar dataset has an
///   empty `shape` and one element.
#[derive(Debug, Clone, PartialEq)]
pub struct H5Array {
    /// Extent of each axis.
    pub shape: Vec<usize>,
    /// The elements.
    pub data: H5Data,
}

impl H5Array {
    /// The element type.
    pub fn dtype(&self) -> H5DType {
        self.data.dtype()
    }

    /// The elements as `f32`, row-major.
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.to_f32()
    }
}
