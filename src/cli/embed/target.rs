//! Where the items of a batch run go: a local directory, or an `s3://bucket/prefix`. For S3,
//! each finished item is written to a local staging directory (atomically, as locally), then
//! uploaded with one PUT (atomic on S3) and deleted; an item is done when its object exists
//! (one LIST of the prefix when the run starts); the failure log is uploaded next to the items
//! as `failures.{time}.{pid}.jsonl`, one per run, so concurrent workers never overwrite one
//! another's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use panopticon::data::readers::{ObjectPrefix, RemoteOptions};
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

    /// Finishes item `id` once written: uploads and deletes the staged copy.
    pub fn commit(&self, id: &str) -> anyhow::Result<()> {
        let Target::Remote(r) = self else {
            return Ok(());
        };
        let staged = self.write_path(id);
        let name = format!("{id}.{}", r.ext);
        let put = r.prefix.put_file(&name, &staged);
        let _ = std::fs::remove_file(&staged);
        put.map_err(|e| anyhow::anyhow!("upload failed: {e}"))
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
