//! Evaluation task configs (spec §6.6, as TOML) and the driver that runs one task end to
//! end: open the splits, extract (cached) features, run kNN or the linear-probe grid.
//!
//! ```toml
//! type = "knn"                 # or "linear"
//! batch_size = 64
//! # n_last_blocks = 1          # blocks extracted (knn: 1, linear: max of n_last_blocks_list)
//!
//! [dataset]
//! id = "eurosat-sar"           # or "resisc45", "benv2_webdataset", "benv2", "corine",
//!                              # "geobench.m-eurosat", ... (see DATASET_IDS)
//! root = "$RDIR/datasets/eurosat_SAR"   # relative paths: from the config file's folder
//! train = "small_train"
//! # val = "val"
//! test = "test"
//! # num_classes = 10           # default: the dataset's class count
//! # bands = "s2"               # benv2_webdataset: "s1", "s2" or "all"
//! # train_subset = 0.1         # benv2_webdataset: fraction of the training shards;
//!                              # geobench.*: fraction of the training samples
//!
//! [transform]                  # applied in this order (spec §4.10)
//! resize = 224                 # or [h, w]
//! # center_crop = 224
//! # chn_select = [1, 0]
//!
//! [knn]
//! ks = [20]
//! # temperature = 0.07
//! # metrics = ["acc_top-1_micro", "acc_top-1_macro"]
//! # k_selection = "best_on_test"   # or "validation" (needs dataset.val)
//! ```
//!
//! Multilabel datasets (BigEarthNet v2, Corine, GeoBench m-bigearthnet) make multilabel tasks: the kNN variant
//! of spec §6.3 and probes with the multilabel soft-margin loss and the 17-rate grid
//! (`base_lrs` default adds 1.0); their metrics are `MulLabAvergPrec_{micro|macro}` and
//! `MulLabF1ScoreMacro_{micro|macro}` (default AP micro, AP macro).
//!
//! Linear tasks have a `[linear]` table instead: `epochs` (required), `n_last_blocks_list`
//! (`[1, 4]`), `poolings` (`["avgpool", "cls"]`; also `DOFA_globalpool`, `DOFA_no_globalpool`), `base_lrs` (the 16-value grid), `metrics`
//! (top-1 micro, top-1 macro, top-5 micro), `sampler_seed`, `init_seed` (0). Unknown keys
//! are errors.

mod config;
mod dataset_table;
mod discover;
mod knn_table;
mod linear_table;
mod metric_keys;
mod prepared;
mod schema;
mod summary;
mod transform_table;

pub use config::{TaskConfig, TaskKind};
pub use discover::discover_tasks;
pub use metric_keys::parse_metric;
pub use prepared::PreparedTask;
pub use summary::{read_results_json, write_summary};
