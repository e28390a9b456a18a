//! `DIR/failures.jsonl`: one JSON line per failed item, appended as it fails.
//!
//! Several workers may share the directory: each line goes out in one `O_APPEND` write, which
//! local file systems keep whole. The log only grows; an item counts as failed while it has
//! a line here and no output file (a later successful rerun leaves the old line as history).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One failed item.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// Item id.
    pub id: String,
    /// The input (resolved path or URL).
    pub input: String,
    /// The error, on one line.
    pub reason: String,
    /// When, as RFC 3339 UTC (`2026-12-07T16:04:05Z`).
    pub time: String,
}

/// The failure log of an output directory.
#[derive(Clone, Debug)]
pub struct FailureLog {
    /// `DIR/failures.jsonl`.
    pub path: PathBuf,
}

impl FailureLog {
    /// The log of the output directory `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        FailureLog {
            path: dir.join("failures.jsonl"),
        }
    }

    /// Appends one line and syncs it.
    pub fn append(&self, failure: &Failure) -> std::io::Result<()> {
        let mut line = serde_json::to_string(failure).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }

    /// Every line so far (none when the log does not exist).
    pub fn read(&self) -> std::io::Result<Vec<Failure>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
            .collect()
    }
}

/// Now as RFC 3339 UTC, to the second.
pub fn utc_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(secs: u64) -> String {
    panopticon_data::datasets::format_utc(secs as i64).replacen(' ', "T", 1) + "Z"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_659_445), "2026-12-07T16:04:05Z");
    }

    #[test]
    fn appends_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = FailureLog::in_dir(dir.path());
        assert!(log.read().unwrap().is_empty());
        let f = Failure {
            id: "a".into(),
            input: "/x/a.tif".into(),
            reason: "bad \"band\" count".into(),
            time: utc_timestamp(),
        };
        log.append(&f).unwrap();
        log.append(&f).unwrap();
        assert_eq!(log.read().unwrap(), [f.clone(), f]);
    }
}
