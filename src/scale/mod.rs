//! Batch runs over a catalogue: a manifest of inputs, a deterministic share of it per worker
//! (`--shard K/N`), one output file per item in a directory (a rerun skips finished items),
//! a log of failed items, and collecting the per-item tables into one (or one per CRS).
//!
//! There is no scheduler here: Ray, a Kubernetes Indexed Job or a SLURM array starts the
//! workers, and the output directory is the only state they share (see `scale/README.md`).

mod collect;
mod failures;
mod manifest;
mod outdir;
mod partition;
mod progress;
mod shard;
mod stac_geoparquet;

pub use collect::{
    CollectError, Collected, Partition, check_dataset_target, collect_partitioned, concat_parquet,
};
pub use failures::{Failure, FailureLog, utc_timestamp};
pub use manifest::{Item, ItemSource, Manifest, ManifestError, StacEntry};
pub use outdir::{ItemState, OutDirError, OutputDir};
pub use progress::{Progress, StorageErrors, Tally};
pub use shard::{Shard, ShardError, fnv1a64};
