//! Reading the next window on a background thread while the current one is embedded, so a
//! slow disk or network overlaps the model's compute.

use std::sync::mpsc::sync_channel;

/// What [`with_read_ahead`]'s reader returns for one window.
pub type WindowResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Runs `consume` with a `next(row0, rows)` function that hands out the windows of `windows`
/// in order, while `produce` reads them on a scoped thread one window ahead: at most two
/// windows are alive at once (the one being consumed and the next, finished one).
///
/// `next` must be called for the windows in the order given; a different window is an error.
/// A failed read is returned by `next` and stops the reader; when `consume` returns early the
/// reader stops too.
pub fn with_read_ahead<T, R>(
    windows: &[(usize, usize)],
    mut produce: impl FnMut(usize, usize) -> WindowResult<T> + Send,
    consume: impl FnOnce(&mut dyn FnMut(usize, usize) -> WindowResult<T>) -> R,
) -> R
where
    T: Send,
{
    std::thread::scope(|scope| {
        // Rendezvous channel: the reader finishes window k+1, then waits until k+1 is taken.
        let (tx, rx) = sync_channel::<((usize, usize), WindowResult<T>)>(0);
        scope.spawn(move || {
            for &(row0, rows) in windows {
                let result = produce(row0, rows);
                let failed = result.is_err();
                if tx.send(((row0, rows), result)).is_err() || failed {
                    break;
                }
            }
        });
        let mut next = |row0: usize, rows: usize| -> WindowResult<T> {
            match rx.recv() {
                Ok((w, result)) if w == (row0, rows) => result,
                Ok((w, _)) => Err(format!(
                    "rows {row0}..{} asked for, but the reader read rows {}..{}",
                    row0 + rows,
                    w.0,
                    w.0 + w.1
                )
                .into()),
                Err(_) => {
                    Err(format!("rows {row0}..{}: no window left to read", row0 + rows).into())
                }
            }
        };
        let out = consume(&mut next);
        // Dropping the receiver stops a reader still waiting to hand over a window.
        drop(rx);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::with_read_ahead;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn windows_arrive_in_order_and_the_reader_stays_one_ahead() {
        let windows = [(0, 2), (2, 2), (4, 1)];
        let read = AtomicUsize::new(0);
        let got = with_read_ahead(
            &windows,
            |row0, rows| {
                read.fetch_add(1, Ordering::SeqCst);
                Ok(vec![row0; rows])
            },
            |next| {
                let mut all = Vec::new();
                for &(r, n) in &windows {
                    all.extend(next(r, n).unwrap());
                    // Consumed k+1 windows; the reader holds at most one more.
                    assert!(read.load(Ordering::SeqCst) <= all.len().min(3) + 1);
                }
                all
            },
        );
        assert_eq!(got, vec![0, 0, 2, 2, 4]);
    }

    #[test]
    fn errors_and_early_exits_stop_the_reader() {
        let windows: Vec<(usize, usize)> = (0..100).map(|i| (i, 1)).collect();
        let err = with_read_ahead(
            &windows,
            |row0, _| {
                if row0 == 1 {
                    Err("disk on fire".into())
                } else {
                    Ok(row0)
                }
            },
            |next| {
                assert_eq!(next(0, 1).unwrap(), 0);
                next(1, 1).unwrap_err().to_string()
            },
        );
        assert_eq!(err, "disk on fire");
        // Early exit after one window: the scope must still end.
        let first = with_read_ahead(&windows, |row0, _| Ok(row0), |next| next(0, 1).unwrap());
        assert_eq!(first, 0);
        let wrong = with_read_ahead(&windows, |row0, _| Ok(row0), |next| next(5, 1).is_err());
        assert!(wrong);
    }
}
