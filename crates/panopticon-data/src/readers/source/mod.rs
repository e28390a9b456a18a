//! Where raster bytes come from: a local file or a remote object read by HTTP range requests.
//!
//! **Opening any raster input** (local path, `http(s)://` URL, `s3://bucket/key`,
//! `gs://bucket/key` or `az://container/blob`):
//!
//! ```no_run
//! use panopticon_data::readers::{GeoTiff, RasterLocation, RemoteOptions};
//! let loc = RasterLocation::parse("s3://bucket/scene.tif")?;
//! let mut tif = GeoTiff::open_location(&loc, &RemoteOptions::default())?;
//! let window = tif.read(0, 0, 512, tif.width)?; // fetches only the tiles of these rows
//! # Ok::<(), panopticon_data::readers::ReadError>(())
//! ```
//!
//! [`read_location_bytes`] reads a whole small file or object (STAC items) the same way, and
//! [`ObjectPrefix`] uploads finished files to an `s3://bucket/prefix` with the same settings.
//!
//! Errors name the path or the URL ([`RasterLocation::label`]). Remote reads fetch the header
//! with one 64 KiB range request and, for each window, the byte ranges of the strips/tiles it
//! needs (merged when within 64 KiB of each other, at most
//! [`RemoteOptions::max_requests`] in flight); reads that cannot connect, time out, are reset
//! or cut mid-body, come back short or get a 5xx/429 answer are retried with exponential
//! backoff ([`RemoteOptions::max_retries`] times), then fail naming the byte range and the
//! attempts; a server that ignores `Range` is refused before its body is read. A whole remote
//! file is never fetched to get a window.
//!
//! S3 follows the AWS conventions: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
//! `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ENDPOINT_URL` (path-style
//! requests, e.g. MinIO), `AWS_PROFILE` with `~/.aws/credentials` and `~/.aws/config`,
//! `AWS_NO_SIGN_REQUEST=YES` for public buckets (unsigned requests) and
//! `AWS_REQUEST_PAYER=requester` for requester-pays ones, as GDAL spells them. Google Cloud
//! Storage: `GOOGLE_APPLICATION_CREDENTIALS`, `GOOGLE_SERVICE_ACCOUNT(_KEY)`,
//! `GS_NO_SIGN_REQUEST=YES`; Azure: `AZURE_STORAGE_ACCOUNT_NAME` with
//! `AZURE_STORAGE_ACCOUNT_KEY` or `AZURE_STORAGE_SAS_TOKEN`, `AZURE_NO_SIGN_REQUEST=YES`,
//! `AZURE_STORAGE_USE_EMULATOR=true` for Azurite (see `clouds.rs`).

mod aws_profile;
mod clouds;
mod prefix;
mod ranges;
mod remote;
mod retry;
mod store;

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

pub use prefix::{ObjectPrefix, UploadError};
pub use ranges::{MAX_REQUEST, MERGE_GAP, merge_ranges};
pub use remote::{RemoteFile, RemoteStats};
pub use store::RemoteOptions;

use super::error::ReadError;
use super::geotiff::{DEFAULT_MAX_DECODED_BYTES, GeoTiff};

/// A raster input: a local path, or an `http(s)://`, `s3://`, `gs://` or `az://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RasterLocation {
    /// A file on the local file system.
    Local(PathBuf),
    /// An object read with range requests.
    Remote(Url),
}

impl RasterLocation {
    /// `http://`, `https://`, `s3://`, `gs://`, `az://` and `abfs(s)://` give
    /// [`RasterLocation::Remote`]; other `scheme://` prefixes are refused (naming the input);
    /// anything else is a local path.
    pub fn parse(input: &str) -> Result<Self, ReadError> {
        let Some((scheme, _)) = input.split_once("://") else {
            return Ok(Self::Local(PathBuf::from(input)));
        };
        let is_scheme = scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !is_scheme {
            return Ok(Self::Local(PathBuf::from(input)));
        }
        let bad = |message: String| ReadError::Io {
            path: PathBuf::from(input),
            source: io::Error::new(io::ErrorKind::InvalidInput, message),
        };
        match scheme.to_ascii_lowercase().as_str() {
            s if store::REMOTE_SCHEMES.contains(&s) => Url::parse(input)
                .map(Self::Remote)
                .map_err(|e| bad(format!("not a valid URL ({e})"))),
            "file" => Url::parse(input)
                .ok()
                .and_then(|u| u.to_file_path().ok())
                .map(Self::Local)
                .ok_or_else(|| bad("not a valid file:// URL".into())),
            other => Err(bad(format!(
                "unsupported URL scheme `{other}://` (use a local path, http(s)://, s3://, gs:// \
                 or az://)"
            ))),
        }
    }

    /// Whether the raster is read over the network.
    pub fn is_remote(&self) -> bool {
        matches!(self, Self::Remote(_))
    }

    /// The path, or the URL as a path, for error messages and output tables.
    pub fn label(&self) -> PathBuf {
        match self {
            Self::Local(p) => p.clone(),
            Self::Remote(u) => PathBuf::from(u.as_str()),
        }
    }

    /// The file name's extension, lower-cased (for a URL: of its path, query ignored).
    pub fn extension(&self) -> Option<String> {
        let name = match self {
            Self::Local(p) => p.file_name()?.to_str()?.to_string(),
            Self::Remote(u) => u.path_segments()?.next_back()?.to_string(),
        };
        let (_, ext) = name.rsplit_once('.')?;
        Some(ext.to_ascii_lowercase())
    }
}

impl fmt::Display for RasterLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(p) => write!(f, "{}", p.display()),
            Self::Remote(u) => f.write_str(u.as_str()),
        }
    }
}

/// Checks that a location can be read, without reading it: the file's metadata, or one HEAD
/// request. The error names the location.
pub fn probe_location(loc: &RasterLocation, opts: &RemoteOptions) -> Result<(), ReadError> {
    let io_err = |source| ReadError::Io {
        path: loc.label(),
        source,
    };
    match loc {
        RasterLocation::Local(p) => std::fs::metadata(p).map(drop).map_err(io_err),
        RasterLocation::Remote(u) => {
            RemoteFile::probe(u, opts).map_err(|m| io_err(io::Error::other(m)))
        }
    }
}

/// The whole content of a small file or object (a STAC item, a JSON sidecar), refused past
/// `max_bytes` before it is read. The error names the location.
pub fn read_location_bytes(
    loc: &RasterLocation,
    opts: &RemoteOptions,
    max_bytes: u64,
) -> Result<Vec<u8>, ReadError> {
    let too_large = |size: u64| ReadError::TooLarge {
        path: loc.label(),
        limit_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
        message: format!("the file has {size} bytes"),
    };
    let io_err = |source| ReadError::Io {
        path: loc.label(),
        source,
    };
    let mut source = Source::open(loc, opts)?;
    let size = source.seek(SeekFrom::End(0)).map_err(io_err)?;
    if size > max_bytes {
        return Err(too_large(size));
    }
    source.seek(SeekFrom::Start(0)).map_err(io_err)?;
    let mut out = Vec::with_capacity(size as usize);
    source.read_to_end(&mut out).map_err(io_err)?;
    Ok(out)
}

/// The bytes of a raster: a buffered local file or a [`RemoteFile`].
pub enum Source {
    /// A local file.
    Local(BufReader<File>),
    /// A remote object.
    Remote(Box<RemoteFile>),
}

impl Source {
    /// Opens `loc` (for a remote object: its first range read).
    pub fn open(loc: &RasterLocation, opts: &RemoteOptions) -> Result<Self, ReadError> {
        match loc {
            RasterLocation::Local(p) => File::open(p)
                .map(|f| Self::Local(BufReader::new(f)))
                .map_err(|source| ReadError::Io {
                    path: p.clone(),
                    source,
                }),
            RasterLocation::Remote(u) => RemoteFile::open(u, opts)
                .map(|r| Self::Remote(Box::new(r)))
                .map_err(|m| ReadError::Io {
                    path: loc.label(),
                    source: io::Error::other(m),
                }),
        }
    }

    /// Fetches `ranges` ahead of reading them (remote objects; a no-op for local files).
    pub fn prefetch(&mut self, ranges: &[Range<u64>]) -> io::Result<()> {
        match self {
            Self::Local(_) => Ok(()),
            Self::Remote(r) => r.prefetch(ranges),
        }
    }

    /// Requests and bytes fetched, for a remote object.
    pub fn remote_stats(&self) -> Option<Arc<RemoteStats>> {
        match self {
            Self::Local(_) => None,
            Self::Remote(r) => Some(r.stats()),
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Local(f) => f.read(buf),
            Self::Remote(r) => r.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Self::Local(f) => f.seek(to),
            Self::Remote(r) => r.seek(to),
        }
    }
}

impl GeoTiff<Source> {
    /// Opens a GeoTIFF at a local path or URL: the header only; each [`GeoTiff::read`] then
    /// fetches the strips/tiles of its window together. Windows are capped at
    /// [`DEFAULT_MAX_DECODED_BYTES`].
    pub fn open_location(loc: &RasterLocation, opts: &RemoteOptions) -> Result<Self, ReadError> {
        Self::open_location_overview(loc, opts, 0)
    }

    /// [`GeoTiff::open_location`] reading overview `overview` (0 = full resolution, 1 = the
    /// largest overview, …).
    pub fn open_location_overview(
        loc: &RasterLocation,
        opts: &RemoteOptions,
        overview: usize,
    ) -> Result<Self, ReadError> {
        let source = Source::open(loc, opts)?;
        let tif =
            Self::from_reader_overview(source, &loc.label(), DEFAULT_MAX_DECODED_BYTES, overview)?;
        // Local reads are cheap one by one: no need to work out ranges ahead.
        Ok(if loc.is_remote() {
            tif.with_prefetch(Source::prefetch)
        } else {
            tif
        })
    }

    /// Requests and bytes fetched so far, for a remote file.
    pub fn remote_stats(&mut self) -> Option<Arc<RemoteStats>> {
        self.source().remote_stats()
    }
}

#[cfg(test)]
mod tests {
    use super::RasterLocation;

    #[test]
    fn urls_and_paths_are_told_apart() {
        assert!(matches!(
            RasterLocation::parse("scenes/a.tif").unwrap(),
            RasterLocation::Local(_)
        ));
        let s3 = RasterLocation::parse("s3://bucket/dir/B04.TIF").unwrap();
        assert!(s3.is_remote());
        assert_eq!(s3.extension().as_deref(), Some("tif"));
        for url in [
            "gs://bucket/a.tif",
            "az://container/a.tif",
            "abfss://c@acct.dfs.core.windows.net/a.tif",
        ] {
            assert!(RasterLocation::parse(url).unwrap().is_remote(), "{url}");
        }
        let https = RasterLocation::parse("https://host/x/scene.tif?sig=abc").unwrap();
        assert_eq!(https.extension().as_deref(), Some("tif"));
        assert_eq!(https.to_string(), "https://host/x/scene.tif?sig=abc");
        let err = RasterLocation::parse("ftp://host/a.tif")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ftp://host/a.tif") && err.contains("unsupported"),
            "{err}"
        );
        assert_eq!(
            RasterLocation::parse("file:///tmp/a.tif").unwrap(),
            RasterLocation::Local("/tmp/a.tif".into())
        );
    }
}
