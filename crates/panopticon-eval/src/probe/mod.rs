//! Linear probes on frozen features (spec §6.4): a grid of `Linear(dim, classes)` heads over
//! (last n blocks × pooling × learning rate), trained together in one pass over cached
//! features with SGD (momentum 0.9) and a per-iteration cosine schedule, selected on
//! validation and tested with the validation-best head.
//!
//! Gradients are written out by hand (softmax cross-entropy and multilabel soft-margin have
//! closed-form logit gradients) and computed with Burn matmuls on the caller's device, so no
//! autodiff device is needed and every head in a (blocks, pooling) group shares one matmul.
//!
//! **Deviation**: upstream recomputes backbone features every iteration with the training
//! transform; here features are computed once (cached), so random train-time augmentation is
//! not applied. Validation runs once, after training (every task config's eval period is at
//! least its epoch count, except resisc45_lin, which has no test set); classifier checkpoints
//! and resuming are not implemented; one test split per run.

mod config;
mod features;
mod grid;
mod split;
mod train;

pub use config::{LR_GRID, ProbeConfig, ProbeHead};
pub use features::{Pooling, ProbeFeatures};
pub use grid::ProbeReport;
pub use split::ProbeSplit;
