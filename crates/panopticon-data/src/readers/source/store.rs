//! The object store behind a remote URL: `object_store`'s HTTP store for `http(s)://`, and the
//! cloud stores (`clouds.rs`) for `s3://`, `gs://` and `az://` / `abfs(s)://`; and the runtime
//! their requests run on. Reads are retried by `retry.rs`, not by the stores.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use object_store::http::HttpBuilder;
use object_store::path::Path as ObjPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use super::clouds::{azure_store, gcs_store, s3_store};

/// How remote rasters are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Range requests in flight at once per file (`--max-requests`).
    pub max_requests: usize,
    /// Retries of a read that could not connect, timed out, was reset or cut short (with or
    /// without an ETag) or got a 5xx/429 answer, with exponential backoff from 100 ms (capped
    /// at 2 s per wait); uploads are retried as often by `object_store`.
    pub max_retries: usize,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            max_requests: 8,
            max_retries: 4,
        }
    }
}

/// The tokio runtime that carries every remote request (two workers: the requests wait on
/// the network, not the CPU). Also installs ring as rustls' crypto provider.
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        // Another part of the program may have installed a provider already: keep it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("panopticon-remote")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the I/O runtime: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// `object_store`'s own retries, for uploads and listings (`ObjectPrefix`).
pub(crate) fn retry_config(opts: &RemoteOptions) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: opts.max_retries,
        retry_timeout: Duration::from_secs(60),
    }
}

/// No retries inside `object_store`: reads count and retry their own attempts.
fn no_retries() -> RetryConfig {
    RetryConfig {
        max_retries: 0,
        ..RetryConfig::default()
    }
}

pub(crate) fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(60))
}

/// The URL schemes read remotely.
pub(crate) const REMOTE_SCHEMES: [&str; 7] = ["http", "https", "s3", "gs", "az", "abfs", "abfss"];

/// The store serving `url` (for reads) and the object's path in it.
pub(crate) fn open_store(url: &Url) -> Result<(Arc<dyn ObjectStore>, ObjPath), String> {
    runtime()?;
    let scheme = url.scheme();
    if scheme == "http" || scheme == "https" {
        // The whole URL (query included: presigned and SAS URLs) is the store's base; the
        // object is its root.
        let store = HttpBuilder::new()
            .with_url(url.as_str())
            .with_retry(no_retries())
            .with_client_options(client_options(scheme == "http"))
            .build()
            .map_err(|e| one_line(&e.to_string()))?;
        return Ok((Arc::new(store), ObjPath::default()));
    }
    let (what, container) = match scheme {
        "s3" | "gs" => ("bucket", "BUCKET"),
        "az" | "abfs" | "abfss" => ("container", "CONTAINER"),
        other => {
            return Err(format!(
                "unsupported URL scheme `{other}://` (use a local path, http(s)://, s3://, gs:// \
                 or az://)"
            ));
        }
    };
    let bucket = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("a {scheme}:// URL needs a {what}: {scheme}://{container}/KEY"))?;
    let key = url.path().trim_start_matches('/');
    if key.is_empty() {
        return Err(format!(
            "a {scheme}:// URL needs a key: {scheme}://{container}/KEY"
        ));
    }
    let path = ObjPath::from_url_path(key).map_err(|e| one_line(&e.to_string()))?;
    let store = match scheme {
        "s3" => s3_store(bucket, no_retries())?,
        "gs" => gcs_store(bucket, no_retries())?,
        // The container (and account, for abfss://CONTAINER@ACCOUNT.dfs…) are the URL's.
        _ => azure_store(&url[..url::Position::BeforePath], no_retries())?,
    };
    Ok((store, path))
}

/// An `object_store` error as one short line a user can act on.
pub(crate) fn describe(e: &object_store::Error, url: &Url) -> String {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => "not found (HTTP 404)".into(),
        E::PermissionDenied { .. } => match url.scheme() {
            "s3" => "access denied (HTTP 403): check the AWS credentials \
                     (AWS_ACCESS_KEY_ID/AWS_PROFILE), set AWS_NO_SIGN_REQUEST=YES for a public \
                     bucket, or AWS_REQUEST_PAYER=requester for a requester-pays one"
                .into(),
            "gs" => "access denied (HTTP 403): check the Google credentials \
                     (GOOGLE_APPLICATION_CREDENTIALS/GOOGLE_SERVICE_ACCOUNT), or set \
                     GS_NO_SIGN_REQUEST=YES for a public bucket"
                .into(),
            "az" | "abfs" | "abfss" => "access denied (HTTP 403): check the Azure credentials \
                     (AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN), or set \
                     AZURE_NO_SIGN_REQUEST=YES for a public container"
                .into(),
            _ => "access denied (HTTP 403)".into(),
        },
        E::Unauthenticated { .. } => "not authenticated (HTTP 401)".into(),
        other => {
            let text = other.to_string();
            // object_store says so either way, depending on what the answer lacked.
            if text.contains("non-partial response") || text.contains("Range request not supported")
            {
                "the server ignored the HTTP Range request (it answered with the whole file); \
                 only servers with range support can be read remotely: download the file first"
                    .into()
            } else {
                one_line(&text)
            }
        }
    }
}

/// Joins lines and caps the length of an error text.
pub(crate) fn one_line(text: &str) -> String {
    let mut s: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.len() > 400 {
        let mut cut = 400;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}
