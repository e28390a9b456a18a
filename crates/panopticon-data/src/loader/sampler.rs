//! Index samplers (spec §5.8): the infinite seeded shuffled sampler with per-rank striding
//! used for pre-training, and a finite sequential pass.

use super::error::LoaderError;
use crate::augment::{AugRng, Draws};

/// One unit of work: which dataset index to load and which augmentation stream to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Task {
    /// Index into the dataset.
    pub index: usize,
    /// Global sample number: seeds `AugRng::for_sample(seed, sample_id)`. Unique over passes
    /// and ranks (`pass · n + position in the pass`), so a dataset index seen in a later pass
    /// gets fresh crops.
    pub sample_id: u64,
}

/// The infinite training sampler (upstream `InfiniteSampler(shuffle=True)`).
///
/// Every pass over the `n` indices is a fresh forward Fisher–Yates permutation
/// (`for i in 0..n−1: j = randint[i, n−1]; swap(i, j)`) drawn from one generator seeded once
/// with `seed`; rank `r` of `world` takes positions `r, r + world, …` of each pass. The
/// draws come from [`AugRng`] (ChaCha8), not torch's generator, so the permutations differ
/// from upstream's while having the same distribution.
///
/// Upstream seeds this sampler with the start iteration (spec §8 quirk 23), so a resumed run
/// sees different permutations than an uninterrupted one. Here the caller picks the seed:
/// pass `train.seed` and call [`Self::advance`] with `start_iter · batch_size` to resume
/// exactly (the fix, default in `panopticon-train`), or pass the start iteration as seed and
/// do not advance to reproduce upstream's behaviour.
#[derive(Debug, Clone)]
pub struct InfiniteSampler {
    n: usize,
    rank: usize,
    world: usize,
    rng: AugRng,
    perm: Vec<usize>,
    pass: u64,
    pos: usize,
}

impl InfiniteSampler {
    /// A sampler over `n` indices for `rank` of `world`.
    ///
    /// Errors if `n == 0`, `world == 0`, `rank >= world` or `rank >= n` (this rank would
    /// never receive an index).
    pub fn new(n: usize, seed: u64, rank: usize, world: usize) -> Result<Self, LoaderError> {
        check_shard(n, rank, world)?;
        Ok(Self {
            n,
            rank,
            world,
            rng: AugRng::seed_from_u64(seed),
            perm: Vec::new(),
            pass: 0,
            // Forces a fresh permutation on the first call.
            pos: usize::MAX,
        })
    }

    /// Skips `count` tasks (resuming after `count` samples of this rank): the state is then
    /// what `count` calls of [`Self::next_task`] leave, but only the permutations are drawn
    /// (cost per pass, not per task).
    pub fn advance(&mut self, mut count: u64) {
        while count > 0 {
            if self.pos >= self.n {
                self.start_pass();
            }
            let left = (self.n - self.pos).div_ceil(self.world) as u64;
            let step = left.min(count);
            self.pos += step as usize * self.world;
            count -= step;
        }
    }

    fn start_pass(&mut self) {
        if !self.perm.is_empty() {
            self.pass += 1;
        }
        self.perm = forward_fisher_yates(self.n, &mut self.rng);
        self.pos = self.rank;
    }

    /// The next task; never ends.
    pub fn next_task(&mut self) -> Task {
        if self.pos >= self.n {
            self.start_pass();
        }
        let task = Task {
            index: self.perm[self.pos],
            sample_id: self.pass * self.n as u64 + self.pos as u64,
        };
        self.pos += self.world;
        task
    }
}

impl Iterator for InfiniteSampler {
    type Item = Task;

    fn next(&mut self) -> Option<Task> {
        Some(self.next_task())
    }
}

/// `for i in 0..n−1: j = randint[i, n−1]; swap(i, j)` over the identity (spec §5.8).
pub fn forward_fisher_yates<R: Draws>(n: usize, rng: &mut R) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in 0..n.saturating_sub(1) {
        let j = rng.randint(i, n - 1);
        p.swap(i, j);
    }
    p
}

/// One finite pass in index order, rank `r` taking indices `r, r + world, …`
/// (evaluation-style; `sample_id == index`).
#[derive(Debug, Clone)]
pub struct SequentialSampler {
    n: usize,
    world: usize,
    pos: usize,
}

impl SequentialSampler {
    /// A pass over `n` indices for `rank` of `world`.
    pub fn new(n: usize, rank: usize, world: usize) -> Result<Self, LoaderError> {
        check_shard(n, rank, world)?;
        Ok(Self {
            n,
            world,
            pos: rank,
        })
    }
}

impl Iterator for SequentialSampler {
    type Item = Task;

    fn next(&mut self) -> Option<Task> {
        if self.pos >= self.n {
            return None;
        }
        let task = Task {
            index: self.pos,
            sample_id: self.pos as u64,
        };
        self.pos += self.world;
        Some(task)
    }
}

fn check_shard(n: usize, rank: usize, world: usize) -> Result<(), LoaderError> {
    if world == 0 || rank >= world {
        return Err(LoaderError::Config(format!(
            "rank {rank} is not in a world of {world}; use 0 <= rank < world"
        )));
    }
    if rank >= n {
        return Err(LoaderError::Config(format!(
            "the dataset has {n} samples, so rank {rank} would get none; use a larger dataset \
             or fewer ranks"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_equals_drawing_the_tasks() {
        for (n, world) in [(5, 1), (7, 3), (4, 4), (1, 1)] {
            for rank in 0..world.min(n) {
                for count in 0..30u64 {
                    let mut skipped = InfiniteSampler::new(n, 9, rank, world).unwrap();
                    skipped.advance(count);
                    let mut drawn = InfiniteSampler::new(n, 9, rank, world).unwrap();
                    for _ in 0..count {
                        drawn.next_task();
                    }
                    let a: Vec<Task> = skipped.take(2 * n).collect();
                    let b: Vec<Task> = drawn.take(2 * n).collect();
                    assert_eq!(a, b, "n {n} world {world} rank {rank} count {count}");
                }
            }
        }
    }
}
