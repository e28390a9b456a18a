//! How the byte ranges a window needs are grouped into requests.

use std::ops::Range;

/// Ranges closer than this are fetched in one request (the gap is read and dropped): a
/// request costs a round trip, 64 KiB costs far less than one on any real link.
pub const MERGE_GAP: u64 = 64 << 10;

/// A merged request is cut into parts of at most this size, so one large run of tiles is still
/// fetched by several connections at once.
pub const MAX_REQUEST: u64 = 8 << 20;

/// Sorts and merges ranges that overlap or lie within [`MERGE_GAP`] of each other, then cuts
/// runs longer than [`MAX_REQUEST`] into parts: the requests to send.
pub fn merge_ranges(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(MERGE_GAP) => {
                last.end = last.end.max(r.end)
            }
            _ => merged.push(r),
        }
    }
    let mut out = Vec::with_capacity(merged.len());
    for r in merged {
        let parts = (r.end - r.start).div_ceil(MAX_REQUEST);
        let step = (r.end - r.start).div_ceil(parts);
        let mut start = r.start;
        while start < r.end {
            out.push(start..(start + step).min(r.end));
            start += step;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_ranges_merge_and_far_ones_do_not() {
        let got = merge_ranges(vec![
            200..300,
            0..100,
            100..150,
            300 + MERGE_GAP..400 + MERGE_GAP,
            1_000_000..1_000_010,
            50..60,
        ]);
        assert_eq!(got, vec![0..400 + MERGE_GAP, 1_000_000..1_000_010]);
    }

    #[test]
    fn long_runs_are_cut_into_bounded_requests() {
        let got = merge_ranges(std::iter::once(0..2 * MAX_REQUEST + 10).collect());
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].start, 0);
        assert_eq!(got[2].end, 2 * MAX_REQUEST + 10);
        assert!(got.windows(2).all(|w| w[0].end == w[1].start));
        assert!(got.iter().all(|r| r.end - r.start <= MAX_REQUEST));
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)] // a reversed range is exactly the input under test
    fn empty_ranges_are_dropped() {
        assert!(merge_ranges(vec![5..5, 7..3]).is_empty());
    }
}
