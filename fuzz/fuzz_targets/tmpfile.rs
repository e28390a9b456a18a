//! The Parquet and HDF5 readers only open paths: each fuzz process writes the input to one
//! scratch file of its own (under `$TMPDIR`, named by pid) and reuses it for every input.

use std::path::PathBuf;

/// Writes `data` to this process's scratch file with extension `ext` and returns its path.
pub fn write(data: &[u8], ext: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("panopticon-fuzz-{}.{ext}", std::process::id()));
    std::fs::write(&path, data).expect("write the fuzz input to a scratch file");
    path
}
