//! File writers the loader benchmark needs for layouts the crate only reads.

pub mod fmow_parquet;
pub mod h5;
