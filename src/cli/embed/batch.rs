//! `panopticon embed --manifest FILE --out DIR [--shard K/N]`: one output file per manifest
//! item, skipping items already done, logging failed ones, with per-item progress. With
//! `--pca K`, every item is projected onto one basis for the whole run (see `pca_basis`).
//!
//! Exit status: 0 when every selected item is done (now or before), 3 when the run finished
//! but some items failed (listed in `DIR/failures.jsonl`), 1 on an error that stops the run
//! (bad manifest, `--shard`, `--out`, weights), 2 on command-line syntax (clap).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{ArgMatches, Args, FromArgMatches, Subcommand, ValueEnum};
use panopticon::data::Raster;
use panopticon::embed::{Embedded, Norm};
use panopticon::scale::{
    Failure, Item, ItemSource, ItemState, Manifest, Progress, Shard, utc_timestamp,
};

use panopticon::embed::output::{OutputFormat, OutputReport, PcaChoice};

use super::pca_basis;
use super::target::Target;
use super::{EmbedArgs, channel_ids, embed_file, load_model, write_results};
use crate::cli::scene_bands::{ItemPlanner, embed_stacked};
use panopticon::device::parse_device;

/// `panopticon embed …` or `panopticon embed collect …`: the subcommand, when given,
/// lifts the requirements of `embed` itself (clap's derive cannot express this for a struct
/// with required fields, hence the hand-written impls).
#[derive(Debug)]
pub enum EmbedCommand {
    /// `embed INPUTS… -o FILE` or `embed --manifest FILE --out DIR`.
    Embed(Box<EmbedArgs>),
    /// `embed collect DIR -o FILE`.
    Collect(super::collect::CollectArgs),
}

#[derive(Subcommand, Debug)]
enum EmbedSub {
    /// Gather the per-item .parquet files of a `--manifest` run's output (a directory or an
    /// s3:// prefix) into one GeoParquet file, or with `--partition crs` into a dataset of one
    /// file per CRS (row groups copied as they are; GeoParquet `geo` bboxes merged).
    Collect(super::collect::CollectArgs),
}

impl FromArgMatches for EmbedCommand {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut m.clone())
    }

    fn from_arg_matches_mut(m: &mut ArgMatches) -> Result<Self, clap::Error> {
        if m.subcommand_name().is_some() {
            let EmbedSub::Collect(args) = EmbedSub::from_arg_matches_mut(m)?;
            return Ok(EmbedCommand::Collect(args));
        }
        Ok(EmbedCommand::Embed(Box::new(
            EmbedArgs::from_arg_matches_mut(m)?,
        )))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Args for EmbedCommand {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        EmbedSub::augment_subcommands(EmbedArgs::augment_args(cmd))
            .args_conflicts_with_subcommands(true)
            .subcommand_negates_reqs(true)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Runs `embed` or `embed collect`.
pub fn run(cmd: EmbedCommand) -> anyhow::Result<()> {
    match cmd {
        EmbedCommand::Collect(args) => super::collect::run(args),
        EmbedCommand::Embed(args) if args.batch.manifest.is_some() => run_manifest(*args),
        EmbedCommand::Embed(args) => super::run(*args),
    }
}

/// The batch-run options of `embed`.
#[derive(Args, Debug)]
#[command(next_help_heading = "Batch runs")]
pub struct BatchArgs {
    /// A manifest instead of input arguments: a text file of image paths or URLs, one per line
    /// (`#` comments; relative paths are relative to the manifest's folder), whose item ids are
    /// the file names without extension, or given per line as `ID<TAB>PATH_OR_URL` (files
    /// that share a name in different folders); or a STAC ItemCollection (.json) or stac-geoparquet
    /// file (.parquet), whose item ids are the STAC ids and whose items are embedded as
    /// `embed ITEM.json` does (--assets, --resolution apply; relative hrefs resolve against the
    /// manifest). Ids must be unique; each names its output `--out DIR/{id}.{format}`; a rerun
    /// skips items whose output exists.
    #[arg(long, conflicts_with = "inputs")]
    pub manifest: Option<PathBuf>,
    /// Run only shard K of N (K is 0-based: 0/N … N-1/N): the items whose id hashes to K
    /// (FNV-1a 64 of the id's UTF-8 bytes, mod N), the same share on every rerun. In a
    /// Kubernetes Indexed Job: --shard $JOB_COMPLETION_INDEX/N; in a SLURM array
    /// (--array=0-N-1): --shard $SLURM_ARRAY_TASK_ID/N.
    #[arg(long, value_name = "K/N", requires = "manifest")]
    pub shard: Option<String>,
    /// Run only these item ids of the manifest (comma-separated; how the Ray driver hands out
    /// work, and a way to retry the ids of failures.jsonl).
    #[arg(
        long,
        value_delimiter = ',',
        requires = "manifest",
        conflicts_with = "shard"
    )]
    pub items: Option<Vec<String>>,
    /// Format of each item's output file in --out (with --manifest).
    #[arg(long, value_enum, requires = "manifest")]
    pub format: Option<ItemFormat>,
    /// Print what this shard would do (each item as `done`, `partial` or `todo`, tab-separated
    /// with its id and input) and stop, without loading weights or writing anything.
    #[arg(long, requires = "manifest")]
    pub dry_run: bool,
    /// With --pca K: fit the run's basis on this many items of the whole manifest (the first
    /// in stable-hash order, whatever --shard; at most 16384 patch vectors in all), which
    /// every shard embeds once more for it; unused when OUT/pca_basis.safetensors exists.
    #[arg(long, value_name = "N", default_value_t = 8, requires = "manifest")]
    pub pca_sample: usize,
}

/// Output format of the items of a batch run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ItemFormat {
    /// One row per tile (as `-o x.parquet`); `embed collect` gathers them.
    Parquet,
    /// cls, tiles (and dense/layers tensors) as `-o x.safetensors`.
    Safetensors,
    /// cls `[N, D]` as `-o x.npy`.
    Npy,
    /// The dense patch-feature map as a GeoTIFF, as `-o x.tif`.
    Tif,
    /// The dense patch-feature map as a Zarr v3 store (a directory), as `-o x.zarr`.
    Zarr,
}

impl ItemFormat {
    fn ext(self) -> &'static str {
        match self {
            ItemFormat::Parquet => "parquet",
            ItemFormat::Safetensors => "safetensors",
            ItemFormat::Npy => "npy",
            ItemFormat::Tif => "tif",
            ItemFormat::Zarr => "zarr",
        }
    }

    fn format(self) -> OutputFormat {
        match self {
            ItemFormat::Parquet => OutputFormat::Parquet,
            ItemFormat::Safetensors => OutputFormat::Safetensors,
            ItemFormat::Npy => OutputFormat::Npy,
            ItemFormat::Tif => OutputFormat::Tiff,
            ItemFormat::Zarr => OutputFormat::Zarr,
        }
    }
}

/// The run finished, but some items failed: exit status 3.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} items failed; reasons in {}", log.display())]
pub struct ItemsFailed {
    failed: usize,
    total: usize,
    log: PathBuf,
}

/// Image extensions a manifest entry may have (what `embed` reads).
const IMAGE_EXTENSIONS: [&str; 5] = ["tif", "tiff", "png", "jpg", "jpeg"];

fn run_manifest(mut args: EmbedArgs) -> anyhow::Result<()> {
    args.scene.check()?;
    let batch = &args.batch;
    let manifest_path = batch.manifest.clone().context("--manifest missing")?;
    let shard: Shard = match &batch.shard {
        Some(spec) => spec.parse()?,
        None => Shard::ALL,
    };
    let item_format = batch.format.unwrap_or(ItemFormat::Parquet);
    let format = item_format.format();
    if !args.layers.is_empty() && format != OutputFormat::Safetensors {
        bail!("--layers writes `layers.{{i}}.cls` tensors: use --format safetensors");
    }
    if !args.per_band.band_files.is_empty() {
        bail!("--band KEY=PATH describes one scene; a manifest lists the scenes of a batch run");
    }
    let dense = args.dense || matches!(format, OutputFormat::Tiff | OutputFormat::Zarr);
    let pca = pca_basis::request(args.pca, args.pca_basis.as_deref())?;
    if let Some(k) = pca.as_ref().map(PcaChoice::k) {
        if !dense {
            bail!(
                "--pca reduces dense feature maps: use --format tif or zarr, or --format \
                 safetensors with --dense"
            );
        }
        if k == 0 {
            bail!("--pca 0: the number of components must be at least 1");
        }
        if batch.pca_sample == 0 {
            bail!("--pca-sample 0: the basis needs at least one item to be fitted on");
        }
    }
    let manifest = Manifest::read(&manifest_path)?;
    let items = manifest.select(shard, batch.items.as_deref())?;
    check_formats(&manifest, &items)?;
    manifest.check_inputs(&items)?;
    // A copy: `write_item` takes the arguments mutably while items are embedded.
    let scene = args.scene.clone();
    let sc = &scene;
    let norm = Norm::parse(&sc.norm)?;
    // STAC items say what their bands are (with --assets/--wavelengths); image files need
    // --sensor/--bands or --wavelengths.
    let (planner, ids) = match manifest.is_stac() {
        true => (Some(ItemPlanner::new(&args.per_band, sc)?), Vec::new()),
        false => {
            let pb = &args.per_band;
            if pb.assets.is_some() || pb.resolution.is_some() || pb.alternate.is_some() {
                bail!(
                    "--assets, --alternate and --resolution apply to STAC manifests (.json, \
                     .parquet) only"
                );
            }
            (None, channel_ids(sc)?)
        }
    };

    let dry_run = batch.dry_run;
    let out = Target::open(
        &args.output,
        item_format.ext(),
        dry_run,
        &sc.remote_options(),
    )?;
    let states: Vec<ItemState> = items
        .iter()
        .map(|it| out.state(&it.id))
        .collect::<anyhow::Result<_>>()?;
    let count = |s: ItemState| states.iter().filter(|&&x| x == s).count();
    let (done, partial) = (count(ItemState::Done), count(ItemState::Partial));
    eprintln!(
        "shard {shard} of {}: {} of {} items; {done} already done, {} to do ({partial} with \
         temp files of an interrupted write)",
        manifest.path.display(),
        items.len(),
        manifest.items.len(),
        items.len() - done,
    );
    if dry_run {
        for (item, state) in items.iter().zip(&states) {
            let state = match state {
                ItemState::Done => "done",
                ItemState::Partial => "partial",
                ItemState::Todo => "todo",
            };
            println!("{state}\t{}\t{}", item.id, item.input());
        }
        return Ok(());
    }

    let todo: Vec<&Item> = (items.iter().zip(&states))
        .filter(|(_, s)| **s != ItemState::Done)
        .map(|(it, _)| *it)
        .collect();
    for item in &todo {
        out.clean_partials(&item.id)?;
    }
    let mut progress = Progress::new(todo.len(), done);
    if todo.is_empty() {
        eprintln!("{}", progress.summary(items.len()));
        return Ok(());
    }

    let device = parse_device(&sc.device)?;
    let mut model = load_model(&sc.weights, &sc.config, &device)?;
    sc.prepare_model(&mut model)?;
    let dim = model.config().embed_dim;
    pca_basis::check_dim(pca.as_ref(), dim)?;
    if let Some(k) = pca.as_ref().map(PcaChoice::k).filter(|&k| k > dim) {
        bail!(
            "--pca {k}: the number of components must be between 1 and the model's dimension \
             D = {dim}"
        );
    }
    let opts = sc.embed_options(dense, args.layers.clone());
    let quiet = sc.quiet;
    let patch = model.config().patch_size;
    let resolution = args.per_band.resolution;
    // One item's input path (as outputs name it) and embeddings.
    let embed_item = |item: &Item, at: (usize, usize)| -> anyhow::Result<(PathBuf, _)> {
        match (&item.source, &planner) {
            // As `embed ITEM.json`: the item's assets stacked on one grid.
            (ItemSource::Stac(entry), Some(planner)) => {
                let scene = planner.scene(&entry.item, &entry.location)?;
                let r = embed_stacked(&scene, resolution, &model, &norm, &opts, sc, at)?;
                Ok((scene.label, r))
            }
            // `embed_file` reads local paths and URLs alike.
            (source, _) => {
                let path = match source {
                    ItemSource::Local(p) => p.clone(),
                    _ => PathBuf::from(item.input()),
                };
                let r = embed_file(&path, &model, &ids, &norm, &opts, sc, at)?;
                Ok((path, r))
            }
        }
    };
    let pca = match pca {
        Some(choice) => Some(PcaChoice::Basis(pca_basis::run_basis(
            choice,
            &out,
            &manifest.items,
            batch.pca_sample,
            dim,
            &mut |item, at| embed_item(item, at).map(|(_, (_, e))| e),
        )?)),
        None => None,
    };
    for (i, item) in todo.iter().enumerate() {
        let start = Instant::now();
        let target = out.write_path(&item.id);
        let embedded = embed_item(item, (i, todo.len()));
        let result = embedded.and_then(|(path, (raster, emb))| {
            let tiles = emb.tiles.len();
            let report = write_item(
                &mut args,
                format,
                &path,
                &target,
                (raster, emb),
                (patch, pca.as_ref()),
                &device,
            )?;
            out.commit(&item.id)?;
            Ok((tiles, report))
        });
        let line = match result {
            Ok((tiles, report)) => {
                let pca_error = report.pca.map(|(k, _, e)| (k, e));
                progress.record_storage(report.f16_error, pca_error);
                progress.item_done(&item.id, tiles, start.elapsed())
            }
            Err(err) => {
                let reason = crate::cli::one_line(&err);
                out.record_failure(&Failure {
                    id: item.id.clone(),
                    input: item.input(),
                    reason: reason.clone(),
                    time: utc_timestamp(),
                })
                .with_context(|| format!("recording the failure of {}", item.id))?;
                progress.item_failed(&item.id, &reason)
            }
        };
        if !quiet {
            eprintln!("{line}");
        }
    }
    eprintln!("{}", progress.summary(items.len()));
    if progress.tally.failed > 0 {
        return Err(ItemsFailed {
            failed: progress.tally.failed,
            total: todo.len(),
            log: out.failure_log(),
        }
        .into());
    }
    Ok(())
}

/// Writes one item's result to `target` through the same writer as `embed -o target`
/// (atomically: a temp file next to it, then a rename), with the run's PCA basis.
fn write_item(
    args: &mut EmbedArgs,
    format: OutputFormat,
    input: &Path,
    target: &Path,
    result: (Raster, Embedded),
    (patch, pca): (usize, Option<&PcaChoice>),
    device: &burn::prelude::Device,
) -> anyhow::Result<OutputReport> {
    args.inputs = vec![input.to_path_buf()];
    args.output = target.to_path_buf();
    write_results(args, format, &[result], patch, pca, device)
}

/// Refuses entries `embed` cannot read, before any weights are loaded.
fn check_formats(manifest: &Manifest, items: &[&Item]) -> anyhow::Result<()> {
    for item in items {
        let ext = match &item.source {
            ItemSource::Local(p) => p.extension().and_then(|e| e.to_str()),
            ItemSource::Url(_) | ItemSource::Stac(_) => continue,
        };
        let ext = ext.map(str::to_ascii_lowercase);
        if !ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str())) {
            bail!(
                "manifest {}, line {}: `{}` is not a GeoTIFF (.tif/.tiff), PNG or JPEG file",
                manifest.path.display(),
                item.line,
                item.input()
            );
        }
    }
    Ok(())
}
