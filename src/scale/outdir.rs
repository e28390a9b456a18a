//! The output directory of a batch run: one file per item, `{id}.{ext}`, each written through
//! a temp file and a rename (`.{id}.{ext}.{pid}-{n}.partial`), so an item is finished exactly
//! when its file exists, and a run killed mid-write leaves only a temp file to delete. A Zarr
//! item is a directory (a store), built under the same temp name and renamed the same way. An
//! item's sidecars (`{id}.tif.pca.safetensors`) are written before its file, with temp names
//! of their own (`.{id}.{ext}.{suffix}.{pid}-{n}.partial`).

use std::path::{Path, PathBuf};

use crate::embed::output::SIDECAR_SUFFIXES;

/// An output directory that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// The path exists and is not a directory.
    #[error("--out {0}: exists and is not a directory")]
    NotADirectory(PathBuf),
    /// It cannot be created.
    #[error("--out {path}: cannot create the directory: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Files cannot be created in it.
    #[error("--out {path}: directory is not writable: {source}")]
    NotWritable {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It cannot be listed.
    #[error("--out {path}: cannot list the directory: {source}")]
    List {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where an item stands in the output directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemState {
    /// Its output file exists: skipped by a rerun.
    Done,
    /// No output, but temp files of an interrupted write: deleted and redone.
    Partial,
    /// Nothing yet.
    Todo,
}

/// The output directory and the extension of its item files.
#[derive(Clone, Debug)]
pub struct OutputDir {
    /// The directory.
    pub path: PathBuf,
    /// Item file extension, without the dot (`parquet`, `safetensors`, `npy`, `tif`, `zarr`).
    pub ext: &'static str,
}

/// Items of this extension are directories (Zarr stores), not files.
fn is_store(ext: &str) -> bool {
    ext == "zarr"
}

impl OutputDir {
    /// Uses `path` (creating it and its parents if missing) after checking it is a writable
    /// directory.
    pub fn create(path: &Path, ext: &'static str) -> Result<Self, OutDirError> {
        if path.exists() && !path.is_dir() {
            return Err(OutDirError::NotADirectory(path.into()));
        }
        std::fs::create_dir_all(path).map_err(|source| OutDirError::Create {
            path: path.into(),
            source,
        })?;
        let probe = path.join(format!(".panopticon-write-test.{}", std::process::id()));
        std::fs::File::create(&probe).map_err(|source| OutDirError::NotWritable {
            path: path.into(),
            source,
        })?;
        let _ = std::fs::remove_file(probe);
        Ok(OutputDir {
            path: path.into(),
            ext,
        })
    }

    /// Opens an existing directory without writing to it (`--dry-run`; a missing directory
    /// simply has nothing done yet).
    pub fn inspect(path: &Path, ext: &'static str) -> Result<Self, OutDirError> {
        if path.exists() && !path.is_dir() {
            return Err(OutDirError::NotADirectory(path.into()));
        }
        Ok(OutputDir {
            path: path.into(),
            ext,
        })
    }

    /// `DIR/{id}.{ext}`.
    pub fn item_path(&self, id: &str) -> PathBuf {
        self.path.join(format!("{id}.{}", self.ext))
    }

    /// Temp files left by interrupted writes of this item.
    pub fn partials(&self, id: &str) -> Result<Vec<PathBuf>, OutDirError> {
        let prefix = format!(".{id}.{}.", self.ext);
        let entries = match std::fs::read_dir(&self.path) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(OutDirError::List {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".partial"))
                    .is_some_and(|rest| {
                        let sidecar = SIDECAR_SUFFIXES
                            .iter()
                            .find_map(|s| rest.strip_prefix(s).and_then(|r| r.strip_prefix('.')));
                        is_temp_suffix(sidecar.unwrap_or(rest))
                    })
            })
            .map(|n| self.path.join(n))
            .collect())
    }

    /// Done, partial or to do.
    pub fn state(&self, id: &str) -> Result<ItemState, OutDirError> {
        let target = self.item_path(id);
        let done = match is_store(self.ext) {
            true => target.is_dir(),
            false => target.is_file(),
        };
        if done {
            return Ok(ItemState::Done);
        }
        Ok(match self.partials(id)?.is_empty() {
            true => ItemState::Todo,
            false => ItemState::Partial,
        })
    }

    /// Deletes the temp files of this item's interrupted writes. Only the worker that owns
    /// the item (its shard) calls this, so no live write is touched.
    pub fn clean_partials(&self, id: &str) -> Result<usize, OutDirError> {
        let stale = self.partials(id)?;
        for p in &stale {
            let _ = match p.is_dir() {
                true => std::fs::remove_dir_all(p),
                false => std::fs::remove_file(p),
            };
        }
        Ok(stale.len())
    }

    /// The item files of this extension, sorted by name (what `collect` gathers).
    pub fn item_files(&self) -> Result<Vec<PathBuf>, OutDirError> {
        let list = |source| OutDirError::List {
            path: self.path.clone(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .map_err(list)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().and_then(|e| e.to_str()) == Some(self.ext)
                    && !p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

/// What `panopticon_atomic::temp_path` puts between `.{name}.` and `.partial`: `{pid}-{n}`
/// (or `{pid}` alone, as older versions named their temp files).
fn is_temp_suffix(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('-') {
        Some((pid, n)) => digits(pid) && digits(n),
        None => digits(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_partial_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path(), "parquet").unwrap();
        assert_eq!(out.state("a").unwrap(), ItemState::Todo);
        // The writer's temp name, and an older version's.
        let tmp = panopticon_atomic::temp_path(&out.item_path("a"));
        std::fs::write(&tmp, b"half").unwrap();
        std::fs::write(dir.path().join(".a.parquet.4242.partial"), b"half").unwrap();
        // Another item's temp file and look-alikes are not this item's.
        std::fs::write(dir.path().join(".ab.parquet.4242-0.partial"), b"x").unwrap();
        std::fs::write(dir.path().join(".a.parquet.x.partial"), b"x").unwrap();
        std::fs::write(dir.path().join(".a.parquet.1-.partial"), b"x").unwrap();
        std::fs::write(
            dir.path().join(".a.parquet.other.safetensors.1-0.partial"),
            b"x",
        )
        .unwrap();
        // A sidecar's temp file (the PCA basis of a .tif) is the item's too.
        std::fs::write(
            dir.path().join(".a.parquet.pca.safetensors.7-3.partial"),
            b"x",
        )
        .unwrap();
        assert_eq!(out.state("a").unwrap(), ItemState::Partial);
        assert_eq!(out.clean_partials("a").unwrap(), 3);
        assert_eq!(out.state("a").unwrap(), ItemState::Todo);
        std::fs::write(out.item_path("a"), b"done").unwrap();
        assert_eq!(out.state("a").unwrap(), ItemState::Done);
        assert_eq!(out.item_files().unwrap(), [out.item_path("a")]);
    }

    #[test]
    fn zarr_items_are_directories() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputDir::create(dir.path(), "zarr").unwrap();
        // A store built halfway: a temp directory with chunks in it.
        let tmp = dir.path().join(".a.zarr.77.partial");
        std::fs::create_dir_all(tmp.join("features/c")).unwrap();
        std::fs::write(tmp.join("zarr.json"), b"{}").unwrap();
        assert_eq!(out.state("a").unwrap(), ItemState::Partial);
        assert_eq!(out.clean_partials("a").unwrap(), 1);
        assert!(!tmp.exists());
        assert_eq!(out.state("a").unwrap(), ItemState::Todo);
        std::fs::create_dir(out.item_path("a")).unwrap();
        assert_eq!(out.state("a").unwrap(), ItemState::Done);
    }

    #[test]
    fn a_file_is_not_an_output_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        assert!(matches!(
            OutputDir::create(&file, "npy"),
            Err(OutDirError::NotADirectory(_))
        ));
    }
}
