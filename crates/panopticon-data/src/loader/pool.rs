//! [`OrderedPool`]: a parallel map over a task iterator with bounded prefetch and in-order
//! delivery.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use super::error::LoaderError;

/// A task result as delivered: the job's own output, or the panic message of a worker that
/// panicked on it.
pub type Delivered<J, T> = (J, Result<T, String>);

struct State<J> {
    tasks: Box<dyn Iterator<Item = J> + Send>,
    /// Sequence number of the next task to hand to a worker.
    issued: u64,
    /// Tasks issued but not yet handed to the consumer (being processed, in the channel, or
    /// waiting in the reorder buffer).
    in_flight: usize,
    /// Largest `in_flight` seen.
    peak: usize,
    exhausted: bool,
    shutdown: bool,
}

struct Shared<J> {
    state: Mutex<State<J>>,
    cv: Condvar,
    depth: usize,
}

impl<J> Shared<J> {
    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // A poisoned lock only means a thread panicked while holding it; the state is a few
        // counters that stay consistent, so keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `f` on the tasks of an iterator with `workers` threads and yields the results **in
/// task order**, whatever the thread timing.
///
/// Memory is bounded by `depth`: at most `depth` tasks are issued and not yet returned by
/// [`Self::next_result`] (processing, queued, or waiting for an earlier task), so at most
/// `depth` results exist at once. A worker that panics is caught; the panic is delivered in
/// order as `Err(message)`. Dropping the pool stops the workers: each finishes its current
/// task, and no worker blocks on a full queue, so drop never hangs on a slow consumer.
pub struct OrderedPool<J, T> {
    shared: Arc<Shared<J>>,
    rx: Option<Receiver<(u64, Delivered<J, T>)>>,
    pending: BTreeMap<u64, Delivered<J, T>>,
    next: u64,
    workers: Vec<JoinHandle<()>>,
}

impl<J, T> OrderedPool<J, T>
where
    J: Clone + Send + 'static,
    T: Send + 'static,
{
    /// Starts `workers` threads mapping `f` over `tasks` with at most `depth` results in
    /// flight. Errors if `workers` or `depth` is 0, or a thread cannot be spawned.
    pub fn new<I, F>(tasks: I, workers: usize, depth: usize, f: F) -> Result<Self, LoaderError>
    where
        I: Iterator<Item = J> + Send + 'static,
        F: Fn(J) -> T + Send + Sync + 'static,
    {
        if workers == 0 || depth == 0 {
            return Err(LoaderError::Config(format!(
                "workers ({workers}) and prefetch depth ({depth}) must both be at least 1"
            )));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                tasks: Box::new(tasks),
                issued: 0,
                in_flight: 0,
                peak: 0,
                exhausted: false,
                shutdown: false,
            }),
            cv: Condvar::new(),
            depth,
        });
        let (tx, rx) = channel();
        let f = Arc::new(f);
        let mut pool = Self {
            shared: Arc::clone(&shared),
            rx: Some(rx),
            pending: BTreeMap::new(),
            next: 0,
            workers: Vec::with_capacity(workers),
        };
        for w in 0..workers {
            let (shared, tx, f) = (Arc::clone(&shared), tx.clone(), Arc::clone(&f));
            let handle = std::thread::Builder::new()
                .name(format!("panopticon-loader-{w}"))
                .spawn(move || worker(&shared, &tx, &*f))
                .map_err(|e| LoaderError::Config(format!("cannot spawn loader thread: {e}")))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// The next result in task order; `None` once the task iterator is exhausted and every
    /// result was delivered.
    pub fn next_result(&mut self) -> Option<Result<Delivered<J, T>, LoaderError>> {
        loop {
            if let Some(done) = self.pending.remove(&self.next) {
                self.next += 1;
                let mut st = self.shared.lock();
                st.in_flight -= 1;
                drop(st);
                self.shared.cv.notify_one();
                return Some(Ok(done));
            }
            {
                let st = self.shared.lock();
                if st.exhausted && st.issued == self.next {
                    return None;
                }
            }
            let rx = self.rx.as_ref()?;
            match rx.recv() {
                Ok((seq, done)) => {
                    self.pending.insert(seq, done);
                }
                Err(_) => {
                    let st = self.shared.lock();
                    if st.exhausted && st.issued == self.next {
                        return None;
                    }
                    return Some(Err(LoaderError::WorkersGone {
                        delivered: self.next,
                    }));
                }
            }
        }
    }

    /// Largest number of results in flight seen so far (never above the depth).
    pub fn peak_in_flight(&self) -> usize {
        self.shared.lock().peak
    }

    /// The prefetch depth.
    pub fn depth(&self) -> usize {
        self.shared.depth
    }
}

fn worker<J: Clone, T, F: Fn(J) -> T>(
    shared: &Shared<J>,
    tx: &Sender<(u64, Delivered<J, T>)>,
    f: &F,
) {
    loop {
        let (seq, job) = {
            let mut st = shared.lock();
            while !st.shutdown && !st.exhausted && st.in_flight >= shared.depth {
                st = shared.cv.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.shutdown || st.exhausted {
                return;
            }
            let Some(job) = st.tasks.next() else {
                st.exhausted = true;
                drop(st);
                shared.cv.notify_all();
                return;
            };
            let seq = st.issued;
            st.issued += 1;
            st.in_flight += 1;
            st.peak = st.peak.max(st.in_flight);
            (seq, job)
        };
        let out = catch_unwind(AssertUnwindSafe(|| f(job.clone()))).map_err(panic_message);
        if tx.send((seq, (job, out))).is_err() {
            return; // the pool was dropped
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

impl<J, T> Drop for OrderedPool<J, T> {
    fn drop(&mut self) {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shutdown = true;
        self.shared.cv.notify_all();
        // Dropping the receiver makes every pending `send` fail, so no worker blocks.
        self.rx = None;
        for handle in self.workers.drain(..) {
            // A worker cannot panic outside `catch_unwind`; ignore the join result anyway.
            let _ = handle.join();
        }
    }
}
