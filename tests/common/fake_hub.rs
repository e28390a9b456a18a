//! A Hugging Face hub stand-in on 127.0.0.1: serves files under the hub's URL layout
//! (`/{repo}/resolve/{revision}/{file}`, with `x-repo-commit`, `x-linked-etag` and HTTP Range)
//! and plain URLs, and misbehaves on request (error statuses, cut connections, corrupt bytes).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::http::write_head;

use sha2::{Digest, Sha256};

/// How the server answers file requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Correctly.
    Ok,
    /// Always this HTTP status.
    Status(u16),
    /// The first body longer than `n` bytes is cut after `n` bytes (Content-Length promises
    /// all); later requests are served correctly.
    CutOnce(usize),
    /// Every body is cut after `n` bytes.
    CutAlways(usize),
    /// Bodies have one byte flipped (headers still advertise the true sha256).
    Corrupt,
    /// Answers without `x-repo-commit` (not a hub).
    NotAHub,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Vec<u8>>,
    mode: Option<Mode>,
    /// `(path, range header)` of every request, in order.
    log: Vec<(String, Option<String>)>,
}

/// The running server; it lives until the test process ends.
#[derive(Clone)]
pub struct FakeHub {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl FakeHub {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
                });
            }
        });
        Self { endpoint, state }
    }

    /// Serves `bytes` as `repo@revision/file`.
    pub fn add_hub_file(&self, repo: &str, revision: &str, file: &str, bytes: Vec<u8>) {
        self.add_path(&format!("/{repo}/resolve/{revision}/{file}"), bytes);
    }

    /// Serves `bytes` at `path` (e.g. `/dl/weights.pth`).
    pub fn add_path(&self, path: &str, bytes: Vec<u8>) {
        self.state.lock().unwrap().files.insert(path.into(), bytes);
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().log.len()
    }

    /// The `Range` headers seen so far.
    pub fn ranges(&self) -> Vec<Option<String>> {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("range")
        {
            range = Some(v.trim().to_string());
        }
    }
    let (bytes, mode) = {
        let mut s = state.lock().unwrap();
        s.log.push((path.clone(), range.clone()));
        (s.files.get(&path).cloned(), s.mode.unwrap_or(Mode::Ok))
    };
    let mut out = stream;
    let Some(bytes) = bytes else {
        return respond(&mut out, 404, &[], b"Entry not found");
    };
    if let Mode::Status(code) = mode {
        return respond(&mut out, code, &[], b"nope");
    }
    let sha = sha256_hex(&bytes);
    let total = bytes.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split('-').next())
        .and_then(|s| s.parse::<usize>().ok());
    let end = range
        .as_deref()
        .and_then(|r| r.rsplit('-').next())
        .and_then(|e| e.parse::<usize>().ok())
        .map_or(total.saturating_sub(1), |e| e.min(total - 1));
    let mut headers = vec![
        ("x-linked-etag".to_string(), format!("\"{sha}\"")),
        ("etag".to_string(), format!("\"{sha}\"")),
        ("x-linked-size".to_string(), total.to_string()),
    ];
    if mode != Mode::NotAHub {
        let revision = path
            .split("/resolve/")
            .nth(1)
            .and_then(|r| r.split('/').next());
        headers.push((
            "x-repo-commit".into(),
            revision
                .unwrap_or("0000000000000000000000000000000000000000")
                .into(),
        ));
    }
    let mut body = bytes;
    if mode == Mode::Corrupt {
        let mid = body.len() / 2;
        body[mid] ^= 0xff;
    }
    let (status, body) = match start {
        Some(s) if s >= total => return respond(&mut out, 416, &headers, b""),
        Some(s) => {
            headers.push(("content-range".into(), format!("bytes {s}-{end}/{total}")));
            (206, body[s..=end].to_vec())
        }
        None => (200, body),
    };
    let cut = match mode {
        Mode::CutOnce(n) | Mode::CutAlways(n) if body.len() > n => {
            if let Mode::CutOnce(_) = mode {
                state.lock().unwrap().mode = Some(Mode::Ok);
            }
            Some(n)
        }
        _ => None,
    };
    write_head(&mut out, status, &headers, body.len(), true)?;
    match cut {
        Some(n) => {
            out.write_all(&body[..n])?;
            out.flush()?;
            // Drop the connection with the body unfinished.
            out.shutdown(std::net::Shutdown::Both)
        }
        None => out.write_all(&body),
    }
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    write_head(out, status, headers, body.len(), true)?;
    out.write_all(body)
}
