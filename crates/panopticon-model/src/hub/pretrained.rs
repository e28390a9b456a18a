//! One-line pretrained models: download (once), convert to burnpack (once), load.

use std::fs;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use sha2::{Digest, Sha256};

use super::download::{fetch_source, sha256_file, write_atomic};
use super::options::HubOptions;
use super::registry::{PanopticonWeights, Source, WeightsEntry};
use crate::convert::{ConvertOptions, convert_checkpoint};
use crate::error::{HubError, Result};
use crate::load::LoadOptions;
use crate::vit::Panopticon;

/// Bumped when the layout of converted files changes, so stale cache entries are rebuilt.
const BURNPACK_LAYOUT: &str = "v1";

impl Panopticon {
    /// A pretrained model, downloaded and converted on first use; later calls load the cached
    /// burnpack without touching the network. Options come from the environment
    /// ([`HubOptions::from_env`]: `HF_HOME`, `HF_ENDPOINT`, `HF_HUB_OFFLINE`, `PANOPTICON_CACHE`).
    /// For inference, [`to_frozen`](Panopticon::to_frozen) it.
    pub fn pretrained(weights: PanopticonWeights, device: &Device) -> Result<Self> {
        Self::pretrained_with(&weights.entry(), &HubOptions::from_env(), device)
    }

    /// [`Panopticon::pretrained`] for any registry entry, with explicit options.
    pub fn pretrained_with(
        entry: &WeightsEntry,
        opts: &HubOptions,
        device: &Device,
    ) -> Result<Self> {
        let config = entry.config()?;
        let bpk = cached_burnpack(entry, opts, device)?;
        let mut model = config.init(device)?;
        model.load_weights(&bpk, &LoadOptions::default())?;
        Ok(model)
    }
}

/// The verified, converted burnpack of `entry` in `opts.cache_dir`, built on first use.
///
/// Each `.bpk` has a `.bpk.sha256` sidecar written after it; a file whose hash does not match
/// (a crash mid-write, disk corruption) is removed and rebuilt from the downloaded source.
pub fn cached_burnpack(
    entry: &WeightsEntry,
    opts: &HubOptions,
    device: &Device,
) -> Result<PathBuf> {
    let bpk = burnpack_path(entry, opts);
    if verify_burnpack(&bpk) {
        return Ok(bpk);
    }
    let sidecar = sidecar(&bpk);
    let _ = fs::remove_file(&bpk);
    let _ = fs::remove_file(&sidecar);
    let dir = opts.cache_dir.join("burnpack");
    fs::create_dir_all(&dir).map_err(|source| HubError::Cache {
        path: dir.clone(),
        source,
    })?;
    let src = fetch_source(&entry.name, &entry.source, opts)?;
    let opts = ConvertOptions {
        kind: entry.source_kind()?,
        ..Default::default()
    };
    convert_checkpoint(&entry.config()?, &src, &bpk, &opts, device)?;
    let sha = sha256_file(&bpk).map_err(|source| HubError::Cache {
        path: bpk.clone(),
        source,
    })?;
    write_atomic(&sidecar, format!("{sha}\n").as_bytes())?;
    Ok(bpk)
}

/// Where [`cached_burnpack`] keeps the converted file of `entry`.
pub fn burnpack_path(entry: &WeightsEntry, opts: &HubOptions) -> PathBuf {
    opts.cache_dir.join("burnpack").join(format!(
        "{}-{}-{BURNPACK_LAYOUT}.bpk",
        entry.name,
        source_key(&entry.source)
    ))
}

/// Whether `bpk` exists and matches the sha256 recorded next to it when it was written.
pub fn verify_burnpack(bpk: &Path) -> bool {
    let Ok(recorded) = fs::read_to_string(sidecar(bpk)) else {
        return false;
    };
    sha256_file(bpk).is_ok_and(|got| got == recorded.trim())
}

fn sidecar(bpk: &Path) -> PathBuf {
    bpk.with_extension("bpk.sha256")
}

/// Names the exact source bytes: the pinned sha256, else the revision or URL.
fn source_key(source: &Source) -> String {
    if let Some(sha) = source.sha256() {
        return sha[..16].to_ascii_lowercase();
    }
    match source {
        Source::Hf {
            hf_repo,
            revision,
            file,
            ..
        } => {
            let id = format!("{hf_repo}@{revision}/{file}");
            let h = Sha256::digest(id.as_bytes());
            h[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
        Source::Url { url, .. } => {
            let h = Sha256::digest(url.as_bytes());
            h[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}
