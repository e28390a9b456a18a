//! The weights registry (`weights/registry.toml`, compiled in).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::config::PanopticonConfig;
use crate::convert::SourceKind;
use crate::error::HubError;

const BUILTIN: &str = include_str!("../../../../weights/registry.toml");

/// The weights this crate knows by name (see `weights/registry.toml` for provenance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanopticonWeights {
    /// The released Panopticon ViT-B/14 teacher (`lewaldm/panopticon`, CC-BY-4.0).
    VitB14,
    /// Stock DINOv2 ViT-S/14.
    Dinov2VitS14,
    /// Stock DINOv2 ViT-B/14 (Panopticon's stage-1 initialisation).
    Dinov2VitB14,
    /// Stock DINOv2 ViT-L/14.
    Dinov2VitL14,
    /// Stock DINOv2 ViT-g/14.
    Dinov2VitG14,
}

impl PanopticonWeights {
    /// The registry name.
    pub fn name(self) -> &'static str {
        match self {
            Self::VitB14 => "panopticon-vitb14",
            Self::Dinov2VitS14 => "dinov2-vits14",
            Self::Dinov2VitB14 => "dinov2-vitb14",
            Self::Dinov2VitL14 => "dinov2-vitl14",
            Self::Dinov2VitG14 => "dinov2-vitg14",
        }
    }

    /// Its registry entry.
    pub fn entry(self) -> WeightsEntry {
        Registry::builtin()
            .get(self.name())
            .expect("every PanopticonWeights variant is in weights/registry.toml (tested)")
            .clone()
    }
}

/// Where a weights file lives.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged, deny_unknown_fields)]
pub enum Source {
    /// A file of a Hugging Face repository, pinned to a revision (commit).
    Hf {
        /// `owner/name`.
        hf_repo: String,
        /// Commit hash (or branch; pin a commit for reproducibility).
        revision: String,
        /// File in the repository.
        file: String,
        /// Expected sha256 (hex), if known.
        sha256: Option<String>,
        /// Expected size in bytes, if known.
        size: Option<u64>,
    },
    /// A plain HTTP(S) URL.
    Url {
        /// The URL.
        url: String,
        /// Expected sha256 (hex), if known.
        sha256: Option<String>,
        /// Expected size in bytes, if known.
        size: Option<u64>,
    },
}

impl Source {
    /// The expected sha256, if the registry pins one.
    pub fn sha256(&self) -> Option<&str> {
        match self {
            Self::Hf { sha256, .. } | Self::Url { sha256, .. } => sha256.as_deref(),
        }
    }

    /// File name of the download.
    pub fn file_name(&self) -> &str {
        match self {
            Self::Hf { file, .. } => file.rsplit('/').next().unwrap_or(file),
            Self::Url { url, .. } => url_file_name(url),
        }
    }

    /// `repo@revision/file` or the URL.
    pub fn describe(&self) -> String {
        match self {
            Self::Hf {
                hf_repo,
                revision,
                file,
                ..
            } => format!("{hf_repo}@{}/{file}", &revision[..revision.len().min(12)]),
            Self::Url { url, .. } => url.clone(),
        }
    }
}

/// One known weights file, with provenance.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsEntry {
    /// What users type.
    pub name: String,
    /// Other accepted names.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One line.
    pub description: String,
    /// Model preset name (or a config JSON path relative to the working directory).
    pub preset: String,
    /// Checkpoint layout: `teacher`, `train-checkpoint`, `teacher-snapshot`, `dinov2`.
    pub kind: String,
    /// License of the weights.
    pub license: String,
    /// The paper.
    #[serde(default)]
    pub paper: Option<String>,
    /// Where to get it.
    pub source: Source,
    /// Published numbers (`dataset → score`).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Where the numbers come from and what they measure.
    #[serde(default)]
    pub metrics_source: Option<String>,
}

impl WeightsEntry {
    /// The model config of these weights.
    pub fn config(&self) -> crate::Result<PanopticonConfig> {
        match PanopticonConfig::preset(&self.preset) {
            Some(c) => Ok(c),
            None => PanopticonConfig::from_file(&self.preset),
        }
    }

    /// The checkpoint layout.
    pub fn source_kind(&self) -> Result<SourceKind, HubError> {
        SourceKind::parse(&self.kind).ok_or_else(|| HubError::Registry {
            path: self.name.clone(),
            reason: format!("unknown kind `{}`", self.kind),
        })
    }
}

/// A list of [`WeightsEntry`].
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// The entries, in file order.
    pub weights: Vec<WeightsEntry>,
}

impl Registry {
    /// The registry compiled into the library.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN, "<builtin>").expect("weights/registry.toml parses (tested)")
    }

    /// Reads a registry file (same format as `weights/registry.toml`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, HubError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| HubError::Registry {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks a registry document.
    pub fn parse(text: &str, origin: &str) -> Result<Self, HubError> {
        let bad = |reason: String| HubError::Registry {
            path: origin.into(),
            reason,
        };
        let reg: Self = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for e in &reg.weights {
            for n in std::iter::once(&e.name).chain(&e.aliases) {
                if !seen.insert(n.clone()) {
                    return Err(bad(format!("name `{n}` is used twice")));
                }
            }
            if let Some(h) = e.source.sha256()
                && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(bad(format!("{}: sha256 must be 64 hex digits", e.name)));
            }
            e.source_kind()?;
            check_paths(e).map_err(|r| bad(format!("{}: {r}", e.name)))?;
        }
        Ok(reg)
    }

    /// The entry named (or aliased) `name`.
    pub fn get(&self, name: &str) -> Result<&WeightsEntry, HubError> {
        self.weights
            .iter()
            .find(|e| e.name == name || e.aliases.iter().any(|a| a == name))
            .ok_or_else(|| HubError::Unknown {
                name: name.into(),
                known: self
                    .weights
                    .iter()
                    .flat_map(|e| std::iter::once(e.name.clone()).chain(e.aliases.clone()))
                    .collect(),
            })
    }
}

/// The last path segment of a URL without query or fragment, when it is a safe file name
/// (else `download`): a registry URL must not steer the cache path (`..`, separators).
pub(crate) fn url_file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/')
        .next()
        .filter(|n| is_safe_component(n))
        .unwrap_or("download")
}

/// A file-name component that cannot leave its directory: non-empty, not `.`/`..`, not
/// hidden, only ASCII letters, digits, `.`, `_`, `-`, `+`, `@`, and at most 200 bytes.
pub(crate) fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+@".contains(&b))
}

/// Names, repositories and files of an entry end up in cache paths: refuse any that could
/// point outside the cache.
fn check_paths(e: &WeightsEntry) -> Result<(), String> {
    for n in std::iter::once(&e.name).chain(&e.aliases) {
        if !is_safe_component(n) {
            return Err(format!(
                "name `{n}` must be a plain file name (letters, digits, `._-+@`, not starting \
                 with `.`)"
            ));
        }
    }
    match &e.source {
        Source::Hf {
            hf_repo,
            revision,
            file,
            ..
        } => {
            let parts: Vec<&str> = hf_repo.split('/').collect();
            if parts.len() != 2 || !parts.iter().all(|p| is_safe_component(p)) {
                return Err(format!("hf_repo `{hf_repo}` must be `owner/name`"));
            }
            if !is_safe_component(revision) {
                return Err(format!(
                    "revision `{revision}` must be a commit or branch name"
                ));
            }
            if file.split('/').any(|p| !is_safe_component(p)) {
                return Err(format!(
                    "file `{file}` must be a relative path of plain names (no `..`, no leading `/`)"
                ));
            }
        }
        Source::Url { url, .. } => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(format!("url `{url}` must be http(s)"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_has_every_variant_with_a_valid_config() {
        for w in [
            PanopticonWeights::VitB14,
            PanopticonWeights::Dinov2VitS14,
            PanopticonWeights::Dinov2VitB14,
            PanopticonWeights::Dinov2VitL14,
            PanopticonWeights::Dinov2VitG14,
        ] {
            let e = w.entry();
            e.config().unwrap().validate().unwrap();
            e.source_kind().unwrap();
        }
        let e = Registry::builtin().get("vitb14").unwrap().clone();
        assert_eq!(e.name, "panopticon-vitb14");
        assert!(matches!(
            e.source,
            Source::Hf { ref revision, .. } if revision == "c8c2bb9555819e8b2bcedf5b3b00e3bf531554e7"
        ));
        assert_eq!(e.license, "CC-BY-4.0");
    }

    #[test]
    fn bad_registries_are_rejected_with_a_reason() {
        let err = Registry::parse("[[weights]]\nname = 1", "x.toml").unwrap_err();
        assert!(err.to_string().contains("x.toml"), "{err}");
        let dup = r#"
[[weights]]
name = "a"
description = ""
preset = "tiny"
kind = "teacher"
license = "x"
source = { url = "http://h/a.pth", sha256 = "00" }
"#;
        let err = Registry::parse(dup, "y.toml").unwrap_err();
        assert!(err.to_string().contains("64 hex"), "{err}");
        assert!(matches!(
            Registry::builtin().get("nope"),
            Err(HubError::Unknown { .. })
        ));
    }

    #[test]
    fn names_and_files_cannot_leave_the_cache() {
        let entry = |name: &str, source: &str| {
            format!(
                "[[weights]]\nname = \"{name}\"\ndescription = \"d\"\nlicense = \"l\"\n\
                 preset = \"tiny-test\"\nkind = \"teacher\"\nsource = {source}\n"
            )
        };
        let url = "{ url = \"https://example.org/w.pth\" }";
        for (name, source, needle) in [
            ("../evil", url, "name `../evil`"),
            ("a/b", url, "name `a/b`"),
            (".hidden", url, "name `.hidden`"),
            (
                "ok",
                "{ hf_repo = \"a/../b\", revision = \"main\", file = \"w.pth\" }",
                "hf_repo",
            ),
            (
                "ok",
                "{ hf_repo = \"a/b\", revision = \"main\", file = \"../../w.pth\" }",
                "file `../../w.pth`",
            ),
            ("ok", "{ url = \"file:///etc/passwd\" }", "must be http(s)"),
        ] {
            let err = Registry::parse(&entry(name, source), "x.toml").unwrap_err();
            assert!(err.to_string().contains(needle), "{name}: {err}");
        }
        assert_eq!(url_file_name("https://h/x/w.pth?token=1"), "w.pth");
        assert_eq!(url_file_name("https://h/x/.."), "download");
        assert_eq!(url_file_name("https://h/x/..%2f"), "download");
        assert_eq!(url_file_name("https://h/"), "download");
    }
}
