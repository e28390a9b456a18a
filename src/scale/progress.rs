//! Per-item progress lines and the final summary of a batch run (with what `--dtype f16` and
//! `--pca` cost: the worst relative error of the items written).

use std::time::{Duration, Instant};

/// Counts of a run so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Items embedded and written by this run.
    pub done: usize,
    /// Items whose output already existed.
    pub skipped: usize,
    /// Items that failed (logged to `failures.jsonl`).
    pub failed: usize,
    /// Tiles embedded by this run.
    pub tiles: usize,
}

/// The worst relative RMS errors of the stored values against float32 over the items written.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StorageErrors {
    /// Of storing as float16.
    pub f16: Option<f64>,
    /// Of the PCA-reduced dense maps (`K`, error).
    pub pca: Option<(usize, f64)>,
}

/// Progress of a run over `todo` items (the ones without an output at the start).
#[derive(Debug)]
pub struct Progress {
    /// Counts so far.
    pub tally: Tally,
    /// What storing cost so far.
    pub storage: StorageErrors,
    todo: usize,
    start: Instant,
}

impl Progress {
    /// A run with `skipped` items already finished and `todo` to do.
    pub fn new(todo: usize, skipped: usize) -> Self {
        Progress {
            tally: Tally {
                skipped,
                ..Tally::default()
            },
            storage: StorageErrors::default(),
            todo,
            start: Instant::now(),
        }
    }

    /// Records a finished item (`tiles` embedded) and returns its progress line.
    pub fn item_done(&mut self, id: &str, tiles: usize, took: Duration) -> String {
        self.tally.done += 1;
        self.tally.tiles += tiles;
        let line = format!("{id}: {tiles} tiles in {:.2} s", took.as_secs_f64());
        self.line(&line)
    }

    /// Records the storage errors of an item written: float16's, and PCA's with its `K`.
    pub fn record_storage(&mut self, f16: Option<f64>, pca: Option<(usize, f64)>) {
        let s = &mut self.storage;
        if let Some(e) = f16 {
            s.f16 = Some(s.f16.map_or(e, |w| w.max(e)));
        }
        if let Some((k, e)) = pca {
            s.pca = Some(s.pca.map_or((k, e), |(k0, w)| (k0, w.max(e))));
        }
    }

    /// Records a failed item and returns its progress line.
    pub fn item_failed(&mut self, id: &str, reason: &str) -> String {
        self.tally.failed += 1;
        self.line(&format!("{id}: FAILED: {reason}"))
    }

    fn line(&self, what: &str) -> String {
        let t = &self.tally;
        let finished = t.done + t.failed;
        format!(
            "[{finished}/{}] {what} | done {}, failed {}, skipped {} | {:.1} tiles/s, eta {}",
            self.todo,
            t.done,
            t.failed,
            t.skipped,
            self.tiles_per_s(),
            self.eta()
                .map_or("?".to_string(), |d| format!("{:.0} s", d.as_secs_f64()))
        )
    }

    fn tiles_per_s(&self) -> f64 {
        self.tally.tiles as f64 / self.start.elapsed().as_secs_f64().max(1e-9)
    }

    /// Time left at the mean pace of the items finished so far.
    pub fn eta(&self) -> Option<Duration> {
        let finished = self.tally.done + self.tally.failed;
        if finished == 0 {
            return None;
        }
        let left = self.todo.saturating_sub(finished) as u32;
        Some(self.start.elapsed() / finished as u32 * left)
    }

    /// The last line of a run.
    pub fn summary(&self, total: usize) -> String {
        let t = &self.tally;
        let secs = self.start.elapsed().as_secs_f64();
        let mut line = format!(
            "summary: {total} items: {} done, {} skipped (already there), {} failed; {} tiles \
             in {secs:.1} s ({:.1} tiles/s)",
            t.done,
            t.skipped,
            t.failed,
            t.tiles,
            self.tiles_per_s()
        );
        if let Some(e) = self.storage.f16 {
            line += &format!("; float16 relative RMS error ≤ {e:.2e}");
        }
        if let Some((k, e)) = self.storage.pca {
            line += &format!("; PCA ({k} components) relative RMS error ≤ {e:.4}");
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_lines() {
        let mut p = Progress::new(3, 2);
        assert_eq!(p.eta(), None);
        let l = p.item_done("a", 10, Duration::from_millis(500));
        assert!(
            l.starts_with("[1/3] a: 10 tiles in 0.50 s | done 1, failed 0, skipped 2"),
            "{l}"
        );
        let l = p.item_failed("b", "broken");
        assert!(
            l.contains("b: FAILED: broken | done 1, failed 1, skipped 2"),
            "{l}"
        );
        assert!(p.eta().is_some());
        let s = p.summary(5);
        assert!(
            s.starts_with(
                "summary: 5 items: 1 done, 2 skipped (already there), 1 failed; 10 tiles"
            ),
            "{s}"
        );
        assert!(!s.contains("error"), "{s}");
        p.record_storage(Some(2e-4), Some((8, 0.25)));
        p.record_storage(Some(1e-4), Some((8, 0.5)));
        p.record_storage(None, None);
        let s = p.summary(5);
        assert!(
            s.ends_with(
                "; float16 relative RMS error ≤ 2.00e-4; PCA (8 components) relative RMS \
                 error ≤ 0.5000"
            ),
            "{s}"
        );
    }
}
