//! Per-item progress lines and the final summary of a batch run.

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

/// Progress of a run over `todo` items (the ones without an output at the start).
#[derive(Debug)]
pub struct Progress {
    /// Counts so far.
    pub tally: Tally,
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
        format!(
            "summary: {total} items: {} done, {} skipped (already there), {} failed; {} tiles \
             in {secs:.1} s ({:.1} tiles/s)",
            t.done,
            t.skipped,
            t.failed,
            t.tiles,
            self.tiles_per_s()
        )
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
    }
}
