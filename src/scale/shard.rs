//! `--shard K/N`: which items a worker runs, by a stable hash of the item id.

use std::fmt;
use std::str::FromStr;

/// A bad `--shard` value.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShardError {
    /// Not of the form `K/N`.
    #[error("--shard {0}: expected K/N with 0 ≤ K < N (e.g. 0/4)")]
    Syntax(String),
    /// `N` is zero.
    #[error("--shard {0}: the shard count N must be at least 1")]
    ZeroCount(String),
    /// `K ≥ N`.
    #[error("--shard {spec}: K is 0-based, so it must be below N = {count} (0..={last})")]
    OutOfRange {
        /// As given.
        spec: String,
        /// N.
        count: u64,
        /// N − 1.
        last: u64,
    },
}

/// Shard `index` of `count` (0-based: `0/N` … `N-1/N`, the numbering of a Kubernetes
/// `JOB_COMPLETION_INDEX` and of `sbatch --array=0-(N-1)`).
///
/// An item belongs to shard `fnv1a64(id) % count`: the share depends only on the item id
/// and N, so reruns, other machines and other languages agree on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// K, 0-based.
    pub index: u64,
    /// N ≥ 1.
    pub count: u64,
}

impl Shard {
    /// The whole manifest: `0/1`.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether the item with this id belongs to this shard.
    pub fn contains(&self, id: &str) -> bool {
        fnv1a64(id.as_bytes()) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(spec: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(spec.to_string());
        let (k, n) = spec.trim().split_once('/').ok_or_else(syntax)?;
        let index: u64 = k.trim().parse().map_err(|_| syntax())?;
        let count: u64 = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 {
            return Err(ShardError::ZeroCount(spec.to_string()));
        }
        if index >= count {
            return Err(ShardError::OutOfRange {
                spec: spec.to_string(),
                count,
                last: count - 1,
            });
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of `bytes`: tiny,
/// fixed forever, and one line in any language (`scale/ray/panopticon_ray.py` has the Python).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        assert_eq!(" 0 / 1 ".parse::<Shard>(), Ok(Shard::ALL));
        assert!(matches!(
            "3/2".parse::<Shard>(),
            Err(ShardError::OutOfRange { count: 2, .. })
        ));
        assert!(matches!(
            "0/0".parse::<Shard>(),
            Err(ShardError::ZeroCount(_))
        ));
        for bad in ["", "1", "a/2", "1/b", "-1/2", "1/2/3"] {
            assert!(
                matches!(bad.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
    }
}
