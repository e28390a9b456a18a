//! The object store behind a remote URL: `object_store`'s HTTP store for `http(s)://`, its S3
//! store for `s3://` with the AWS conventions (environment, shared profiles, anonymous access),
//! both with bounded retries; and the runtime their requests run on.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use super::aws_profile::Profile;

/// How remote rasters are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Range requests in flight at once per file (`--max-requests`).
    pub max_requests: usize,
    /// Retries of a request that timed out, was reset or got a 5xx/429 answer, with exponential
    /// backoff from 100 ms (capped at 2 s per wait).
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

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

fn retry_config(opts: &RemoteOptions) -> RetryConfig {
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

fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(10))
        .with_timeout(Duration::from_secs(60))
}

/// The store serving `url` and the object's path in it.
pub(crate) fn open_store(
    url: &Url,
    opts: &RemoteOptions,
) -> Result<(Arc<dyn ObjectStore>, ObjPath), String> {
    runtime()?;
    match url.scheme() {
        "http" | "https" => {
            // The whole URL (query included: presigned and SAS URLs) is the store's base; the
            // object is its root.
            let store = HttpBuilder::new()
                .with_url(url.as_str())
                .with_retry(retry_config(opts))
                .with_client_options(client_options(url.scheme() == "http"))
                .build()
                .map_err(|e| one_line(&e.to_string()))?;
            Ok((Arc::new(store), ObjPath::default()))
        }
        "s3" => {
            let bucket = url
                .host_str()
                .ok_or("an s3:// URL needs a bucket: s3://BUCKET/KEY")?;
            let key = url.path().trim_start_matches('/');
            if key.is_empty() {
                return Err("an s3:// URL needs a key: s3://BUCKET/KEY".into());
            }
            let path = ObjPath::from_url_path(key).map_err(|e| one_line(&e.to_string()))?;
            Ok((s3_store(bucket, opts)?, path))
        }
        other => Err(format!(
            "unsupported URL scheme `{other}://` (use a local path, http(s):// or s3://)"
        )),
    }
}

/// The S3 store of `bucket` configured the AWS way: environment, shared profiles, endpoint
/// (path-style requests), anonymous access with `AWS_NO_SIGN_REQUEST`.
pub(crate) fn s3_store(bucket: &str, opts: &RemoteOptions) -> Result<Arc<dyn ObjectStore>, String> {
    runtime()?;
    let profile = Profile::from_env();
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry_config(opts));
    if !env_set("AWS_ACCESS_KEY_ID")
        && let (Some(id), Some(secret)) = (&profile.access_key_id, &profile.secret_access_key)
    {
        b = b.with_access_key_id(id).with_secret_access_key(secret);
        if let Some(token) = &profile.session_token {
            b = b.with_token(token);
        }
    }
    if !env_set("AWS_REGION")
        && !env_set("AWS_DEFAULT_REGION")
        && let Some(region) = &profile.region
    {
        b = b.with_region(region);
    }
    let env_endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    let endpoint = env_endpoint.or_else(|| profile.endpoint_url.clone());
    if let Some(e) = &endpoint {
        b = b.with_endpoint(e);
    }
    // An explicit http:// endpoint (MinIO, a local stand-in) is the user's choice.
    let http = endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"))
        || std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    b = b.with_client_options(client_options(http));
    // GDAL's spelling for public buckets.
    if std::env::var("AWS_NO_SIGN_REQUEST")
        .is_ok_and(|v| matches!(v.to_ascii_uppercase().as_str(), "YES" | "TRUE" | "1"))
    {
        b = b.with_skip_signature(true);
    }
    let store = b.build().map_err(|e| one_line(&e.to_string()))?;
    Ok(Arc::new(store))
}

/// An `object_store` error as one short line a user can act on.
pub(crate) fn describe(e: &object_store::Error, url: &Url) -> String {
    use object_store::Error as E;
    let s3 = url.scheme() == "s3";
    match e {
        E::NotFound { .. } => "not found (HTTP 404)".into(),
        E::PermissionDenied { .. } if s3 => "access denied (HTTP 403): check the AWS credentials \
             (AWS_ACCESS_KEY_ID/AWS_PROFILE), or set AWS_NO_SIGN_REQUEST=YES for a public bucket"
            .into(),
        E::PermissionDenied { .. } => "access denied (HTTP 403)".into(),
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
