//! How the TIFF decoder's failures, and those of assembling its chunks, become [`ReadError`]s
//! naming the file.

use std::io::ErrorKind;
use std::path::Path;

use tiff::TiffError;

use crate::readers::error::ReadError;

/// The format named in errors.
pub(crate) const FORMAT: &str = "GeoTIFF";

/// A decoder error of the file at `path` read within `max_bytes`.
pub(crate) fn tiff_error(e: TiffError, path: &Path, max_bytes: usize) -> ReadError {
    let path = path.to_path_buf();
    match e {
        TiffError::IoError(source) if source.kind() == ErrorKind::UnexpectedEof => {
            ReadError::Corrupt {
                path,
                format: FORMAT,
                message: format!("file is truncated ({source})"),
            }
        }
        TiffError::IoError(source) => ReadError::Io { path, source },
        TiffError::UnsupportedError(u) => ReadError::Unsupported {
            path,
            format: FORMAT,
            what: u.to_string(),
        },
        TiffError::LimitsExceeded => ReadError::TooLarge {
            path,
            limit_bytes: max_bytes,
            message: "decoder limit exceeded".into(),
        },
        other => ReadError::Corrupt {
            path,
            format: FORMAT,
            message: other.to_string(),
        },
    }
}

/// Why chunk assembly failed, before it is tied to a path.
pub(crate) enum ChunkError {
    Tiff(TiffError),
    Corrupt(String),
    Unsupported(String),
    TooLarge(String),
}

impl ChunkError {
    pub(crate) fn into_read_error(self, path: &Path, max_bytes: usize) -> ReadError {
        let path_buf = path.to_path_buf();
        match self {
            Self::Tiff(e) => tiff_error(e, path, max_bytes),
            Self::Corrupt(message) => ReadError::Corrupt {
                path: path_buf,
                format: FORMAT,
                message,
            },
            Self::Unsupported(what) => ReadError::Unsupported {
                path: path_buf,
                format: FORMAT,
                what,
            },
            Self::TooLarge(message) => ReadError::TooLarge {
                path: path_buf,
                limit_bytes: max_bytes,
                message,
            },
        }
    }
}

impl From<TiffError> for ChunkError {
    fn from(e: TiffError) -> Self {
        Self::Tiff(e)
    }
}
