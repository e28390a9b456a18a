//! [`PretrainLoader`]: dataset → augmentation on worker threads → ordered, collated batches.

use super::error::{LoaderError, SampleFailure};
use super::pool::OrderedPool;
use super::sampler::{InfiniteSampler, SequentialSampler, Task};
use crate::augment::{AugRng, AugmentedSample, Collated, PanopticonAugmentation, collate};
use crate::datasets::{DatasetError, PretrainSource};
use crate::masking::{IbotMaskConfig, MaskingGenerator};

/// Added to the loader seed for the per-batch iBOT mask stream (keeps it apart from the
/// per-sample streams).
const MASK_SEED_SALT: u64 = 0x6962_6f74_6d61_736b; // "ibotmask"

/// How the loader walks the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Infinite shuffled passes ([`InfiniteSampler`], seeded with `seed`), skipping the first
    /// `advance` tasks of this rank (resume). Never ends; only full batches.
    Infinite {
        /// Permutation seed.
        seed: u64,
        /// Tasks of this rank to skip (`start_iter · batch_size` to resume).
        advance: u64,
    },
    /// One pass in index order ([`SequentialSampler`]); the last batch may be short.
    Sequential,
}

/// Settings of [`PretrainLoader`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoaderConfig {
    /// Worker threads (load + augment).
    pub workers: usize,
    /// Samples in flight at most (being processed, queued or reordered): memory is bounded by
    /// `prefetch` augmented samples plus the batch being assembled.
    pub prefetch: usize,
    /// Samples per batch (`batch_size_per_gpu`).
    pub batch_size: usize,
    /// Augmentation seed: sample `i` is loaded and augmented with
    /// `AugRng::for_sample(seed, i)`; batch `b`'s iBOT masks use
    /// `AugRng::for_sample(seed + MASK_SEED_SALT, b)`.
    pub seed: u64,
    /// This process' rank.
    pub rank: usize,
    /// Number of ranks.
    pub world: usize,
    /// Failed samples tolerated (skipped and logged) before the loader stops with
    /// [`LoaderError::TooManyFailures`]. Counted over the loader's lifetime.
    pub max_failures: usize,
    /// Print each skipped sample to stderr.
    pub log_failures: bool,
    /// Index order.
    pub sampling: Sampling,
}

impl Default for LoaderConfig {
    /// 2 workers, prefetch 2 × batch, batch 32, seed 0, single rank, up to 100 skipped
    /// samples, logged, infinite sampling seeded with 0.
    fn default() -> Self {
        Self {
            workers: 2,
            prefetch: 64,
            batch_size: 32,
            seed: 0,
            rank: 0,
            world: 1,
            max_failures: 100,
            log_failures: true,
            sampling: Sampling::Infinite {
                seed: 0,
                advance: 0,
            },
        }
    }
}

/// One collated batch and where its samples came from.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Batch number on this rank (0, 1, …).
    pub number: u64,
    /// Crop-major collated crops and iBOT masks (spec §4.8).
    pub collated: Collated,
    /// Dataset index of each sample, in batch order.
    pub indices: Vec<usize>,
    /// Global sample number of each sample, in batch order.
    pub sample_ids: Vec<u64>,
}

/// Multi-threaded pre-training loader.
///
/// * `workers` threads load and augment samples (`PretrainSource::load` then
///   `PanopticonAugmentation::apply`, both with `AugRng::for_sample(seed, sample_id)`).
/// * Output order is the sampler's order whatever the thread timing, so the same settings
///   give the same batches bit for bit with 1 or 16 workers.
/// * At most `prefetch` samples are in flight ([`OrderedPool`]).
/// * **Bad data**: a sample whose files are missing, corrupt or inconsistent is skipped — the
///   batch is filled with the next sample —, counted ([`Self::failures`]) and, if
///   `log_failures`, printed to stderr. Beyond `max_failures` the loader returns
///   [`LoaderError::TooManyFailures`] listing every failed sample and its files. A panicking
///   worker is a bug and ends iteration with [`LoaderError::WorkerPanic`]. Nothing hangs.
/// * Dropping the loader stops and joins the workers (each finishes its current sample).
pub struct PretrainLoader {
    pool: OrderedPool<Task, Result<AugmentedSample, DatasetError>>,
    config: LoaderConfig,
    mask_config: IbotMaskConfig,
    mask_generator: MaskingGenerator,
    failures: Vec<SampleFailure>,
    batches: u64,
    finished: bool,
}

impl PretrainLoader {
    /// Starts the workers. `mask_generator` must match the global crop grid
    /// (`MaskingGenerator::for_grid(224 / 14)` for the stage-2 settings).
    pub fn new<S: PretrainSource + 'static>(
        source: S,
        augmentation: PanopticonAugmentation,
        config: LoaderConfig,
        mask_config: IbotMaskConfig,
        mask_generator: MaskingGenerator,
    ) -> Result<Self, LoaderError> {
        if config.batch_size == 0 {
            return Err(LoaderError::Config("batch_size must be at least 1".into()));
        }
        mask_config
            .validate()
            .map_err(|e| LoaderError::Config(e.to_string()))?;
        let n = source.len();
        let tasks: Box<dyn Iterator<Item = Task> + Send> = match config.sampling {
            Sampling::Infinite { seed, advance } => {
                let mut s = InfiniteSampler::new(n, seed, config.rank, config.world)?;
                s.advance(advance);
                Box::new(s)
            }
            Sampling::Sequential => Box::new(SequentialSampler::new(n, config.rank, config.world)?),
        };
        let seed = config.seed;
        let pool = OrderedPool::new(tasks, config.workers, config.prefetch, move |task: Task| {
            let mut rng = AugRng::for_sample(seed, task.sample_id);
            let views = source.load(task.index, &mut rng)?;
            augmentation
                .apply(&views, &mut rng)
                .map_err(|e| DatasetError::Augment {
                    path: source.path_of(task.index).unwrap_or_default(),
                    source: e,
                })
        })?;
        Ok(Self {
            pool,
            config,
            mask_config,
            mask_generator,
            failures: Vec::new(),
            batches: 0,
            finished: false,
        })
    }

    /// Numbers the next batch `number` instead of 0 (resume: batch `b`'s iBOT masks are
    /// seeded by `b`, so a resumed loader continues the uninterrupted mask stream). Combine
    /// with `Sampling::Infinite { advance, .. }` set to the tasks consumed before.
    pub fn with_first_batch_number(mut self, number: u64) -> Self {
        self.batches = number;
        self
    }

    /// Samples skipped so far because they failed to load.
    pub fn failures(&self) -> &[SampleFailure] {
        &self.failures
    }

    /// Largest number of samples in flight seen so far (at most `prefetch`).
    pub fn peak_in_flight(&self) -> usize {
        self.pool.peak_in_flight()
    }

    /// The settings.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// The next batch; `Ok(None)` at the end of a sequential pass. After an error the loader
    /// is finished and returns `Ok(None)`.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, LoaderError> {
        if self.finished {
            return Ok(None);
        }
        let out = self.assemble();
        if out.as_ref().map_or(true, |b| b.is_none()) {
            self.finished = true;
        }
        out
    }

    fn assemble(&mut self) -> Result<Option<Batch>, LoaderError> {
        let b = self.config.batch_size;
        let (mut samples, mut indices, mut sample_ids) = (
            Vec::with_capacity(b),
            Vec::with_capacity(b),
            Vec::with_capacity(b),
        );
        while samples.len() < b {
            let Some(next) = self.pool.next_result() else {
                break;
            };
            let (task, result) = next?;
            match result {
                Ok(Ok(sample)) => {
                    samples.push(sample);
                    indices.push(task.index);
                    sample_ids.push(task.sample_id);
                }
                Ok(Err(error)) => self.record_failure(task, error)?,
                Err(message) => {
                    return Err(LoaderError::WorkerPanic {
                        index: task.index,
                        sample_id: task.sample_id,
                        message,
                    });
                }
            }
        }
        if samples.is_empty() {
            return Ok(None);
        }
        let number = self.batches;
        self.batches += 1;
        let mut rng = AugRng::for_sample(self.config.seed.wrapping_add(MASK_SEED_SALT), number);
        let collated = collate(&samples, &self.mask_config, &self.mask_generator, &mut rng)?;
        Ok(Some(Batch {
            number,
            collated,
            indices,
            sample_ids,
        }))
    }

    fn record_failure(&mut self, task: Task, error: DatasetError) -> Result<(), LoaderError> {
        let failure = SampleFailure {
            index: task.index,
            sample_id: task.sample_id,
            error,
        };
        if self.config.log_failures {
            eprintln!(
                "panopticon-data: skipping {failure} ({} of at most {} failures)",
                self.failures.len() + 1,
                self.config.max_failures
            );
        }
        self.failures.push(failure);
        if self.failures.len() > self.config.max_failures {
            return Err(LoaderError::TooManyFailures {
                max: self.config.max_failures,
                failures: std::mem::take(&mut self.failures),
            });
        }
        Ok(())
    }
}

impl Iterator for PretrainLoader {
    type Item = Result<Batch, LoaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
