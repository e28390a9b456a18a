//! `panopticon embed collect DIR -o index.parquet` (or `-o index/ --partition crs`): the
//! per-item tables of a batch run as one GeoParquet file, or one per CRS.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use panopticon::data::readers::{ObjectPrefix, RemoteOptions};
use panopticon::scale::{
    Failure, FailureLog, OutputDir, check_dataset_target, collect_partitioned, concat_parquet,
};

/// Arguments of `embed collect`.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The --out of an `embed --manifest … --format parquet` run: a directory, or an
    /// s3://BUCKET/PREFIX (listed once; its .parquet objects are downloaded, one GET each, into
    /// a temp folder next to -o, and deleted after; AWS settings as for `embed`).
    dir: PathBuf,
    /// The collected GeoParquet file (.parquet); with --partition, the dataset directory.
    #[arg(long, short)]
    output: PathBuf,
    /// Write a partitioned dataset instead of one file: -o DIR gets one GeoParquet file per
    /// CRS of the tiles' footprints, `DIR/crs=EPSG_32633/part-0.parquet` (Hive-style folders:
    /// pyarrow.dataset, DuckDB `read_parquet('DIR/*/*.parquet', hive_partitioning = true)` and
    /// Spark read it as one table with a `crs` column; each file has its own CRS and bbox).
    /// For runs across UTM zones, whose items one file cannot hold. The directory is written
    /// whole; an existing one is replaced only if it is such a dataset.
    #[arg(long, value_enum, value_name = "BY")]
    partition: Option<PartitionBy>,
}

/// How `embed collect --partition` splits the items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PartitionBy {
    /// One file per CRS (`crs=EPSG_32633`; `crs=unknown` for items without one).
    Crs,
}

pub fn run(args: CollectArgs) -> anyhow::Result<()> {
    let partitioned = args.partition.is_some();
    let local = !args.dir.to_string_lossy().contains("://");
    if partitioned {
        crate::cli::check_parent_writable(&args.output)?;
        if local && contains(&args.output, &args.dir) {
            bail!(
                "-o {}: the dataset directory would replace {}; choose a path outside it",
                args.output.display(),
                args.dir.display()
            );
        }
        // Before any download: a folder of other files is never replaced.
        check_dataset_target(&args.output)?;
    } else {
        if args.output.extension().and_then(|e| e.to_str()) != Some("parquet") {
            bail!(
                "-o {}: use a .parquet file name, or `-o DIR --partition crs` for a dataset \
                 with one file per CRS",
                args.output.display()
            );
        }
        crate::cli::check_writable(&args.output)?;
    }
    let source = Source::open(&args.dir, &args.output)?;
    // An index written into the directory itself is not one of its items.
    let files: Vec<PathBuf> = (source.files.iter())
        .filter(|f| !same_file(f, &args.output))
        .cloned()
        .collect();
    if files.is_empty() {
        bail!(
            "{}: no item .parquet files (was it the --out of `embed --manifest … --format parquet`?)",
            args.dir.display()
        );
    }
    match partitioned {
        false => {
            let c = concat_parquet(&files, &args.output)?;
            eprintln!(
                "wrote {} ({} rows from {} items)",
                args.output.display(),
                c.rows,
                c.files
            );
        }
        true => {
            let parts = collect_partitioned(&files, &args.output)?;
            for part in &parts {
                eprintln!(
                    "  {}: {} rows from {} items",
                    part.file, part.collected.rows, part.collected.files
                );
            }
            let rows: i64 = parts.iter().map(|p| p.collected.rows).sum();
            eprintln!(
                "wrote {} ({rows} rows from {} items in {} partition(s) by CRS)",
                args.output.display(),
                files.len(),
                parts.len()
            );
        }
    }
    let failed: BTreeSet<String> = (source.failures.into_iter())
        .map(|f| f.id)
        .filter(|id| !source.ids.contains(id))
        .collect();
    if !failed.is_empty() {
        eprintln!(
            "note: {} failed item(s) have no output and are not in the index (see {})",
            failed.len(),
            source.failure_logs
        );
    }
    Ok(())
}

/// The item files to collect (local, or downloaded into a staging folder), the ids that
/// have one, and the failures logged next to them.
struct Source {
    files: Vec<PathBuf>,
    ids: BTreeSet<String>,
    failures: Vec<Failure>,
    /// Where the failure logs are, for messages.
    failure_logs: String,
    /// Deleted when the collect ends.
    _staging: Option<Staging>,
}

impl Source {
    fn open(dir: &Path, output: &Path) -> anyhow::Result<Self> {
        let text = dir.to_string_lossy();
        if text.contains("://") {
            return Self::download(&text, output);
        }
        if !dir.is_dir() {
            bail!("{}: not a directory", dir.display());
        }
        let out = OutputDir::inspect(dir, "parquet")?;
        let files = out.item_files()?;
        let log = FailureLog::in_dir(dir);
        Ok(Source {
            ids: ids_of(&files),
            files,
            failures: log.read()?,
            failure_logs: log.path.display().to_string(),
            _staging: None,
        })
    }

    /// Lists the prefix once and downloads its item objects (and failure logs).
    fn download(url: &str, output: &Path) -> anyhow::Result<Self> {
        let prefix = ObjectPrefix::open(url, &RemoteOptions::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let names = prefix
            .names()
            .map_err(|e| anyhow::anyhow!("cannot list {e}"))?;
        let staging = Staging::new(output)?;
        let mut files = Vec::new();
        let mut failures = Vec::new();
        for name in &names {
            let item = name.ends_with(".parquet") && !name.starts_with('.');
            let log = name.starts_with("failures.") && name.ends_with(".jsonl");
            if !item && !log {
                continue;
            }
            let bytes = prefix
                .get_bytes(name)
                .map_err(|e| anyhow::anyhow!("download failed: {e}"))?;
            let local = staging.0.join(name);
            std::fs::write(&local, bytes)
                .with_context(|| format!("staging {} in {}", name, staging.0.display()))?;
            match item {
                true => files.push(local),
                false => failures.extend(
                    FailureLog { path: local }
                        .read()
                        .with_context(|| format!("reading {}", prefix.url_of(name)))?,
                ),
            }
        }
        Ok(Source {
            ids: ids_of(&files),
            files,
            failures,
            failure_logs: prefix.url_of("failures.*.jsonl"),
            _staging: Some(staging),
        })
    }
}

/// A hidden temp folder next to the output (on the disk that must hold the result anyway).
struct Staging(PathBuf);

impl Staging {
    fn new(output: &Path) -> anyhow::Result<Self> {
        let dir = panopticon_atomic::temp_path(output);
        std::fs::create_dir(&dir)
            .with_context(|| format!("creating the download folder {}", dir.display()))?;
        Ok(Staging(dir))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Item ids of item files (`{id}.parquet`).
fn ids_of(files: &[PathBuf]) -> BTreeSet<String> {
    (files.iter())
        .filter_map(|f| f.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether `inner` is `outer` or inside it (both as absolute paths, `outer` maybe missing).
fn contains(outer: &Path, inner: &Path) -> bool {
    let abs = |p: &Path| std::path::absolute(p).ok();
    let inner = inner.canonicalize().ok().or_else(|| abs(inner));
    let outer = outer.canonicalize().ok().or_else(|| abs(outer));
    match (outer, inner) {
        (Some(o), Some(i)) => i.starts_with(o),
        _ => false,
    }
}
