//! The one HTTP/1.1 response head the loopback test servers write.

use std::io::Write;
use std::net::TcpStream;

/// Writes a status line, `Content-Length: len`, `Connection: close` when `close`, and
/// `headers`.
pub fn write_head(
    out: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    len: usize,
    close: bool,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\n");
    if close {
        head.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}
