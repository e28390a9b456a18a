//! Split files: one relative path per line.

use std::path::{Path, PathBuf};

use super::error::DatasetError;

/// Reads a split file (`splits/<task>/<split>.txt`): one path per line, relative to the
/// image directory.
///
/// Trailing whitespace (including `\r`) is trimmed and blank lines are skipped. Upstream
/// keeps blank lines (`str.splitlines`), which then point at the image directory itself and
/// fail on load; skipping them is a deliberate fix. A file without entries is
/// [`DatasetError::EmptySplit`].
pub fn read_split(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let entries: Vec<String> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if entries.is_empty() {
        return Err(DatasetError::EmptySplit {
            path: path.to_path_buf(),
        });
    }
    Ok(entries)
}

/// `dir/entry`, refusing absolute entries and `..` components (a split entry must stay
/// inside the dataset).
pub(crate) fn join_entry(
    dir: &Path,
    entry: &str,
    split: &Path,
    line: usize,
) -> Result<PathBuf, DatasetError> {
    let rel = Path::new(entry);
    let escapes = rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
    if escapes {
        return Err(DatasetError::Metadata {
            path: split.to_path_buf(),
            line,
            message: format!("entry `{entry}` must be a relative path inside the dataset"),
        });
    }
    Ok(dir.join(rel))
}
