//! Glue between `hdf5_reader` and the crate's types: element types, typed reads, attribute
//! values and errors.

use std::path::Path;

use hdf5_reader::error::Error;
use hdf5_reader::{Attribute, Dataset, Datatype, H5Type, SliceInfo, VarLenKind};

use super::array::{H5Array, H5DType, H5Data};
use super::attr::AttrValue;
use crate::readers::ReadError;

pub(super) const FORMAT: &str = "HDF5";

/// The element type of a numeric HDF5 datatype (either byte order); `None` otherwise.
pub(super) fn dtype(dt: &Datatype) -> Option<H5DType> {
    Some(match dt {
        Datatype::FixedPoint { size, signed, .. } => match (size, signed) {
            (1, false) => H5DType::U8,
            (1, true) => H5DType::I8,
            (2, false) => H5DType::U16,
            (2, true) => H5DType::I16,
            (4, false) => H5DType::U32,
            (4, true) => H5DType::I32,
            (8, false) => H5DType::U64,
            (8, true) => H5DType::I64,
            _ => return None,
        },
        Datatype::FloatingPoint { size: 4, .. } => H5DType::F32,
        Datatype::FloatingPoint { size: 8, .. } => H5DType::F64,
        _ => return None,
    })
}

fn read_vec<T: H5Type + Copy>(
    ds: &Dataset,
    sel: &SliceInfo,
) -> Result<(Vec<usize>, Vec<T>), Error> {
    let arr = ds.read_slice::<T>(sel)?;
    let shape = arr.shape().to_vec();
    // `iter` walks in logical row-major order whatever the memory layout.
    Ok((shape, arr.iter().copied().collect()))
}

/// Reads selection `sel` of `ds` as `dtype` (byte order converted by the decoder).
pub(super) fn read_typed(ds: &Dataset, dtype: H5DType, sel: &SliceInfo) -> Result<H5Array, Error> {
    macro_rules! read {
        ($t:ty, $variant:ident) => {{
            let (shape, v) = read_vec::<$t>(ds, sel)?;
            H5Array {
                shape,
                data: H5Data::$variant(v),
            }
        }};
    }
    Ok(match dtype {
        H5DType::U8 => read!(u8, U8),
        H5DType::I8 => read!(i8, I8),
        H5DType::U16 => read!(u16, U16),
        H5DType::I16 => read!(i16, I16),
        H5DType::U32 => read!(u32, U32),
        H5DType::I32 => read!(i32, I32),
        H5DType::U64 => read!(u64, U64),
        H5DType::I64 => read!(i64, I64),
        H5DType::F32 => read!(f32, F32),
        H5DType::F64 => read!(f64, F64),
    })
}

/// The value of `attr`, or `None` for a class other than string / integer / float.
pub(super) fn attr_value(attr: &Attribute) -> Result<Option<AttrValue>, Error> {
    let text = match &attr.datatype {
        Datatype::String { .. } => true,
        Datatype::VarLen { kind, .. } => *kind == VarLenKind::String,
        _ => false,
    };
    if text {
        return Ok(Some(AttrValue::Text(if attr.shape.is_empty() {
            vec![attr.read_string()?]
        } else {
            attr.read_strings()?
        })));
    }
    let Some(dt) = dtype(&attr.datatype) else {
        return Ok(None);
    };
    let ints = |v: Vec<i64>| Some(AttrValue::Int(v));
    let uints = |v: Vec<u64>| Some(AttrValue::UInt(v));
    Ok(match dt {
        H5DType::I8 => ints(widen(attr.read_1d::<i8>()?)),
        H5DType::I16 => ints(widen(attr.read_1d::<i16>()?)),
        H5DType::I32 => ints(widen(attr.read_1d::<i32>()?)),
        H5DType::I64 => ints(attr.read_1d::<i64>()?),
        H5DType::U8 => uints(widen(attr.read_1d::<u8>()?)),
        H5DType::U16 => uints(widen(attr.read_1d::<u16>()?)),
        H5DType::U32 => uints(widen(attr.read_1d::<u32>()?)),
        H5DType::U64 => uints(attr.read_1d::<u64>()?),
        H5DType::F32 => Some(AttrValue::Float(widen(attr.read_1d::<f32>()?))),
        H5DType::F64 => Some(AttrValue::Float(attr.read_1d::<f64>()?)),
    })
}

fn widen<A: Copy, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(B::from).collect()
}

/// Maps a decoder error about `what` (e.g. "dataset `x`") in `path` to a [`ReadError`].
pub(super) fn map_err(e: Error, path: &Path, what: &str, limit_bytes: usize) -> ReadError {
    let path = path.to_path_buf();
    let mut cause = &e;
    while let Error::Context { source, .. } = cause {
        cause = source;
    }
    match cause {
        Error::Io(io) => ReadError::Io {
            path,
            source: std::io::Error::new(io.kind(), format!("{what}: {io}")),
        },
        Error::DatasetNotFound(_) | Error::GroupNotFound(_) | Error::AttributeNotFound(_) => {
            ReadError::NotFound {
                path,
                what: format!("{what} ({e})"),
            }
        }
        Error::ResourceLimit(_) => ReadError::TooLarge {
            path,
            limit_bytes,
            message: format!("{what}: {e}"),
        },
        Error::UnsupportedSuperblockVersion(_)
        | Error::UnsupportedObjectHeaderVersion(_)
        | Error::UnsupportedBTreeVersion(_)
        | Error::UnsupportedDatatypeClass(_)
        | Error::UnsupportedLayoutClass(_)
        | Error::UnsupportedLayoutVersion(_)
        | Error::UnsupportedChunkIndexType(_)
        | Error::UnsupportedFilter(_)
        | Error::UnsupportedEncoding(_)
        | Error::TypeMismatch { .. } => ReadError::Unsupported {
            path,
            format: FORMAT,
            what: format!("{what}: {e}"),
        },
        _ => ReadError::Corrupt {
            path,
            format: FORMAT,
            message: format!("{what}: {e}"),
        },
    }
}
