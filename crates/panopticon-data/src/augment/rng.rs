//! Seeded random draws: every augmentation consumes uniform `[0, 1)` draws through [`Draws`].
//!
//! All randomness is derived from single uniform draws with fixed formulas (documented on each
//! method), so a test can replay the same draws into the Python reference and compare.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// A source of uniform draws in `[0, 1)`; every other random quantity is derived from them.
pub trait Draws {
    /// One uniform draw in `[0, 1)`.
    fn uniform(&mut self) -> f64;

    /// `lo + (hi − lo)·u` (Python's `random.uniform`).
    fn uniform_range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `[lo, hi]` (inclusive): `lo + floor(u·(hi − lo + 1))`.
    ///
    /// Always consumes one draw (like `torch.randint`), even when `hi <= lo` (then `lo`).
    fn randint(&mut self, lo: usize, hi: usize) -> usize {
        let n = hi.saturating_sub(lo) + 1;
        lo + ((self.uniform() * n as f64) as usize).min(n - 1)
    }

    /// True with probability `p` (`u < p`).
    fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// In-place Fisher–Yates shuffle as Python's `random.shuffle`: for `i` from `n − 1` down
    /// to 1, swap `xs[i]` with `xs[randint(0, i)]`.
    fn shuffle<T>(&mut self, xs: &mut [T])
    where
        Self: Sized,
    {
        for i in (1..xs.len()).rev() {
            let j = self.randint(0, i);
            xs.swap(i, j);
        }
    }

    /// A random permutation of `0..n` ([`Draws::shuffle`] of the identity).
    fn permutation(&mut self, n: usize) -> Vec<usize>
    where
        Self: Sized,
    {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

/// The seeded generator used by the data pipeline (ChaCha8, 53-bit uniform floats).
///
/// Same seed (and stream) → same draws on every platform, so augmentations are reproducible
/// bit for bit.
#[derive(Debug, Clone)]
pub struct AugRng(ChaCha8Rng);

impl AugRng {
    /// A generator from a 64-bit seed.
    pub fn seed_from_u64(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// The generator for one sample: `seed` selects the run, `index` the independent ChaCha
    /// stream, so samples can be augmented on any thread in any order with the same result.
    pub fn for_sample(seed: u64, index: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        Self(rng)
    }
}

impl Draws for AugRng {
    fn uniform(&mut self) -> f64 {
        // Top 53 bits → exactly representable multiples of 2^-53 in [0, 1).
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}
