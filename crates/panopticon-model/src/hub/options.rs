//! Where weights come from and go to, from the environment like `huggingface_hub`.

use std::path::PathBuf;

/// Endpoints, caches and modes of the weight downloads.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// Hub base URL (`HF_ENDPOINT`, default `https://huggingface.co`).
    pub endpoint: String,
    /// Hugging Face home (`HF_HOME`, default `~/.cache/huggingface`); files go to `<it>/hub`.
    pub hf_home: PathBuf,
    /// Converted `.bpk` files and plain-URL downloads (`PANOPTICON_CACHE`, default
    /// `~/.cache/panopticon`).
    pub cache_dir: PathBuf,
    /// Never touch the network (`HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// Show progress bars on stderr.
    pub progress: bool,
    /// Resumed attempts after a connection is cut mid-download.
    pub retries: usize,
}

impl HubOptions {
    /// Reads `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_OFFLINE`, `PANOPTICON_CACHE` and
    /// `XDG_CACHE_HOME`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let cache_root = var("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
            var("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir)
                .join(".cache")
        });
        Self {
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| "https://huggingface.co".into())
                .trim_end_matches('/')
                .to_string(),
            hf_home: var("HF_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| cache_root.join("huggingface")),
            cache_dir: var("PANOPTICON_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| cache_root.join("panopticon")),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            }),
            progress: true,
            retries: 3,
        }
    }

    /// The hub cache (`<HF_HOME>/hub`).
    pub fn hub_cache(&self) -> PathBuf {
        self.hf_home.join("hub")
    }
}

impl Default for HubOptions {
    fn default() -> Self {
        Self::from_env()
    }
}
