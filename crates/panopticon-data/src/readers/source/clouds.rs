//! The object stores of the three clouds, each configured the way its own tools (and GDAL)
//! read the environment: S3 (`s3://`), Google Cloud Storage (`gs://`) and Azure Blob Storage
//! (`az://`, `abfs(s)://`).

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::{ObjectStore, RetryConfig};

use super::aws_profile::Profile;
use super::store::{client_options, one_line, runtime};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// GDAL's yes: `YES`, `TRUE`, `ON` or `1`, any case.
fn env_yes(name: &str) -> bool {
    env(name)
        .is_some_and(|v| matches!(v.to_ascii_uppercase().as_str(), "YES" | "TRUE" | "ON" | "1"))
}

/// The S3 store of `bucket` configured the AWS way: environment, shared profiles, endpoint
/// (path-style requests), anonymous access with `AWS_NO_SIGN_REQUEST`, requester-pays buckets
/// with `AWS_REQUEST_PAYER=requester`.
pub(crate) fn s3_store(bucket: &str, retry: RetryConfig) -> Result<Arc<dyn ObjectStore>, String> {
    runtime()?;
    let profile = Profile::from_env();
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry);
    if env("AWS_ACCESS_KEY_ID").is_none()
        && let (Some(id), Some(secret)) = (&profile.access_key_id, &profile.secret_access_key)
    {
        b = b.with_access_key_id(id).with_secret_access_key(secret);
        if let Some(token) = &profile.session_token {
            b = b.with_token(token);
        }
    }
    if env("AWS_REGION").is_none()
        && env("AWS_DEFAULT_REGION").is_none()
        && let Some(region) = &profile.region
    {
        b = b.with_region(region);
    }
    let env_endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .iter()
        .find_map(|v| env(v));
    let endpoint = env_endpoint.or_else(|| profile.endpoint_url.clone());
    if let Some(e) = &endpoint {
        b = b.with_endpoint(e);
    }
    // An explicit http:// endpoint (MinIO, a local stand-in) is the user's choice.
    let http = endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"))
        || env("AWS_ALLOW_HTTP").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    b = b.with_client_options(client_options(http));
    // GDAL's spelling for public buckets.
    let unsigned = env_yes("AWS_NO_SIGN_REQUEST");
    if unsigned {
        b = b.with_skip_signature(true);
    }
    // Requester-pays buckets (`usgs-landsat`): GDAL's spelling, whose only value is
    // `requester`; the header is part of the signature, so unsigned requests cannot carry it.
    match env("AWS_REQUEST_PAYER") {
        None => {}
        Some(v) if v.eq_ignore_ascii_case("requester") => {
            if unsigned {
                return Err("AWS_REQUEST_PAYER=requester needs signed requests: unset \
                            AWS_NO_SIGN_REQUEST and give AWS credentials (the requester pays)"
                    .into());
            }
            b = b.with_request_payer(true);
        }
        Some(v) => {
            return Err(format!(
                "AWS_REQUEST_PAYER={v}: the only value is `requester` (for requester-pays buckets)"
            ));
        }
    }
    let store = b.build().map_err(|e| one_line(&e.to_string()))?;
    Ok(Arc::new(store))
}

/// The Google Cloud Storage store of `bucket`: credentials from `GOOGLE_APPLICATION_CREDENTIALS`
/// (or gcloud's application-default file), a service account file or key
/// (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_SERVICE_ACCOUNT_KEY`), else the instance's; anonymous
/// requests for public buckets with `GS_NO_SIGN_REQUEST=YES` (GDAL's spelling); the endpoint
/// from `GOOGLE_BASE_URL` or the service account's `gcs_base_url` (fake-gcs-server, a local
/// stand-in).
pub(crate) fn gcs_store(bucket: &str, retry: RetryConfig) -> Result<Arc<dyn ObjectStore>, String> {
    runtime()?;
    let mut b = GoogleCloudStorageBuilder::from_env()
        .with_bucket_name(bucket)
        .with_retry(retry);
    if env_yes("GS_NO_SIGN_REQUEST") {
        b = b.with_skip_signature(true);
    }
    let base = env("GOOGLE_BASE_URL").or_else(service_account_base_url);
    let http = base.as_deref().is_some_and(|u| u.starts_with("http://"))
        || env("GOOGLE_ALLOW_HTTP").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    b = b.with_client_options(client_options(http));
    let store = b.build().map_err(|e| one_line(&e.to_string()))?;
    Ok(Arc::new(store))
}

/// The `gcs_base_url` of the service account object_store reads, if it names one.
fn service_account_base_url() -> Option<String> {
    let text = match env("GOOGLE_SERVICE_ACCOUNT_KEY") {
        Some(key) => key,
        None => [
            "GOOGLE_SERVICE_ACCOUNT",
            "GOOGLE_SERVICE_ACCOUNT_PATH",
            "SERVICE_ACCOUNT",
        ]
        .iter()
        .find_map(|v| env(v))
        .and_then(|path| std::fs::read_to_string(path).ok())?,
    };
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("gcs_base_url")?.as_str().map(str::to_string)
}

/// The Azure Blob Storage store of the container an `az://CONTAINER/…` or
/// `abfs[s]://CONTAINER/…` / `abfs[s]://CONTAINER@ACCOUNT.dfs.core.windows.net/…` URL names
/// (`authority` is the URL up to its path): the account from the URL or
/// `AZURE_STORAGE_ACCOUNT_NAME` (GDAL's `AZURE_STORAGE_ACCOUNT` too), a key
/// (`AZURE_STORAGE_ACCOUNT_KEY` / `AZURE_STORAGE_ACCESS_KEY`) or SAS token
/// (`AZURE_STORAGE_SAS_TOKEN`), else Azure's other credentials (service principal, managed
/// identity, Azure CLI); anonymous requests with `AZURE_NO_SIGN_REQUEST=YES` (GDAL's spelling);
/// Azurite with `AZURE_STORAGE_USE_EMULATOR=true` (its endpoint from `AZURITE_BLOB_STORAGE_URL`).
pub(crate) fn azure_store(
    authority: &str,
    retry: RetryConfig,
) -> Result<Arc<dyn ObjectStore>, String> {
    runtime()?;
    let mut b = MicrosoftAzureBuilder::from_env()
        .with_url(authority)
        .with_retry(retry);
    if env("AZURE_STORAGE_ACCOUNT_NAME").is_none()
        && let Some(account) = env("AZURE_STORAGE_ACCOUNT")
    {
        b = b.with_account(account);
    }
    if env_yes("AZURE_NO_SIGN_REQUEST") {
        b = b.with_skip_signature(true);
    }
    // The emulator allows http:// itself; another http:// endpoint is the user's choice.
    let http = ["AZURE_STORAGE_ENDPOINT", "AZURE_ENDPOINT"]
        .iter()
        .find_map(|v| env(v))
        .is_some_and(|e| e.starts_with("http://"))
        || env("AZURE_ALLOW_HTTP").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    b = b.with_client_options(client_options(http));
    let store = b.build().map_err(|e| {
        let text = one_line(&e.to_string());
        if text.contains("Account must be specified") {
            format!(
                "{text}: set AZURE_STORAGE_ACCOUNT_NAME, or use \
                 abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH"
            )
        } else {
            text
        }
    })?;
    Ok(Arc::new(store))
}
