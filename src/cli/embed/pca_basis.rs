//! Where the PCA basis of `embed --pca` comes from: fitted on the scenes of the output being
//! written, given (`--pca-basis FILE`), or, in a batch run, fitted once for the whole run.
//!
//! A batch run's basis is fitted on a sample of the *manifest*, not of the shard: the first
//! `--pca-sample N` items in stable-hash order (FNV-1a 64 of the id, as `--shard` uses), at
//! most [`PCA_FIT_VECTORS`] patch vectors spread evenly over them. Every shard picks the same
//! items and the fit is deterministic, so shards that fit it independently get the same bits;
//! the first to finish stores it as `OUT/pca_basis.safetensors` (an exclusive create), and a
//! shard or rerun that finds it there uses it instead of fitting.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use panopticon::embed::Embedded;
use panopticon::embed::output::{PCA_FIT_VECTORS, PcaBasis, PcaChoice, PcaSample};
use panopticon::scale::{Item, fnv1a64};

use super::target::Target;

/// Embeds a manifest item (`(index, count)` label its progress).
pub(super) type EmbedItem<'a> = dyn FnMut(&Item, (usize, usize)) -> anyhow::Result<Embedded> + 'a;

/// The shared basis of a batch run, next to its items.
pub(super) const RUN_BASIS: &str = "pca_basis.safetensors";

/// `--pca K` / `--pca-basis FILE`, before any weights load: the basis file read, `K` checked.
pub(super) fn request(
    pca: Option<usize>,
    basis: Option<&Path>,
) -> anyhow::Result<Option<PcaChoice>> {
    Ok(match (pca, basis) {
        (k, Some(path)) => {
            let b = PcaBasis::read(path)?;
            if let Some(k) = k.filter(|&k| k != b.k()) {
                bail!(
                    "--pca {k}: --pca-basis {} has {} components (leave --pca out to use them)",
                    path.display(),
                    b.k()
                );
            }
            Some(PcaChoice::Basis(Arc::new(b)))
        }
        (Some(k), None) => Some(PcaChoice::Fit(k)),
        (None, None) => None,
    })
}

/// A given basis must be of the model's feature width.
pub(super) fn check_dim(pca: Option<&PcaChoice>, dim: usize) -> anyhow::Result<()> {
    if let Some(PcaChoice::Basis(b)) = pca
        && b.dim != dim
    {
        bail!(
            "--pca-basis: the basis is for D = {} features, this model's are D = {dim}",
            b.dim
        );
    }
    Ok(())
}

/// The manifest's items in stable-hash order (ties broken by id): the same list whatever the
/// shard, whose first items make the PCA sample.
pub(super) fn sample_order(items: &[Item]) -> Vec<&Item> {
    let mut order: Vec<&Item> = items.iter().collect();
    order.sort_by(|a, b| (fnv1a64(a.id.as_bytes()), &a.id).cmp(&(fnv1a64(b.id.as_bytes()), &b.id)));
    order
}

/// The basis every item of a batch run is projected with: `OUT/pca_basis.safetensors` when a
/// shard or an earlier run wrote it (or the `--pca-basis` file, which must then agree with
/// it), else fitted with `K = k` on the manifest's sample and stored there.
pub(super) fn run_basis(
    choice: PcaChoice,
    out: &Target,
    manifest: &[Item],
    sample_items: usize,
    dim: usize,
    embed: &mut EmbedItem<'_>,
) -> anyhow::Result<Arc<PcaBasis>> {
    let label = out.shared_label(RUN_BASIS);
    let stored = match out.read_shared(RUN_BASIS)? {
        Some(bytes) => Some(PcaBasis::from_bytes(&bytes, &label)?),
        None => None,
    };
    let stored_there = stored.is_some();
    let basis = match (choice, stored) {
        (PcaChoice::Basis(given), Some(stored)) if given.sha256() != stored.sha256() => bail!(
            "--pca-basis (sha256 {}) differs from the run's {label} (sha256 {}): the items \
             would mix bases; use another --out, or delete {label} and its items",
            given.sha256(),
            stored.sha256()
        ),
        (PcaChoice::Basis(given), _) => given,
        (PcaChoice::Fit(k), Some(stored)) if stored.k() != k || stored.dim != dim => bail!(
            "--pca {k}: the run's {label} has K = {}, D = {} (this model: D = {dim}); use \
             --pca {} or another --out",
            stored.k(),
            stored.dim,
            stored.k()
        ),
        (PcaChoice::Fit(_), Some(stored)) => {
            eprintln!("PCA: using the run's basis {label}");
            Arc::new(stored)
        }
        (PcaChoice::Fit(k), None) => Arc::new(fit(k, manifest, sample_items, dim, embed)?),
    };
    let basis = match stored_there {
        true => basis,
        // Stored unless there by now: a racing shard's (identical) basis may win the create.
        false => {
            let bytes = out.publish_shared(RUN_BASIS, basis.to_bytes())?;
            Arc::new(PcaBasis::from_bytes(&bytes, &label)?)
        }
    };
    eprintln!("PCA basis {label}: sha256 {}", basis.sha256());
    Ok(basis)
}

/// Fits `k` components on the dense maps of the manifest's first `n` embeddable items in
/// stable-hash order (an item that fails is passed over for the next; at most `2n` tried).
fn fit(
    k: usize,
    manifest: &[Item],
    n: usize,
    dim: usize,
    embed: &mut EmbedItem<'_>,
) -> anyhow::Result<PcaBasis> {
    let n = n.max(1);
    let quota = PCA_FIT_VECTORS / n;
    eprintln!(
        "PCA: fitting {k} components on {n} sample item(s) of the manifest (at most {quota} \
         patches each)"
    );
    let mut sample = PcaSample::new(dim);
    let mut used = 0;
    for item in sample_order(manifest).into_iter().take(2 * n) {
        if used == n {
            break;
        }
        match embed(item, (used, n)) {
            Ok(e) => match &e.dense {
                Some(map) => {
                    sample.add_map(map, quota);
                    used += 1;
                }
                None => bail!("internal: sample item {} has no dense map", item.id),
            },
            Err(err) => eprintln!(
                "PCA: sample item {} passed over: {}",
                item.id,
                crate::cli::one_line(&err)
            ),
        }
    }
    if used == 0 {
        bail!("--pca: none of the manifest's sample items could be embedded to fit the basis");
    }
    Ok(PcaBasis::fit_sample(sample, k)?)
}
