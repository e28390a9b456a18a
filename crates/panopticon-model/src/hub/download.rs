//! Downloads into the caches, verified: Hugging Face files through `hf-hub` (its cache layout,
//! resumable `.part` files), plain URLs through our own resumable downloader.
//!
//! A file is only returned once its sha256 matches the registry's (or, without one, the
//! hub's LFS sha256, which is the blob's etag). A mismatching fresh download is removed and
//! reported; a mismatching cached file is removed and fetched again.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use sha2::{Digest, Sha256};

use super::options::HubOptions;
use super::registry::Source;
use crate::error::HubError;

/// The local path of `source`, downloading it first unless a verified copy is cached.
/// `name` is the registry name (for messages).
pub fn fetch_source(name: &str, source: &Source, opts: &HubOptions) -> Result<PathBuf, HubError> {
    match source {
        Source::Hf {
            hf_repo,
            revision,
            file,
            sha256,
            size,
        } => fetch_hf(
            name,
            hf_repo,
            revision,
            file,
            sha256.as_deref(),
            *size,
            opts,
        ),
        Source::Url { url, sha256, size } => fetch_url(name, url, sha256.as_deref(), *size, opts),
    }
}

/// The sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Absolute, because `hf-hub` builds relative symlinks from absolute paths only.
fn absolute(p: &Path) -> Result<PathBuf, HubError> {
    std::path::absolute(p).map_err(|source| HubError::Cache {
        path: p.into(),
        source,
    })
}

fn cache_err(path: &Path) -> impl FnOnce(io::Error) -> HubError + '_ {
    move |source| HubError::Cache {
        path: path.into(),
        source,
    }
}

// ---------------------------------------------------------------- Hugging Face

fn fetch_hf(
    name: &str,
    hf_repo: &str,
    revision: &str,
    file: &str,
    sha256: Option<&str>,
    size: Option<u64>,
    opts: &HubOptions,
) -> Result<PathBuf, HubError> {
    let hub_cache = absolute(&opts.hub_cache())?;
    let cache = Cache::new(hub_cache.clone());
    let repo = Repo::with_revision(hf_repo.into(), RepoType::Model, revision.into());

    if let Some(cached) = cache.repo(repo.clone()).get(file) {
        match verify_hf(&cached, sha256, size) {
            Ok(()) => return Ok(cached),
            // A corrupt cache entry: drop it and, when we may, fetch it again.
            Err(e) if opts.offline => return Err(e),
            Err(_) => {}
        }
    }
    let what = format!("{hf_repo}@{revision}/{file}");
    if opts.offline {
        return Err(HubError::Offline {
            name: name.into(),
            what,
            cache: hub_cache.display().to_string(),
        });
    }

    // Fail early, with the exact path, when the cache cannot be written.
    let repo_dir = hub_cache.join(repo.folder_name());
    fs::create_dir_all(repo_dir.join("blobs")).map_err(cache_err(&repo_dir))?;
    writable(&repo_dir.join("blobs"))?;

    let token = std::env::var("HF_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .or_else(|| cache.token());
    let api = ApiBuilder::from_cache(cache)
        .with_endpoint(opts.endpoint.clone())
        .with_progress(opts.progress)
        .with_retries(opts.retries)
        .with_token(token)
        .with_user_agent("panopticon", env!("CARGO_PKG_VERSION"))
        .build()
        .map_err(|e| hf_error(e, &opts.endpoint, &hub_cache))?;
    let api_repo = api.repo(repo);
    let url = api_repo.url(file);
    let path = api_repo
        .download(file)
        .map_err(|e| hf_error(e, &url, &hub_cache))?;
    verify_hf(&path, sha256, size)?;
    Ok(path)
}

/// Checks a hub snapshot file against the registry's sha256, else the blob's LFS etag.
/// On mismatch the blob and its snapshot link are removed.
fn verify_hf(pointer: &Path, sha256: Option<&str>, size: Option<u64>) -> Result<(), HubError> {
    let blob = fs::canonicalize(pointer).unwrap_or_else(|_| pointer.into());
    let etag = blob
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| is_sha256(n));
    let remove = || {
        let _ = fs::remove_file(&blob);
        let _ = fs::remove_file(pointer);
    };
    let len = fs::metadata(&blob).map_err(cache_err(&blob))?.len();
    let expected = sha256.map(str::to_ascii_lowercase).or(etag);
    if let Some(want) = size
        && want != len
    {
        remove();
        return Err(HubError::Checksum {
            path: blob,
            expected: format!("{} ({want} bytes)", expected.as_deref().unwrap_or("?")),
            got: format!("a file of {len} bytes"),
        });
    }
    let Some(expected) = expected else {
        // Non-LFS files have a git sha1 as etag and the registry pins nothing: nothing to check.
        return Ok(());
    };
    let got = sha256_file(&blob).map_err(cache_err(&blob))?;
    if got != expected {
        remove();
        return Err(HubError::Checksum {
            path: blob,
            expected,
            got,
        });
    }
    Ok(())
}

/// `hf-hub`'s errors, as ours.
fn hf_error(e: ApiError, url: &str, cache: &Path) -> HubError {
    match e {
        ApiError::RequestError(e) => ureq_error(*e, url),
        ApiError::TooManyRetries(inner) => match hf_error(*inner, url, cache) {
            HubError::Network { url, reason } => HubError::Network {
                url,
                reason: format!("{reason} (gave up after retrying; run again to resume)"),
            },
            other => other,
        },
        ApiError::IoError(source) if is_transport(&source) => HubError::Network {
            url: url.into(),
            reason: format!("connection cut mid-download: {source} (run again to resume)"),
        },
        ApiError::IoError(source) => HubError::Cache {
            path: cache.into(),
            source,
        },
        ApiError::LockAcquisition(path) => HubError::Cache {
            path: path.clone(),
            source: io::Error::new(
                io::ErrorKind::WouldBlock,
                "another process is downloading this file; wait for it and try again",
            ),
        },
        ApiError::MissingHeader(h) | ApiError::InvalidHeader(h) => HubError::Http {
            url: url.into(),
            status: 200,
            hint: format!(
                "the answer has no valid `{h}` header, so this is not a Hugging Face hub \
                 (check HF_ENDPOINT)"
            ),
        },
        other => HubError::Network {
            url: url.into(),
            reason: other.to_string(),
        },
    }
}

fn is_transport(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | ConnectionAborted | TimedOut | BrokenPipe | Interrupted
    ) || e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>())
}

fn ureq_error(e: ureq::Error, url: &str) -> HubError {
    match e {
        ureq::Error::Status(status, _) => HubError::Http {
            url: url.into(),
            status,
            hint: http_hint(status).into(),
        },
        ureq::Error::Transport(t) => HubError::Network {
            url: url.into(),
            reason: t.to_string(),
        },
    }
}

fn http_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => {
            "access denied; for a gated or private repository set HF_TOKEN (or `huggingface-cli \
             login`) with an account that has accepted its terms"
        }
        404 => {
            "not found; the repository, revision or file name is wrong (check the registry \
             entry), or the repository is gated/private and needs HF_TOKEN"
        }
        416 => "the server rejected the resume range; delete the `.part` file and try again",
        429 => "rate limited; wait a few minutes and try again (or set HF_TOKEN)",
        500..=599 => "the server failed; try again later, or use a mirror via HF_ENDPOINT",
        _ => "unexpected answer",
    }
}

/// Errors out, naming `dir`, when it cannot be written (read-only, full, not a directory).
fn writable(dir: &Path) -> Result<(), HubError> {
    let probe = dir.join(format!(".write-test.{}", std::process::id()));
    let result = File::create(&probe).and_then(|mut f| f.write_all(b"x"));
    let _ = fs::remove_file(&probe);
    result.map_err(cache_err(dir))
}

// ---------------------------------------------------------------- plain URLs

/// `<cache_dir>/downloads/<url hash>/<file>`, resumed from `<file>.partial`, recorded with a
/// `<file>.sha256` sidecar (trust on first use when the registry pins no sha256).
fn fetch_url(
    name: &str,
    url: &str,
    sha256: Option<&str>,
    size: Option<u64>,
    opts: &HubOptions,
) -> Result<PathBuf, HubError> {
    let key = hex(&Sha256::digest(url.as_bytes()))[..16].to_string();
    let dir = absolute(&opts.cache_dir.join("downloads").join(key))?;
    let file_name = super::registry::url_file_name(url);
    let path = dir.join(file_name);
    let sidecar = dir.join(format!("{file_name}.sha256"));

    if path.exists() {
        let recorded = fs::read_to_string(&sidecar)
            .ok()
            .map(|s| s.trim().to_string());
        match verify_url(&path, &sidecar, sha256.or(recorded.as_deref()), size) {
            Ok(()) => return Ok(path),
            Err(e) if opts.offline => return Err(e),
            Err(_) => {}
        }
    }
    if opts.offline {
        return Err(HubError::Offline {
            name: name.into(),
            what: url.into(),
            cache: dir.display().to_string(),
        });
    }
    fs::create_dir_all(&dir).map_err(cache_err(&dir))?;
    writable(&dir)?;

    // A stable name (not a unique temp): an interrupted download is resumed by the next run.
    let partial = panopticon_atomic::partial_path(&path);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .user_agent(concat!("panopticon/", env!("CARGO_PKG_VERSION")))
        .try_proxy_from_env(true)
        .build();
    let mut attempt = 0;
    loop {
        match download_range(&agent, url, &partial, opts.progress) {
            Ok(()) => break,
            Err(HubError::Network { .. }) if attempt < opts.retries => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(200 << attempt.min(5)));
            }
            Err(e) => return Err(e),
        }
    }
    let got = sha256_file(&partial).map_err(cache_err(&partial))?;
    if let Some(expected) = sha256.map(str::to_ascii_lowercase)
        && got != expected
    {
        let _ = fs::remove_file(&partial);
        return Err(HubError::Checksum {
            path: partial,
            expected,
            got,
        });
    }
    let len = fs::metadata(&partial).map_err(cache_err(&partial))?.len();
    if let Some(want) = size
        && want != len
    {
        let _ = fs::remove_file(&partial);
        return Err(HubError::Checksum {
            path: partial,
            expected: format!("{want} bytes"),
            got: format!("{len} bytes"),
        });
    }
    write_atomic(&sidecar, format!("{got}\n").as_bytes())?;
    panopticon_atomic::commit_partial(&partial, &path).map_err(cache_err(&path))?;
    Ok(path)
}

fn verify_url(
    path: &Path,
    sidecar: &Path,
    expected: Option<&str>,
    size: Option<u64>,
) -> Result<(), HubError> {
    let remove = || {
        let _ = fs::remove_file(path);
        let _ = fs::remove_file(sidecar);
    };
    let len = fs::metadata(path).map_err(cache_err(path))?.len();
    if size.is_some_and(|s| s != len) {
        remove();
        return Err(HubError::Checksum {
            path: path.into(),
            expected: format!("{} bytes", size.unwrap_or_default()),
            got: format!("{len} bytes"),
        });
    }
    let Some(expected) = expected.map(str::to_ascii_lowercase) else {
        // Downloaded before sidecars existed, or the sidecar was lost: re-fetch to be sure.
        remove();
        return Err(HubError::Checksum {
            path: path.into(),
            expected: "a recorded sha256".into(),
            got: "none".into(),
        });
    };
    let got = sha256_file(path).map_err(cache_err(path))?;
    if got != expected {
        remove();
        return Err(HubError::Checksum {
            path: path.into(),
            expected,
            got,
        });
    }
    Ok(())
}

/// Appends the rest of `url` to `partial` (HTTP Range); restarts when the server ignores it.
fn download_range(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    progress: bool,
) -> Result<(), HubError> {
    let have = fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut req = agent.get(url);
    if have > 0 {
        req = req.set("Range", &format!("bytes={have}-"));
    }
    let resp = match req.call() {
        // The file was complete already.
        Err(ureq::Error::Status(416, _)) if have > 0 => return Ok(()),
        r => r.map_err(|e| ureq_error(e, url))?,
    };
    let resumed = resp.status() == 206;
    let total = resp
        .header("Content-Length")
        .and_then(|l| l.parse::<u64>().ok())
        .map(|l| if resumed { l + have } else { l });
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(partial)
        .map_err(cache_err(partial))?;
    let bar = if progress {
        indicatif::ProgressBar::new(total.unwrap_or(0))
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
        )
        .expect("valid template"),
    );
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
    bar.set_position(if resumed { have } else { 0 });
    let mut reader = resp.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                bar.abandon();
                return Err(HubError::Network {
                    url: url.into(),
                    reason: format!("connection cut mid-download: {e} (run again to resume)"),
                });
            }
        };
        out.write_all(&buf[..n]).map_err(cache_err(partial))?;
        bar.inc(n as u64);
    }
    out.sync_all().map_err(cache_err(partial))?;
    bar.finish_and_clear();
    Ok(())
}

/// Writes `bytes` to `path` atomically and durably ([`panopticon_atomic::write_bytes`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), HubError> {
    panopticon_atomic::write_bytes(path, bytes).map_err(cache_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_io_errors_split_into_network_and_cache() {
        let cache = Path::new("/c");
        let cut = hf_error(
            ApiError::IoError(io::Error::new(io::ErrorKind::UnexpectedEof, "eof")),
            "http://h/f",
            cache,
        );
        assert!(matches!(cut, HubError::Network { .. }), "{cut}");
        for kind in [
            io::ErrorKind::StorageFull,
            io::ErrorKind::ReadOnlyFilesystem,
            io::ErrorKind::PermissionDenied,
        ] {
            let e = hf_error(
                ApiError::IoError(io::Error::from(kind)),
                "http://h/f",
                cache,
            );
            assert!(matches!(e, HubError::Cache { .. }), "{kind:?}: {e}");
            assert!(e.to_string().contains("PANOPTICON_CACHE"), "{e}");
        }
    }

    #[test]
    fn sha256_of_a_known_file() {
        let dir = std::env::temp_dir().join(format!("pan-sha-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("abc");
        fs::write(&f, b"abc").unwrap();
        assert_eq!(
            sha256_file(&f).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
