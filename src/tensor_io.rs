//! Reading and writing named tensors as safetensors files (the Python-interop format).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{DType, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

/// Errors of [`read_safetensors`] and [`write_safetensors`].
#[derive(Debug, thiserror::Error)]
pub enum TensorIoError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid safetensors file.
    #[error("{path} is not a valid safetensors file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A tensor has an element type this tool does not handle.
    #[error("tensor {name} in {path} has unsupported element type {dtype}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// Its safetensors dtype.
        dtype: String,
    },
}

fn to_dtype(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::BOOL => DType::Bool(burn::tensor::BoolStore::Native),
        Dtype::U8 => DType::U8,
        Dtype::I8 => DType::I8,
        Dtype::I16 => DType::I16,
        Dtype::U16 => DType::U16,
        Dtype::I32 => DType::I32,
        Dtype::U32 => DType::U32,
        Dtype::I64 => DType::I64,
        Dtype::U64 => DType::U64,
        Dtype::F16 => DType::F16,
        Dtype::BF16 => DType::BF16,
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        _ => return None,
    })
}

fn from_dtype(d: DType) -> Option<Dtype> {
    Some(match d {
        DType::Bool(_) => Dtype::BOOL,
        DType::U8 => Dtype::U8,
        DType::I8 => Dtype::I8,
        DType::I16 => Dtype::I16,
        DType::U16 => Dtype::U16,
        DType::I32 => Dtype::I32,
        DType::U32 => Dtype::U32,
        DType::I64 => Dtype::I64,
        DType::U64 => Dtype::U64,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        _ => return None,
    })
}

/// Reads every tensor of a safetensors file, keeping each element type.
pub fn read_safetensors(
    path: impl AsRef<Path>,
) -> Result<BTreeMap<String, TensorData>, TensorIoError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| TensorIoError::Io {
        path: path.into(),
        source,
    })?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| TensorIoError::Format {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let dtype = to_dtype(view.dtype()).ok_or_else(|| TensorIoError::Unsupported {
            path: path.into(),
            name: name.clone(),
            dtype: format!("{:?}", view.dtype()),
        })?;
        let data = TensorData::from_bytes_vec(view.data().to_vec(), view.shape().to_vec(), dtype);
        out.insert(name, data);
    }
    Ok(out)
}

/// The shapes a safetensors file's header states, without reading its data (a header of more
/// than 100 MB, safetensors' own limit, is refused).
pub fn read_shapes(path: impl AsRef<Path>) -> Result<BTreeMap<String, Vec<usize>>, TensorIoError> {
    use std::io::Read;
    let path = path.as_ref();
    let io = |source| TensorIoError::Io {
        path: path.into(),
        source,
    };
    let format = |reason: String| TensorIoError::Format {
        path: path.into(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| format("shorter than its 8-byte header length".into()))?;
    let len = u64::from_le_bytes(len);
    if len > 100_000_000 {
        return Err(format(format!("a header of {len} bytes")));
    }
    let mut header = Vec::new();
    file.take(len).read_to_end(&mut header).map_err(io)?;
    if header.len() as u64 != len {
        return Err(format("the header is truncated".into()));
    }
    let entries: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| format(format!("header: {e}")))?;
    Ok(entries
        .into_iter()
        .filter(|(k, _)| k != "__metadata__")
        .map(|(k, v)| {
            let shape = v["shape"]
                .as_array()
                .map(|d| d.iter().map(|x| x.as_u64().unwrap_or(0) as usize).collect())
                .unwrap_or_default();
            (k, shape)
        })
        .collect())
}

/// Writes tensors to a safetensors file atomically: a temporary file next to `path`,
/// renamed over it only once complete.
pub fn write_safetensors(
    path: impl AsRef<Path>,
    tensors: &[(String, TensorData)],
) -> Result<(), TensorIoError> {
    write_safetensors_with_metadata(path, tensors, Vec::new())
}

/// [`write_safetensors`] with `__metadata__` entries (at most one keeps the bytes
/// reproducible: safetensors writes the map in hash order).
pub fn write_safetensors_with_metadata(
    path: impl AsRef<Path>,
    tensors: &[(String, TensorData)],
    metadata: Vec<(String, String)>,
) -> Result<(), TensorIoError> {
    let path = path.as_ref();
    let mut views = Vec::with_capacity(tensors.len());
    for (name, data) in tensors {
        let dtype = from_dtype(data.dtype()).ok_or_else(|| TensorIoError::Unsupported {
            path: path.into(),
            name: name.clone(),
            dtype: format!("{:?}", data.dtype()),
        })?;
        let view = TensorView::new(dtype, data.shape().to_vec(), data.as_bytes()).map_err(|e| {
            TensorIoError::Format {
                path: path.into(),
                reason: format!("{name}: {e}"),
            }
        })?;
        views.push((name.clone(), view));
    }
    let metadata = (!metadata.is_empty()).then(|| metadata.into_iter().collect());
    let bytes = safetensors::serialize(views, metadata).map_err(|e| TensorIoError::Format {
        path: path.into(),
        reason: e.to_string(),
    })?;
    crate::atomic_write(path, &bytes).map_err(|source| TensorIoError::Io {
        path: path.into(),
        source,
    })
}
