//! The "faulty images" log: every file that failed to load is appended, upstream's format
//! with the error message in place of the Python traceback.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends failure records to one file; shared by the loader's worker threads.
#[derive(Debug, Clone)]
pub(crate) struct FaultyLog {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
}

impl FaultyLog {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Arc::new(Mutex::new(())),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `\n\ntime: <UTC>\nfile: <file>\nerror: <error>\n`.
    ///
    /// A log that cannot be written must not stop training (the retry matters more): the
    /// problem is reported on stderr instead.
    pub(crate) fn append(&self, file: &Path, error: &dyn std::fmt::Display) {
        let record = format!(
            "\n\ntime: {} UTC\nfile: {}\nerror: {error}\n",
            utc_now(),
            file.display()
        );
        // A poisoned lock only means another thread panicked mid-append; appending is still
        // safe.
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(record.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "warning: cannot append to the faulty-images log `{}`: {e}; failed file: `{}`",
                self.path.display(),
                file.display()
            );
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` of now, UTC.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format_utc(secs)
}

/// `YYYY-MM-DD HH:MM:SS` of a Unix time (proleptic Gregorian, days-from-civil inverse).
pub fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(format_utc(1_796_023_323), "2026-11-30 07:22:03");
    }
}
