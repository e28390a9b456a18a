//! A static file server on 127.0.0.1 with HTTP `Range` support, for the remote-raster tests:
//! serves paths (plain URLs; path-style `/{bucket}/{key}` requests of S3 and Google Cloud
//! Storage, percent-encoded or not; Azurite's `/{account}/{container}/{blob}`), answers GET and
//! HEAD with ETag/Last-Modified as the clouds do (ETag optional), stores PUT bodies and answers
//! S3 ListObjectsV2 (`GET /{bucket}?list-type=2&prefix=…&delimiter=/`), counts requests and
//! body bytes, records each request's headers and the most requests it held at once, and
//! misbehaves on request.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::http::write_head;

/// How the server answers requests for existing files.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Correctly.
    None,
    /// Always this HTTP status.
    Status(u16),
    /// Ranges are ignored: 200 with the whole file.
    IgnoreRange,
    /// Each ranged body after the first `skip` requests stops after `keep` bytes and the
    /// connection is closed (Content-Length promises all); `times` such requests, then correct.
    Cut {
        skip: usize,
        keep: usize,
        times: usize,
    },
    /// Ranged bodies are short by one byte, with a Content-Length that says so (the answer
    /// claims the full range in Content-Range).
    Short,
    /// Ranged requests after the first `skip` get HTTP `code` (`times` of them), then correct
    /// answers.
    StatusThenOk {
        skip: usize,
        code: u16,
        times: usize,
    },
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
    /// Every header, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes sent (recorded before they are written, so a client that has read them
    /// never sees a log that lacks them).
    pub bytes: usize,
}

struct State {
    files: HashMap<String, Vec<u8>>,
    fault: Option<Fault>,
    latency: Duration,
    log: Vec<Request>,
    /// Whether answers carry an ETag (object_store resumes cut bodies only with one).
    etag: bool,
    /// Requests being answered now, and the most there were at once.
    in_flight: usize,
    max_in_flight: usize,
}

impl Default for State {
    fn default() -> Self {
        Self {
            files: HashMap::new(),
            fault: None,
            latency: Duration::ZERO,
            log: Vec::new(),
            etag: true,
            in_flight: 0,
            max_in_flight: 0,
        }
    }
}

impl Request {
    /// The value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The running server; it lives until the test process ends.
#[derive(Clone)]
pub struct RangeServer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl RangeServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &s);
                });
            }
        });
        Self { endpoint, state }
    }

    /// Serves `bytes` at `path` (e.g. `/cogs/a.tif`, or `/bucket/key` for S3).
    pub fn add(&self, path: &str, bytes: Vec<u8>) -> String {
        self.state.lock().unwrap().files.insert(path.into(), bytes);
        format!("{}{path}", self.endpoint)
    }

    /// The stored object at `path` (`/bucket/key`), if any.
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        self.state.lock().unwrap().files.get(path).cloned()
    }

    /// Deletes the object at `path`.
    pub fn remove(&self, path: &str) {
        self.state.lock().unwrap().files.remove(path);
    }

    /// The stored paths, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut p: Vec<String> = self.state.lock().unwrap().files.keys().cloned().collect();
        p.sort();
        p
    }

    pub fn set_fault(&self, fault: Fault) {
        self.state.lock().unwrap().fault = Some(fault);
    }

    /// Delay before each answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// Answers without (`false`) or with an ETag header.
    pub fn set_etag(&self, on: bool) {
        self.state.lock().unwrap().etag = on;
    }

    pub fn log(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    /// The most requests answered at once since the last [`Self::clear_log`].
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    pub fn clear_log(&self) {
        let mut s = self.state.lock().unwrap();
        s.log.clear();
        s.max_in_flight = s.in_flight;
    }
}

/// Counts a request in flight while it lives.
struct InFlight<'a>(&'a Mutex<State>);

impl<'a> InFlight<'a> {
    fn new(state: &'a Mutex<State>) -> Self {
        let mut s = state.lock().unwrap();
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        Self(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.lock() {
            s.in_flight -= 1;
        }
    }
}

fn serve_connection(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let _in_flight = InFlight::new(state);
        // The query (signatures, SAS tokens) does not pick the file; GCS percent-encodes every
        // `/` of the key.
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let path = percent_decode_path(path);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let request = Request {
            method,
            path,
            range: get("range"),
            authorization: get("authorization"),
            headers: headers.clone(),
            bytes: 0,
        };
        if request.method == "PUT" || query.contains("list-type=2") {
            s3_write_or_list(&mut out, state, request, query, body)?;
            continue;
        }
        let keep_open = answer(&mut out, state, request)?;
        if !keep_open {
            return Ok(());
        }
    }
}

/// Writes one answer; false when the connection was closed.
fn answer(out: &mut TcpStream, state: &Mutex<State>, request: Request) -> std::io::Result<bool> {
    let (method, path, range) = (
        request.method.clone(),
        request.path.clone(),
        request.range.clone(),
    );
    let (file, mut fault, latency, index, etag) = {
        let mut s = state.lock().unwrap();
        s.log.push(request);
        let index = s.log.len() - 1;
        (
            s.files.get(&path).cloned(),
            s.fault.unwrap_or(Fault::None),
            s.latency,
            index,
            s.etag,
        )
    };
    std::thread::sleep(latency);
    let Some(file) = file else {
        respond(
            out,
            404,
            &[],
            b"<Error><Code>NoSuchKey</Code></Error>",
            method == "HEAD",
        )?;
        return Ok(true);
    };
    if let Fault::Status(code) = fault {
        respond(
            out,
            code,
            &[],
            b"<Error><Code>AccessDenied</Code></Error>",
            method == "HEAD",
        )?;
        return Ok(true);
    }
    let total = file.len();
    let mut headers = vec![
        (
            "Last-Modified".to_string(),
            "Mon, 07 Dec 2026 12:00:00 GMT".to_string(),
        ),
        ("Accept-Ranges".to_string(), "bytes".to_string()),
    ];
    if etag {
        headers.push(("ETag".to_string(), format!("\"{total:x}-fixture\"")));
    }
    if let Fault::StatusThenOk { skip, code, times } = fault
        && index >= skip
        && times > 0
        && range.is_some()
    {
        state.lock().unwrap().fault = Some(Fault::StatusThenOk {
            skip,
            code,
            times: times - 1,
        });
        respond(
            out,
            code,
            &[],
            b"<Error><Code>SlowDown</Code></Error>",
            false,
        )?;
        return Ok(true);
    }
    let parsed = range.as_deref().and_then(|r| parse_range(r, total));
    if fault == Fault::IgnoreRange || range.is_none() || method == "HEAD" {
        let head = method == "HEAD";
        if !head {
            state.lock().unwrap().log[index].bytes = total;
        }
        respond(out, 200, &headers, &file, head)?;
        return Ok(true);
    }
    let Some((start, end)) = parsed else {
        headers.push(("Content-Range".into(), format!("bytes */{total}")));
        respond(out, 416, &headers, b"", false)?;
        return Ok(true);
    };
    headers.push((
        "Content-Range".into(),
        format!("bytes {start}-{end}/{total}"),
    ));
    let body = &file[start..=end];
    if let Fault::Cut { skip, keep, times } = fault
        && index >= skip
        && times > 0
        && body.len() > keep
    {
        fault = Fault::Cut {
            skip,
            keep,
            times: times - 1,
        };
        state.lock().unwrap().fault = Some(fault);
        state.lock().unwrap().log[index].bytes = keep;
        write_head(out, 206, &headers, body.len(), false)?;
        out.write_all(&body[..keep])?;
        out.flush()?;
        out.shutdown(Shutdown::Both)?;
        return Ok(false);
    }
    let body = if fault == Fault::Short && !body.is_empty() {
        &body[..body.len() - 1]
    } else {
        body
    };
    state.lock().unwrap().log[index].bytes = body.len();
    respond(out, 206, &headers, body, false)?;
    Ok(true)
}

/// S3 PutObject (stores the body) and ListObjectsV2 (one page: keys under `prefix`, with
/// `delimiter=/` the deeper ones folded into common prefixes).
fn s3_write_or_list(
    out: &mut TcpStream,
    state: &Mutex<State>,
    request: Request,
    query: &str,
    body: Vec<u8>,
) -> std::io::Result<()> {
    let (method, path) = (request.method.clone(), request.path.clone());
    let path = path.as_str();
    let mut s = state.lock().unwrap();
    s.log.push(Request {
        path: format!("{path}?{query}"),
        range: None,
        bytes: body.len(),
        ..request
    });
    if method == "PUT" {
        let etag = format!("\"{:x}-put\"", body.len());
        s.files.insert(path.to_string(), body);
        drop(s);
        return respond(out, 200, &[("ETag".into(), etag)], b"", false);
    }
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .map(percent_decode)
            .unwrap_or_default()
    };
    let (prefix, delimiter) = (param("prefix"), param("delimiter"));
    let bucket = format!("{}/", path.trim_end_matches('/'));
    let mut keys = Vec::new();
    let mut folders = std::collections::BTreeSet::new();
    for (p, bytes) in &s.files {
        let Some(key) = p.strip_prefix(&bucket) else {
            continue;
        };
        let Some(rest) = key.strip_prefix(&prefix) else {
            continue;
        };
        match rest.find(delimiter.as_str()) {
            Some(i) if !delimiter.is_empty() => {
                folders.insert(format!("{prefix}{}", &rest[..=i]));
            }
            _ => keys.push((key.to_string(), bytes.len())),
        }
    }
    drop(s);
    keys.sort();
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult \
         xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false</IsTruncated>",
    );
    for (key, size) in keys {
        xml.push_str(&format!(
            "<Contents><Key>{key}</Key><LastModified>2026-12-07T12:00:00.000Z</LastModified>\
             <ETag>\"{size:x}\"</ETag><Size>{size}</Size></Contents>"
        ));
    }
    for f in folders {
        xml.push_str(&format!(
            "<CommonPrefixes><Prefix>{f}</Prefix></CommonPrefixes>"
        ));
    }
    xml.push_str("</ListBucketResult>");
    respond(out, 200, &[], xml.as_bytes(), false)
}

/// `%2F` → `/` and so on (query values).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                let h = std::str::from_utf8(hex).ok();
                match h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            (b'+', _) => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `%2F` → `/` and so on, in a request path (`+` stays `+`).
fn percent_decode_path(s: &str) -> String {
    percent_decode(&s.replace('+', "%2B"))
}

/// `bytes=a-b` / `bytes=a-` / `bytes=-n` → inclusive `(start, end)` clamped to the file.
fn parse_range(r: &str, total: usize) -> Option<(usize, usize)> {
    let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
    if total == 0 {
        return None;
    }
    let (start, end) = match (a.parse::<usize>().ok(), b.parse::<usize>().ok()) {
        (Some(a), Some(b)) => (a, b.min(total - 1)),
        (Some(a), None) => (a, total - 1),
        (None, Some(n)) => (total.saturating_sub(n), total - 1),
        (None, None) => return None,
    };
    (start <= end && start < total).then_some((start, end))
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    write_head(out, status, headers, body.len(), false)?;
    if !head_only {
        // A client that refuses the answer may close before reading it all.
        let _ = out.write_all(body);
    }
    out.flush()
}
