//! Panopticon data: sensor registry, file readers, pre-training datasets, augmentations and
//! loaders. Training and evaluation read their data only through this crate (in progress).
