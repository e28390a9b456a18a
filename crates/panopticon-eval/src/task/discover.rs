//! Finding task configs: one `.toml` file, or every one under a folder.

use std::path::{Path, PathBuf};

use crate::error::{EvalError, Result};

/// Every task config under `path` (a `.toml` file, or a folder searched recursively), named
/// by their path relative to `path` without `.toml`, sorted by name.
pub fn discover_tasks(path: &Path) -> Result<Vec<(String, PathBuf)>> {
    let missing = |reason: &str| EvalError::Dataset {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if path.is_file() {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(stem, path.to_path_buf())]);
    }
    if !path.is_dir() {
        return Err(missing("no such task config file or folder"));
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| EvalError::Dataset {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "toml") {
                let rel = p.strip_prefix(path).unwrap_or(&p).with_extension("");
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((name, p));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(missing("folder holds no .toml task configs"));
    }
    Ok(out)
}
