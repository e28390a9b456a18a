//! A remote object read through byte-range requests, as a `Read + Seek` source for the
//! decoders.
//!
//! Bytes come from two caches: blocks fetched on demand (the header and IFDs: a first
//! [`INITIAL_READ`] and then [`ON_DEMAND_BLOCK`]s wherever the decoder reads outside what is
//! held; capped at [`MAX_ON_DEMAND_BYTES`]), and the chunks of the current window, fetched
//! together by [`RemoteFile::prefetch`] and replaced by the next window's (keeping the blocks
//! both windows need). Nothing ever asks for the whole object.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjPath;
use object_store::{GetRange, ObjectStore};
use url::Url;

use super::ranges::merge_ranges;
use super::retry::{head, read_range};
use super::store::{RemoteOptions, open_store, runtime};

/// The first request: enough for the header and the IFDs of a typical COG.
pub const INITIAL_READ: u64 = 64 << 10;
/// A read outside the held bytes fetches at least this much.
pub const ON_DEMAND_BLOCK: u64 = 64 << 10;
/// Past this, on-demand blocks are dropped before new ones are kept.
pub const MAX_ON_DEMAND_BYTES: usize = 32 << 20;

/// Requests and bytes a [`RemoteFile`] has fetched.
#[derive(Debug, Default)]
pub struct RemoteStats {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl RemoteStats {
    /// Range requests sent, each retry counted.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    /// Body bytes received.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(super) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn count_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
}

/// One remote object, opened with a first range read.
pub struct RemoteFile {
    url: Url,
    store: Arc<dyn ObjectStore>,
    path: ObjPath,
    size: u64,
    pos: u64,
    max_requests: usize,
    /// Requests one read may take (1 + retries).
    attempts: usize,
    on_demand: BTreeMap<u64, Bytes>,
    on_demand_bytes: usize,
    window: BTreeMap<u64, Bytes>,
    stats: Arc<RemoteStats>,
}

impl RemoteFile {
    /// Opens `url` and reads its first `INITIAL_READ` (64 KiB) bytes (one request, retried as
    /// every read is, which also tells the object's size). Errors are one line, without the
    /// URL (the caller names it).
    pub fn open(url: &Url, opts: &RemoteOptions) -> Result<Self, String> {
        let (store, path) = open_store(url)?;
        let rt = runtime()?;
        let stats = Arc::new(RemoteStats::default());
        let attempts = opts.max_retries + 1;
        let first = rt.block_on(read_range(
            store.as_ref(),
            &path,
            GetRange::Bounded(0..INITIAL_READ),
            url,
            attempts,
            &stats,
        ))?;
        let mut file = Self {
            url: url.clone(),
            store,
            path,
            size: first.size,
            pos: 0,
            max_requests: opts.max_requests.max(1),
            attempts,
            on_demand: BTreeMap::new(),
            on_demand_bytes: 0,
            window: BTreeMap::new(),
            stats,
        };
        file.keep_on_demand(first.range.start, first.bytes);
        Ok(file)
    }

    /// Checks that `url` exists and can be read (one HEAD request, retried on transient
    /// failures), without reading it.
    pub fn probe(url: &Url, opts: &RemoteOptions) -> Result<(), String> {
        let (store, path) = open_store(url)?;
        runtime()?.block_on(head(store.as_ref(), &path, url, opts.max_retries + 1))
    }

    /// Size of the object in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Requests and bytes fetched so far.
    pub fn stats(&self) -> Arc<RemoteStats> {
        self.stats.clone()
    }

    /// Makes the window cache hold `ranges`: blocks of the previous window that hold some of
    /// them are kept (windows of overlapping tile rows share tiles), the others dropped, and
    /// the rest fetched (merged, at most `max_requests` requests in flight).
    pub fn prefetch(&mut self, ranges: &[Range<u64>]) -> io::Result<()> {
        let wanted: Vec<Range<u64>> = ranges
            .iter()
            .map(|r| r.start.min(self.size)..r.end.min(self.size))
            .filter(|r| r.start < r.end)
            .collect();
        let previous = std::mem::take(&mut self.window);
        for (start, bytes) in previous {
            let end = start + bytes.len() as u64;
            if wanted.iter().any(|r| start <= r.start && r.end <= end) {
                self.window.insert(start, bytes);
            }
        }
        let missing: Vec<Range<u64>> = wanted
            .into_iter()
            .filter(|r| !covered(&self.window, r) && !covered(&self.on_demand, r))
            .collect();
        for (start, bytes) in self.fetch(merge_ranges(missing))? {
            self.window.insert(start, bytes);
        }
        Ok(())
    }

    /// Fetches `ranges` concurrently (at most `max_requests` in flight), each read retried
    /// until it returns exactly the bytes asked for.
    fn fetch(&self, ranges: Vec<Range<u64>>) -> io::Result<Vec<(u64, Bytes)>> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let rt = runtime().map_err(io::Error::other)?;
        let (store, path, stats, url) = (&self.store, &self.path, &self.stats, &self.url);
        let attempts = self.attempts;
        let requests = futures::stream::iter(ranges.into_iter().map(|r| async move {
            let got = read_range(
                store.as_ref(),
                path,
                GetRange::Bounded(r.clone()),
                url,
                attempts,
                stats,
            )
            .await?;
            Ok::<_, String>((r.start, got.bytes))
        }))
        .buffer_unordered(self.max_requests)
        .try_collect::<Vec<_>>();
        rt.block_on(requests).map_err(io::Error::other)
    }

    fn keep_on_demand(&mut self, start: u64, bytes: Bytes) {
        if self.on_demand_bytes + bytes.len() > MAX_ON_DEMAND_BYTES {
            self.on_demand.clear();
            self.on_demand_bytes = 0;
        }
        self.on_demand_bytes += bytes.len();
        self.on_demand.insert(start, bytes);
    }

    /// The held bytes from `pos` on (possibly fewer than asked), if any block covers `pos`.
    fn held(&self, pos: u64) -> Option<&[u8]> {
        [&self.window, &self.on_demand].into_iter().find_map(|map| {
            let (start, bytes) = map.range(..=pos).next_back()?;
            let off = usize::try_from(pos - start).ok()?;
            (off < bytes.len()).then(|| &bytes[off..])
        })
    }
}

/// Whether one held block contains all of `r`.
fn covered(map: &BTreeMap<u64, Bytes>, r: &Range<u64>) -> bool {
    map.range(..=r.start)
        .next_back()
        .is_some_and(|(start, bytes)| start + bytes.len() as u64 >= r.end)
}

impl Read for RemoteFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.size {
            return Ok(0);
        }
        if self.held(self.pos).is_none() {
            // Up to the next held block, at least a block, at most the object.
            let next_held = [&self.window, &self.on_demand]
                .iter()
                .filter_map(|m| m.range(self.pos + 1..).next().map(|(s, _)| *s))
                .min()
                .unwrap_or(self.size);
            let want = (buf.len() as u64).max(ON_DEMAND_BLOCK);
            let end = (self.pos + want)
                .min(self.size)
                .min(next_held.max(self.pos + 1));
            let fetched = self.fetch(std::iter::once(self.pos..end).collect())?;
            for (start, bytes) in fetched {
                self.keep_on_demand(start, bytes);
            }
        }
        let held = self
            .held(self.pos)
            .ok_or_else(|| io::Error::other("range read returned no bytes"))?;
        let n = held.len().min(buf.len());
        buf[..n].copy_from_slice(&held[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RemoteFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the object",
            )
        })?;
        Ok(self.pos)
    }
}
