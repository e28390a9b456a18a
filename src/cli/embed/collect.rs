//! `panopticon embed collect DIR -o index.parquet`: the per-item tables of a batch run as one.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use panopticon::scale::{Collected, FailureLog, OutputDir, concat_parquet};

/// Arguments of `embed collect`.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The --out directory of an `embed --manifest … --format parquet` run.
    dir: PathBuf,
    /// The collected Parquet file.
    #[arg(long, short)]
    output: PathBuf,
}

pub fn run(args: CollectArgs) -> anyhow::Result<()> {
    if !args.dir.is_dir() {
        bail!("{}: not a directory", args.dir.display());
    }
    if args.output.extension().and_then(|e| e.to_str()) != Some("parquet") {
        bail!("-o {}: use a .parquet file name", args.output.display());
    }
    crate::cli::check_writable(&args.output)?;
    let dir = OutputDir::inspect(&args.dir, "parquet")?;
    // An index written into the directory itself is not one of its items.
    let files: Vec<PathBuf> = dir
        .item_files()?
        .into_iter()
        .filter(|f| !same_file(f, &args.output))
        .collect();
    if files.is_empty() {
        bail!(
            "{}: no item .parquet files (was it the --out of `embed --manifest … --format parquet`?)",
            args.dir.display()
        );
    }
    let collected = write_index(&files, &args.output)?;
    eprintln!(
        "wrote {} ({} rows from {} items)",
        args.output.display(),
        collected.rows,
        collected.files
    );
    let failed: Vec<String> = FailureLog::in_dir(&args.dir)
        .read()?
        .into_iter()
        .filter(|f| !dir.item_path(&f.id).is_file())
        .map(|f| f.id)
        .collect();
    if !failed.is_empty() {
        eprintln!(
            "note: {} failed item(s) have no output and are not in the index (see {})",
            failed.len(),
            FailureLog::in_dir(&args.dir).path.display()
        );
    }
    Ok(())
}

/// The one call that writes the index.
fn write_index(files: &[PathBuf], out: &Path) -> anyhow::Result<Collected> {
    Ok(concat_parquet(files, out)?)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
