//! Multi-threaded pre-training loader (spec §5.8): samplers, an ordered worker pool with
//! bounded prefetch, and [`PretrainLoader`] producing collated batches.
//!
//! Determinism: sample `i` of the sampler's stream is loaded and augmented with
//! `AugRng::for_sample(seed, i)` and batches come out in sampler order, so the output does
//! not depend on the number of workers or on thread timing.

mod error;
mod pool;
mod pretrain;
mod sampler;

pub use error::{LoaderError, SampleFailure};
pub use pool::{Delivered, OrderedPool};
pub use pretrain::{Batch, LoaderConfig, PretrainLoader, Sampling};
pub use sampler::{InfiniteSampler, SequentialSampler, Task, forward_fisher_yates};
