//! One range read (or HEAD), retried here rather than by `object_store`: the read stores are
//! built without its retries, so each attempt is exactly one request whatever the server
//! sends. A body cut mid-way is retried whether or not the server gave an ETag (object_store
//! resumes cut bodies only with one), and so are refused or reset connections, timeouts,
//! 5xx/429 answers and answers shorter than asked, with exponential backoff; the last failure
//! is one line naming the byte range and the number of attempts.

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path as ObjPath;
use object_store::{GetOptions, GetRange, ObjectStore};
use url::Url;

use super::remote::RemoteStats;
use super::store::describe;

/// The wait before retry `n` (1-based): 100 ms, doubled each time, at most 2 s.
pub(crate) fn backoff(n: usize) -> Duration {
    let doublings = u32::try_from(n.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(5);
    Duration::from_millis(100 << doublings).min(Duration::from_secs(2))
}

/// What a failed attempt means for the next one.
#[derive(Debug, PartialEq)]
enum Failure {
    /// Asking again gives the same answer (404, 403, a server that ignores `Range`, …).
    Fatal(String),
    /// Worth another attempt: why this one failed.
    Transient(String),
}

/// The bytes a range read returned.
pub(crate) struct Answer {
    /// The object's size.
    pub size: u64,
    /// The byte range the bytes are.
    pub range: Range<u64>,
    pub bytes: Bytes,
}

/// `bytes A-B` (inclusive, as HTTP writes ranges) for error messages.
fn label(want: &GetRange) -> String {
    match want {
        GetRange::Bounded(r) => format!("bytes {}-{}", r.start, r.end.saturating_sub(1)),
        GetRange::Offset(o) => format!("bytes {o}-"),
        GetRange::Suffix(n) => format!("the last {n} bytes"),
    }
}

/// Reads `want` of the object at `path` in at most `attempts` requests (each counted in
/// `stats`). Errors are one line without the URL (the caller names it).
pub(crate) async fn read_range(
    store: &dyn ObjectStore,
    path: &ObjPath,
    want: GetRange,
    url: &Url,
    attempts: usize,
    stats: &RemoteStats,
) -> Result<Answer, String> {
    let attempts = attempts.max(1);
    let mut last = String::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(backoff(attempt - 1)).await;
        }
        stats.count_request();
        let options = GetOptions {
            range: Some(want.clone()),
            ..Default::default()
        };
        let res = match store.get_opts(path, options).await {
            Ok(res) => res,
            Err(e) => match classify(&e, url) {
                Failure::Fatal(message) => return Err(message),
                Failure::Transient(why) => {
                    last = why;
                    continue;
                }
            },
        };
        let (size, range) = (res.meta.size, res.range.clone());
        let expected = range.end - range.start;
        match res.bytes().await {
            Ok(bytes) if bytes.len() as u64 == expected => {
                stats.count_bytes(bytes.len() as u64);
                return Ok(Answer { size, range, bytes });
            }
            Ok(bytes) => {
                stats.count_bytes(bytes.len() as u64);
                last = format!("truncated answer ({} of {expected} bytes)", bytes.len());
            }
            // Headers came back fine: whatever broke the body is the connection's doing.
            Err(e) => {
                last = match http_kind(&e) {
                    Some(HttpErrorKind::Timeout) => "timed out mid-body".into(),
                    _ => "connection reset mid-body".into(),
                };
            }
        }
    }
    Err(format!(
        "{}: {last}, gave up after {attempts} attempts",
        label(&want)
    ))
}

/// A HEAD request, retried as [`read_range`] retries.
pub(crate) async fn head(
    store: &dyn ObjectStore,
    path: &ObjPath,
    url: &Url,
    attempts: usize,
) -> Result<(), String> {
    let attempts = attempts.max(1);
    let mut last = String::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(backoff(attempt - 1)).await;
        }
        let options = GetOptions {
            head: true,
            ..Default::default()
        };
        match store.get_opts(path, options).await {
            Ok(_) => return Ok(()),
            Err(e) => match classify(&e, url) {
                Failure::Fatal(message) => return Err(message),
                Failure::Transient(why) => last = why,
            },
        }
    }
    Err(format!("HEAD: {last}, gave up after {attempts} attempts"))
}

/// Whether a request error is worth another attempt, from object_store's error: its
/// variant (404, 403, 401, …: never), the HTTP status of a failed answer (5xx, 429, 408:
/// yes), or the kind of its transport error (connect, reset, timeout: yes).
fn classify(e: &object_store::Error, url: &Url) -> Failure {
    if !matches!(e, object_store::Error::Generic { .. }) {
        return Failure::Fatal(describe(e, url));
    }
    let text = chain_text(e);
    if text.contains("non-partial response") || text.contains("Range request not supported") {
        return Failure::Fatal(describe(e, url));
    }
    if let Some(code) = status_code(&text) {
        return if code >= 500 || code == 429 || code == 408 {
            Failure::Transient(format!("HTTP {code}"))
        } else {
            Failure::Fatal(describe(e, url))
        };
    }
    match http_kind(e) {
        Some(HttpErrorKind::Connect) => Failure::Transient("cannot connect".into()),
        Some(HttpErrorKind::Timeout) => Failure::Transient("timed out".into()),
        Some(HttpErrorKind::Request | HttpErrorKind::Interrupted) => {
            Failure::Transient("connection reset".into())
        }
        _ => Failure::Fatal(describe(e, url)),
    }
}

/// The kind of the first `HttpError` in `e`'s source chain.
fn http_kind(e: &object_store::Error) -> Option<HttpErrorKind> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(http) = err.downcast_ref::<HttpError>() {
            return Some(http.kind());
        }
        current = err.source();
    }
    None
}

/// Every message of `e`'s source chain, joined.
fn chain_text(e: &object_store::Error) -> String {
    let mut out = e.to_string();
    let mut current = std::error::Error::source(e);
    while let Some(err) = current {
        out.push_str(" | ");
        out.push_str(&err.to_string());
        current = err.source();
    }
    out
}

/// The status of a failed answer as object_store writes it ("… status code: 503 Service
/// Unavailable …"): its retry error type is private, its message is not.
fn status_code(text: &str) -> Option<u16> {
    let (_, rest) = text.split_once("status code: ")?;
    rest.get(..3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_100_ms_up_to_2_s() {
        let ms: Vec<u128> = (1..=7).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn failures_are_told_apart_by_status_and_transport_kind() {
        let url = Url::parse("http://host/x.tif").unwrap();
        let generic =
            |source: Box<dyn std::error::Error + Send + Sync>| object_store::Error::Generic {
                store: "HTTP",
                source,
            };
        let status = |text: &str| generic(text.to_string().into());
        assert_eq!(
            classify(
                &status(
                    "Error performing GET in 2ms - Server returned non-2xx status code: 503 Service Unavailable: "
                ),
                &url
            ),
            Failure::Transient("HTTP 503".into())
        );
        assert!(matches!(
            classify(&status("… status code: 416 Range Not Satisfiable"), &url),
            Failure::Fatal(_)
        ));
        assert!(matches!(
            classify(&status("Received non-partial response when range requested"), &url),
            Failure::Fatal(m) if m.contains("ignored the HTTP Range request")
        ));
        let reset = generic(Box::new(HttpError::new(
            HttpErrorKind::Interrupted,
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        )));
        assert_eq!(
            classify(&reset, &url),
            Failure::Transient("connection reset".into())
        );
        let missing = object_store::Error::NotFound {
            path: "x.tif".into(),
            source: "404".into(),
        };
        assert!(matches!(classify(&missing, &url), Failure::Fatal(m) if m.contains("404")));
    }
}
