//! The list of inputs of a batch run, and the stable id each item's output is named after.
//!
//! A manifest is, by its extension:
//! - a text file: one input per line (a local path, absolute or relative to the manifest's
//!   folder, or a URL), blank lines and `#` comments ignored; the id is the file name without
//!   its extension, or given explicitly as `ID<TAB>PATH_OR_URL` (for catalogues whose files
//!   share names in different folders: `…/B04.tif`, `scene/…/image.tif`);
//! - `.json`/`.geojson`: a STAC ItemCollection (or one Item); the id is the item id;
//! - `.parquet`/`.geoparquet`: stac-geoparquet, one item per row; the id is the item id.
//!
//! STAC asset hrefs that are relative resolve against the manifest's location. Everything
//! downstream sees only [`Item`]s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::stac::{StacError, StacItem, parse_items};

use super::Shard;

/// A manifest that cannot be used; each names the file and, where there is one, the line.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest itself cannot be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line that gives no usable item id.
    #[error("manifest {path}, line {line}: `{entry}` {reason}")]
    BadEntry {
        /// The manifest.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// The line, trimmed.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two lines give the same item id (so the same output file).
    #[error(
        "manifest {path}: lines {first} and {second} both give item id `{id}` (an id names the \
         output file: it is the file name without its extension, unless the line gives one as \
         `ID<TAB>PATH`; give the lines distinct ids)"
    )]
    DuplicateId {
        /// The manifest.
        path: PathBuf,
        /// The item id.
        id: String,
        /// 1-based line of the first.
        first: usize,
        /// 1-based line of the second.
        second: usize,
    },
    /// The manifest lists no inputs.
    #[error(
        "manifest {0}: no inputs (a text manifest lists one path or URL per line; `#` starts a \
         comment)"
    )]
    Empty(PathBuf),
    /// A `.json` manifest that is not a STAC ItemCollection (the error names the file).
    #[error("manifest: {0}")]
    Stac(#[from] StacError),
    /// A `.parquet` manifest that cannot be read as stac-geoparquet.
    #[error("manifest {path}: cannot read it as stac-geoparquet: {message}")]
    Parquet {
        /// The manifest.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A STAC item whose id cannot name an output file.
    #[error("manifest {path}, item {index}: id `{id}` {reason}")]
    BadItemId {
        /// The manifest.
        path: PathBuf,
        /// 1-based position of the item.
        index: usize,
        /// The id.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two STAC items with one id.
    #[error(
        "manifest {path}: items {first} and {second} both have id `{id}` (an item id names its \
         output file, so ids must be unique)"
    )]
    DuplicateItemId {
        /// The manifest.
        path: PathBuf,
        /// The item id.
        id: String,
        /// 1-based position of the first.
        first: usize,
        /// 1-based position of the second.
        second: usize,
    },
    /// `--items` names an id the manifest does not have.
    #[error("--items {id}: no such item in manifest {path}")]
    UnknownId {
        /// The manifest.
        path: PathBuf,
        /// As given.
        id: String,
    },
    /// A local input of the selected items is missing or unreadable.
    #[error("manifest {path}, line {line}: cannot read `{input}`: {source}")]
    Missing {
        /// The manifest.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// The resolved input path.
        input: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An input this build cannot read.
    #[error("manifest {path}, line {line}: `{input}`: {reason}")]
    Unsupported {
        /// The manifest.
        path: PathBuf,
        /// 1-based.
        line: usize,
        /// As written.
        input: String,
        /// Why.
        reason: &'static str,
    },
}

/// Where an item's data comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemSource {
    /// A local file (relative entries resolved against the manifest's folder).
    Local(PathBuf),
    /// A URL (`scheme://…`), as written.
    Url(String),
    /// An item of a STAC ItemCollection or stac-geoparquet manifest: its bands are its assets.
    Stac(StacEntry),
}

/// A parsed STAC item and the manifest it came from (its relative hrefs resolve against it).
#[derive(Clone, Debug)]
pub struct StacEntry {
    /// The item.
    pub item: Arc<StacItem>,
    /// The manifest's location (absolute path).
    pub location: String,
}

/// Ids are unique within a manifest: an entry is its id.
impl PartialEq for StacEntry {
    fn eq(&self, other: &Self) -> bool {
        self.location == other.location && self.item.id == other.item.id
    }
}

impl Eq for StacEntry {}

/// One input of a batch run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The stable id: the entry's explicit id (`ID<TAB>PATH`), else its file name without its
    /// extension (`a/b/T32TQM.tif` → `T32TQM`), or the STAC item id; names the output file
    /// and decides the shard.
    pub id: String,
    /// Where the data is.
    pub source: ItemSource,
    /// 1-based line in a text manifest; 1-based position of a STAC item.
    pub line: usize,
}

impl Item {
    /// The input as a display string (resolved path or URL).
    pub fn input(&self) -> String {
        match &self.source {
            ItemSource::Local(p) => p.display().to_string(),
            ItemSource::Url(u) => u.clone(),
            ItemSource::Stac(s) => format!("{}#{}", s.location, s.item.id),
        }
    }
}

/// The inputs of a batch run, in manifest order, with unique ids.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The manifest file.
    pub path: PathBuf,
    /// Its items.
    pub items: Vec<Item>,
}

impl Manifest {
    /// Reads a manifest: a STAC ItemCollection (`.json`, `.geojson`), stac-geoparquet
    /// (`.parquet`, `.geoparquet`), or else a text manifest (UTF-8, one `PATH_OR_URL` or
    /// `ID<TAB>PATH_OR_URL` per line, `#` comments).
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let read_err = |source| ManifestError::Read {
            path: path.into(),
            source,
        };
        // Relative entries and hrefs name files next to the manifest, wherever the run starts.
        let absolute = std::path::absolute(path).map_err(read_err)?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let location = absolute.to_string_lossy().into_owned();
        match ext.as_deref() {
            Some("json" | "geojson") => {
                let text = std::fs::read_to_string(path).map_err(read_err)?;
                Self::from_stac(path, &location, parse_items(&text, &location)?)
            }
            Some("parquet" | "geoparquet") => {
                if let Err(source) = std::fs::metadata(path) {
                    return Err(read_err(source));
                }
                let parquet = |message| ManifestError::Parquet {
                    path: path.into(),
                    message,
                };
                let mut items = Vec::new();
                for fc in super::stac_geoparquet::feature_collections(path).map_err(parquet)? {
                    items.extend(parse_items(&fc, &location)?);
                }
                Self::from_stac(path, &location, items)
            }
            _ => {
                let text = std::fs::read_to_string(path).map_err(read_err)?;
                let base = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
                Self::parse(path, &text, &base)
            }
        }
    }

    /// The items of a STAC manifest read from `location`, in order, keyed by item id.
    pub fn from_stac(
        path: &Path,
        location: &str,
        stac: Vec<StacItem>,
    ) -> Result<Self, ManifestError> {
        let mut items = Vec::with_capacity(stac.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, item) in stac.into_iter().enumerate() {
            let index = i + 1;
            let id = item.id.clone();
            if let Err(reason) = check_id(&id) {
                return Err(ManifestError::BadItemId {
                    path: path.into(),
                    index,
                    id,
                    reason,
                });
            }
            if let Some(&first) = seen.get(&id) {
                return Err(ManifestError::DuplicateItemId {
                    path: path.into(),
                    id,
                    first,
                    second: index,
                });
            }
            seen.insert(id.clone(), index);
            let source = ItemSource::Stac(StacEntry {
                item: Arc::new(item),
                location: location.to_string(),
            });
            items.push(Item {
                id,
                source,
                line: index,
            });
        }
        if items.is_empty() {
            return Err(ManifestError::Empty(path.into()));
        }
        Ok(Manifest {
            path: path.into(),
            items,
        })
    }

    /// Whether the items are STAC items (a manifest is all STAC or none).
    pub fn is_stac(&self) -> bool {
        self.items
            .first()
            .is_some_and(|it| matches!(it.source, ItemSource::Stac(_)))
    }

    /// Parses manifest text; relative local entries are joined to `base`.
    pub fn parse(path: &Path, text: &str, base: &Path) -> Result<Self, ManifestError> {
        let mut items = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let entry = strip_comment(raw).trim();
            if entry.is_empty() {
                continue;
            }
            let bad = |reason: &str| ManifestError::BadEntry {
                path: path.into(),
                line,
                entry: entry.to_string(),
                reason: reason.to_string(),
            };
            let (id, entry) = match entry.split_once('\t') {
                Some((id, input)) => {
                    explicit_entry(id.trim(), input.trim()).map_err(|e| bad(&e))?
                }
                None => (item_id(entry).map_err(bad)?, entry),
            };
            if let Some(&first) = seen.get(&id) {
                return Err(ManifestError::DuplicateId {
                    path: path.into(),
                    id,
                    first,
                    second: line,
                });
            }
            seen.insert(id.clone(), line);
            let source = if entry.contains("://") {
                ItemSource::Url(entry.to_string())
            } else {
                ItemSource::Local(base.join(entry))
            };
            items.push(Item { id, source, line });
        }
        if items.is_empty() {
            return Err(ManifestError::Empty(path.into()));
        }
        Ok(Manifest {
            path: path.into(),
            items,
        })
    }

    /// The items of `shard`, in manifest order; with `only`, just the items with those ids
    /// (each must exist).
    pub fn select(
        &self,
        shard: Shard,
        only: Option<&[String]>,
    ) -> Result<Vec<&Item>, ManifestError> {
        let Some(ids) = only else {
            return Ok(self
                .items
                .iter()
                .filter(|it| shard.contains(&it.id))
                .collect());
        };
        let by_id: HashMap<&str, &Item> =
            self.items.iter().map(|it| (it.id.as_str(), it)).collect();
        let mut wanted: Vec<&Item> = Vec::with_capacity(ids.len());
        for id in ids {
            let item = by_id
                .get(id.as_str())
                .ok_or_else(|| ManifestError::UnknownId {
                    path: self.path.clone(),
                    id: id.clone(),
                })?;
            if shard.contains(&item.id) && !wanted.iter().any(|w| w.id == item.id) {
                wanted.push(item);
            }
        }
        wanted.sort_by_key(|it| it.line);
        Ok(wanted)
    }

    /// Fails on the first of `items` whose input this build cannot read: a missing local
    /// file, or a URL (remote inputs are not wired into batch runs yet).
    pub fn check_inputs(&self, items: &[&Item]) -> Result<(), ManifestError> {
        for item in items {
            match &item.source {
                ItemSource::Local(p) => {
                    std::fs::metadata(p).map_err(|source| ManifestError::Missing {
                        path: self.path.clone(),
                        line: item.line,
                        input: p.clone(),
                        source,
                    })?;
                }
                // Probed when read: a missing URL or asset becomes that item's failure.
                ItemSource::Url(_) | ItemSource::Stac(_) => {}
            }
        }
        Ok(())
    }
}

/// The line without its comment: `#` at the start or after whitespace (a `#` inside a URL
/// or file name stays).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let at = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    at.map_or(line, |i| &line[..i])
}

/// An `ID<TAB>PATH_OR_URL` line's id and input, both trimmed.
fn explicit_entry<'a>(id: &str, input: &'a str) -> Result<(String, &'a str), String> {
    check_id(id).map_err(|why| format!("gives item id `{id}`, which {why}"))?;
    if input.is_empty() || input.contains('\t') {
        return Err("needs one path or URL after its id and tab (`ID<TAB>PATH_OR_URL`)".into());
    }
    Ok((id.to_string(), input))
}

/// The id of a manifest entry: its last path segment (query and fragment of a URL dropped)
/// without the final extension, as Python's `os.path.splitext(basename)[0]`.
fn item_id(entry: &str) -> Result<String, &'static str> {
    let path = match entry.split_once("://") {
        Some((_, rest)) => rest.split(['?', '#']).next().unwrap_or(rest),
        None => entry,
    };
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    check_id(stem).map_err(|_| {
        "gives no usable item id (the file name must not be empty, start with `.` or have \
         control characters)"
    })?;
    Ok(stem.to_string())
}

/// An id names a file in the output directory: not empty or hidden, no folders, no control
/// characters.
fn check_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.starts_with('.') {
        return Err("cannot name an output file (empty, or starts with `.`)");
    }
    if id.contains(['/', '\\']) || id.chars().any(char::is_control) {
        return Err("cannot name an output file (has `/`, `\\` or control characters)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_file_stems() {
        assert_eq!(item_id("a/b/T32TQM.tif").unwrap(), "T32TQM");
        assert_eq!(item_id("scene.v2.tif").unwrap(), "scene.v2");
        assert_eq!(item_id("noext").unwrap(), "noext");
        assert_eq!(item_id("https://h/x/S2A_1.tif?sig=abc").unwrap(), "S2A_1");
        assert!(item_id("dir/.hidden").is_err());
    }

    #[test]
    fn parses_comments_blank_lines_and_relative_paths() {
        let m = Manifest::parse(
            Path::new("m.txt"),
            "# scenes\n\n a.tif  # first\n/abs/b.tif\ns3://bucket/c.tif\n",
            Path::new("/base"),
        )
        .unwrap();
        let got: Vec<_> = m.items.iter().map(|i| (i.id.as_str(), i.line)).collect();
        assert_eq!(got, [("a", 3), ("b", 4), ("c", 5)]);
        assert_eq!(m.items[0].source, ItemSource::Local("/base/a.tif".into()));
        assert_eq!(m.items[1].source, ItemSource::Local("/abs/b.tif".into()));
        assert_eq!(
            m.items[2].source,
            ItemSource::Url("s3://bucket/c.tif".into())
        );
    }

    #[test]
    fn explicit_ids_tell_same_named_files_apart() {
        let text = "# id<TAB>path\nT32TLS_B04\tT32TLS/B04.tif\nT32TMS_B04\tT32TMS/B04.tif  # 2nd\n\
                    s3\ts3://bucket/scene/image.tif\nplain/c.tif\n";
        let m = Manifest::parse(Path::new("m.txt"), text, Path::new("/base")).unwrap();
        let got: Vec<_> = m.items.iter().map(|i| (i.id.as_str(), i.line)).collect();
        assert_eq!(
            got,
            [("T32TLS_B04", 2), ("T32TMS_B04", 3), ("s3", 4), ("c", 5)]
        );
        assert_eq!(
            m.items[1].source,
            ItemSource::Local("/base/T32TMS/B04.tif".into())
        );
        assert_eq!(
            m.items[2].source,
            ItemSource::Url("s3://bucket/scene/image.tif".into())
        );
        // Without ids the two B04.tif collide.
        let err = Manifest::parse(
            Path::new("m.txt"),
            "T32TLS/B04.tif\nT32TMS/B04.tif\n",
            Path::new("/"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ID<TAB>PATH"), "{err}");
    }

    #[test]
    fn explicit_ids_are_checked() {
        let parse = |text: &str| Manifest::parse(Path::new("m.txt"), text, Path::new("/"));
        // An explicit id equal to another line's id (explicit or from its file name).
        for text in [
            "a\tx/1.tif\nb\ty.tif\na\tz/1.tif\n",
            "x/a.tif\n\n a \tother.tif\n",
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                matches!(&err, ManifestError::DuplicateId { id, first: 1, second: 3, .. } if id == "a"),
                "{err}"
            );
        }
        for (text, needle) in [
            (".hid\tx.tif", "starts with `.`"),
            ("a/b\tx.tif", "has `/`"),
            ("a\tx.tif\ty.tif", "one path or URL"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                matches!(&err, ManifestError::BadEntry { line: 1, .. }),
                "{text:?}: {err}"
            );
            assert!(err.to_string().contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn duplicate_ids_name_both_lines() {
        let err =
            Manifest::parse(Path::new("m.txt"), "x/a.tif\ny/a.png\n", Path::new("/")).unwrap_err();
        assert!(
            matches!(&err, ManifestError::DuplicateId { id, first: 1, second: 2, .. } if id == "a"),
            "{err}"
        );
    }
}
