//! Where the items of a batch run go: a local directory, or an `s3://bucket/prefix`. For S3,
//! each finished item is written to a local staging directory (atomically, as locally), then
//! its files are uploaded with one PUT each (atomic on S3), its sidecars (a `.tif`'s PCA
//! basis) before the item's own file, and deleted; an item is done when its object exists
//! (one LIST of the prefix when the run starts); the failure log is uploaded next to the items
//! as `failures.{time}.{pid}.jsonl`, one per run, so concurrent workers never overwrite one
//! another's. Files the workers share (the run's PCA basis) sit next to the items.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use panopticon::data::readers::{ObjectPrefix, RemoteOptions};
use panopticon::embed::output::SIDECAR_SUFFIXES;
use panopticon::scale::{Failure, FailureLog, ItemState, OutputDir, utc_timestamp};

/// The output of a batch run.
pub(super) enum Target {
    /// `--out DIR`.
    Local(OutputDir),
    /// `--out s3://bucket/prefix`.
    Remote(Box<Remote>),
}

/// An S3 prefix and the local directory items are staged in before their upload.
pub(super) struct Remote {
    prefix: ObjectPrefix,
    ext: &'static str,
    /// Object names under the prefix when the run started.
    existing: BTreeSet<String>,
    /// `None` in a dry run.
    staging: Option<OutputDir>,
    /// This run's failure log, as uploaded.
    failures: String,
}

impl Target {
    /// Opens `--out`: checks (or, in a dry run, only inspects) a local directory, or lists an
    /// S3 prefix once.
    pub fn open(
        out: &Path,
        ext: &'static str,
        dry_run: bool,
        remote: &RemoteOptions,
    ) -> anyhow::Result<Self> {
        let text = out.to_string_lossy();
        if !text.contains("://") {
            return Ok(Target::Local(match dry_run {
                true => OutputDir::inspect(out, ext)?,
                false => OutputDir::create(out, ext)?,
            }));
        }
        if ext == "zarr" {
            anyhow::bail!(
                "--out {text}: a Zarr item is a directory of many objects, which one PUT cannot \
                 upload atomically; write Zarr items to a local --out, or choose another --format"
            );
        }
        let prefix = ObjectPrefix::open(&text, remote).map_err(|e| anyhow::anyhow!("--out {e}"))?;
        let existing = prefix
            .names()
            .map_err(|e| anyhow::anyhow!("--out: cannot list {e}"))?;
        let staging = match dry_run {
            true => None,
            false => {
                let dir =
                    std::env::temp_dir().join(format!("panopticon-upload-{}", std::process::id()));
                Some(OutputDir::create(&dir, ext).context("the local staging directory")?)
            }
        };
        let failures = format!(
            "failures.{}.{}.jsonl",
            utc_timestamp().replace(':', ""),
            std::process::id()
        );
        Ok(Target::Remote(Box::new(Remote {
            prefix,
            ext,
            existing,
            staging,
            failures,
        })))
    }

    /// Done, partial (temp files of an interrupted local write) or to do.
    pub fn state(&self, id: &str) -> anyhow::Result<ItemState> {
        Ok(match self {
            Target::Local(dir) => dir.state(id)?,
            // An S3 PUT leaves nothing half-written.
            Target::Remote(r) => match r.existing.contains(&format!("{id}.{}", r.ext)) {
                true => ItemState::Done,
                false => ItemState::Todo,
            },
        })
    }

    /// Deletes what an interrupted write of `id` left (local outputs only).
    pub fn clean_partials(&self, id: &str) -> anyhow::Result<()> {
        if let Target::Local(dir) = self {
            dir.clean_partials(id)?;
        }
        Ok(())
    }

    fn local(&self) -> &OutputDir {
        match self {
            Target::Local(dir) => dir,
            Target::Remote(r) => r.staging.as_ref().expect("a dry run writes nothing"),
        }
    }

    /// Where the writer puts item `id` (the output itself, or its staged copy).
    pub fn write_path(&self, id: &str) -> PathBuf {
        self.local().item_path(id)
    }

    /// Finishes item `id` once written: uploads its staged files, sidecars first (the item's
    /// own object marks it done), and deletes them.
    pub fn commit(&self, id: &str) -> anyhow::Result<()> {
        let Target::Remote(r) = self else {
            return Ok(());
        };
        let staged = self.write_path(id);
        let name = format!("{id}.{}", r.ext);
        let mut files: Vec<(String, PathBuf)> = (SIDECAR_SUFFIXES.iter())
            .map(|suffix| format!("{name}.{suffix}"))
            .map(|side| (side.clone(), staged.with_file_name(side)))
            .filter(|(_, path)| path.is_file())
            .collect();
        files.push((name, staged));
        let mut put = Ok(());
        for (name, path) in &files {
            if put.is_ok() {
                put = r.prefix.put_file(name, path);
            }
            let _ = std::fs::remove_file(path);
        }
        put.map_err(|e| anyhow::anyhow!("upload failed: {e}"))
    }

    /// The file `name` that the run's workers share (next to the items), if one of them, or
    /// an earlier run, put it there.
    pub fn read_shared(&self, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self {
            Target::Local(dir) => match std::fs::read(dir.path.join(name)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(anyhow::anyhow!("{}: {e}", self.shared_label(name))),
            },
            Target::Remote(r) if r.existing.contains(name) => {
                let bytes = r
                    .prefix
                    .get_bytes(name)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(Some(bytes))
            }
            Target::Remote(_) => Ok(None),
        }
    }

    /// Puts `bytes` as the shared file `name` unless a worker got there first, and returns
    /// what the file holds now: locally the first writer's bytes (an exclusive create); on S3
    /// this worker's (a PUT replaces, so workers must compute the same bytes).
    pub fn publish_shared(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
        let label = self.shared_label(name);
        match self {
            Target::Local(dir) => {
                let path = dir.path.join(name);
                panopticon::atomic_create_new(&path, &bytes)
                    .with_context(|| format!("writing {label}"))?;
                std::fs::read(&path).with_context(|| format!("reading {label}"))
            }
            Target::Remote(r) => {
                (r.prefix.put_bytes(name, bytes.clone())).map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(bytes)
            }
        }
    }

    /// The shared file `name` as a path or URL, for messages.
    pub fn shared_label(&self, name: &str) -> String {
        match self {
            Target::Local(dir) => dir.path.join(name).display().to_string(),
            Target::Remote(r) => r.prefix.url_of(name),
        }
    }

    /// Appends `failure` to the run's log (and uploads the log).
    pub fn record_failure(&self, failure: &Failure) -> anyhow::Result<()> {
        let log = FailureLog::in_dir(&self.local().path);
        log.append(failure)?;
        if let Target::Remote(r) = self {
            r.prefix
                .put_file(&r.failures, &log.path)
                .map_err(|e| anyhow::anyhow!("uploading the failure log: {e}"))?;
        }
        Ok(())
    }

    /// Where the failure log is, for messages.
    pub fn failure_log(&self) -> PathBuf {
        match self {
            Target::Local(dir) => FailureLog::in_dir(&dir.path).path,
            Target::Remote(r) => PathBuf::from(r.prefix.url_of(&r.failures)),
        }
    }
}

/// The staging directory goes with the run, however it ends.
impl Drop for Remote {
    fn drop(&mut self) {
        if let Some(staging) = &self.staging {
            let _ = std::fs::remove_dir_all(&staging.path);
        }
    }
}
