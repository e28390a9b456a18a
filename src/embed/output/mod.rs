//! Writing embeddings: safetensors, NumPy, GeoParquet, GeoTIFF and Zarr, in float32 or
//! float16, dense maps optionally reduced by PCA. Used by `panopticon embed`.

mod geoparquet;
mod npy;
mod pca;
mod pca_file;
mod precision;
mod projjson;
mod tensors;
mod tiff;
mod zarr;

use std::path::{Path, PathBuf};

use burn::prelude::Device;

use super::Embedded;
pub use geoparquet::{
    GeoParquetError, GeoParquetWriter, TableInput, embedding_schema, encode_geoparquet,
    tile_footprint,
};
pub use npy::npy_header;
pub use pca::{PCA_FIT_VECTORS, PcaBasis, PcaError, PcaSample};
pub use precision::{Dtype, relative_rms_error};
pub use projjson::{projjson, projjson_codes};
pub use tiff::pca_sidecar;

/// What an output file of `{name}` may come with, as `{name}.{suffix}` (the PCA basis of a
/// `.tif`): batch runs treat an item's file and its sidecars as one unit.
pub const SIDECAR_SUFFIXES: [&str; 1] = [tiff::PCA_SIDECAR_SUFFIX];
pub use zarr::{ZarrError, ZarrFeatures, read_zarr_features, write_zarr};

/// The file formats `embed` writes, chosen by the output's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// `.safetensors`: cls, tiles, optional layers and dense maps.
    Safetensors,
    /// `.npy`: the `[N, D]` cls matrix.
    Npy,
    /// `.parquet`: GeoParquet 1.1, one row per tile.
    Parquet,
    /// `.tif`/`.tiff`: the dense map of one input, georeferenced.
    Tiff,
    /// `.zarr`: the dense map of one input as a Zarr v3 store (a directory).
    Zarr,
}

impl OutputFormat {
    /// The format an output path's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "safetensors" => Self::Safetensors,
            "npy" => Self::Npy,
            "parquet" | "geoparquet" => Self::Parquet,
            "tif" | "tiff" => Self::Tiff,
            "zarr" => Self::Zarr,
            _ => return None,
        })
    }

    /// Whether the format stores dense patch-feature maps (the ones `--pca` reduces).
    pub fn holds_dense(self) -> bool {
        matches!(self, Self::Safetensors | Self::Tiff | Self::Zarr)
    }

    /// Whether the format holds the dense map of exactly one input.
    pub fn single_input(self) -> bool {
        matches!(self, Self::Tiff | Self::Zarr)
    }
}

/// One embedded input scene with the georeferencing of its pixel grid.
pub struct SceneEmbedding<'a> {
    /// The input file as given.
    pub path: &'a Path,
    /// GDAL geotransform of the scene's pixels, if georeferenced.
    pub geotransform: Option<[f64; 6]>,
    /// EPSG code of the scene's CRS, if known.
    pub epsg: Option<u32>,
    /// What `embed` computed.
    pub embedded: &'a Embedded,
}

/// Where the PCA basis of an output comes from.
#[derive(Debug, Clone)]
pub enum PcaChoice {
    /// Fit this many components on the patch features of the scenes being written.
    Fit(usize),
    /// Project onto this basis (a batch run's, or `--pca-basis FILE`).
    Basis(std::sync::Arc<PcaBasis>),
}

impl PcaChoice {
    /// The number of components `K`.
    pub fn k(&self) -> usize {
        match self {
            Self::Fit(k) => *k,
            Self::Basis(b) => b.k(),
        }
    }
}

/// How to write.
pub struct OutputOptions {
    /// Element type of the stored embeddings.
    pub dtype: Dtype,
    /// Reduce dense maps to principal components.
    pub pca: Option<PcaChoice>,
    /// Model patch size in pixels (the dense grid's cell side).
    pub patch_size: usize,
    /// Key-value provenance (weights, config) stored in the file where the format allows.
    pub meta: Vec<(String, String)>,
}

/// What writing cost in accuracy: relative RMS errors of the stored values against the
/// float32 embeddings (`‖x̂ − x‖ / ‖x‖` over every finite value).
#[derive(Debug, Clone, Default)]
pub struct OutputReport {
    /// Of storing as float16 (cls and, without PCA, dense maps).
    pub f16_error: Option<f64>,
    /// `(K, fraction of variance kept, relative RMS error)` of the PCA-reduced dense maps,
    /// float16 rounding of the components included.
    pub pca: Option<(usize, f64, f64)>,
    /// The sha256 of the PCA basis used (see [`PcaBasis::sha256`]).
    pub pca_basis: Option<String>,
}

/// Errors of [`write_output`].
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output cannot be created or written.
    #[error("cannot write `{}`: {source}", path.display())]
    Io {
        /// The target.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The request does not fit the format or the data.
    #[error("{0}")]
    Invalid(String),
    /// GeoParquet encoding.
    #[error(transparent)]
    GeoParquet(#[from] GeoParquetError),
    /// Zarr encoding.
    #[error(transparent)]
    Zarr(#[from] ZarrError),
    /// PCA fitting.
    #[error(transparent)]
    Pca(#[from] PcaError),
    /// Safetensors encoding.
    #[error(transparent)]
    Safetensors(#[from] crate::tensor_io::TensorIoError),
    /// GeoTIFF encoding.
    #[error(transparent)]
    Tiff(#[from] panopticon_data::writers::WriteError),
}

/// Checks a format/options combination before any work is done.
pub fn check_options(
    format: OutputFormat,
    inputs: usize,
    dense: bool,
    pca: Option<usize>,
    dim: usize,
) -> Result<(), OutputError> {
    let invalid = |m: String| Err(OutputError::Invalid(m));
    if format.single_input() && inputs != 1 {
        return invalid(format!(
            "a .tif or .zarr output holds the dense map of one input; got {inputs} inputs"
        ));
    }
    if let Some(k) = pca {
        if !format.holds_dense() || (format == OutputFormat::Safetensors && !dense) {
            return invalid(
                "--pca reduces dense feature maps: use a .zarr or .tif output, or .safetensors \
                 with --dense"
                    .into(),
            );
        }
        if k == 0 || k > dim {
            return invalid(format!(
                "--pca {k}: the number of components must be between 1 and the model's \
                 dimension D = {dim}"
            ));
        }
    }
    Ok(())
}

/// Checks that `path` can take a `format` output before any work is done (a Zarr store is a
/// directory: not over a file, nor over a directory that is not a store).
pub fn check_target(path: &Path, format: OutputFormat) -> Result<(), OutputError> {
    match format {
        OutputFormat::Zarr => Ok(zarr::check_target(path)?),
        _ if path.is_dir() => Err(OutputError::Invalid(format!(
            "--output {} is a directory",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes the embeddings of `scenes` to `path` in `format`, atomically (a file, or for Zarr a
/// directory, built next to the target and renamed into place).
pub fn write_output(
    path: &Path,
    format: OutputFormat,
    scenes: &[SceneEmbedding<'_>],
    opts: &OutputOptions,
    device: &Device,
) -> Result<OutputReport, OutputError> {
    let dim = scenes.first().map_or(0, |s| s.embedded.dim);
    let dense = scenes.iter().any(|s| s.embedded.dense.is_some());
    check_options(
        format,
        scenes.len(),
        dense,
        opts.pca.as_ref().map(PcaChoice::k),
        dim,
    )?;
    let io = |source| OutputError::Io {
        path: path.into(),
        source,
    };
    let mut report = OutputReport::default();
    let pca = match &opts.pca {
        Some(PcaChoice::Fit(k)) => {
            let maps: Vec<&[f32]> = scenes
                .iter()
                .filter_map(|s| s.embedded.dense.as_deref())
                .collect();
            Some(std::sync::Arc::new(PcaBasis::fit(&maps, dim, *k)?))
        }
        Some(PcaChoice::Basis(b)) if b.dim != dim => {
            return Err(OutputError::Invalid(format!(
                "the PCA basis has D = {}, the model's features D = {dim}",
                b.dim
            )));
        }
        Some(PcaChoice::Basis(b)) => Some(b.clone()),
        None => None,
    };
    let pca = pca.as_deref();
    let sha = pca.map(PcaBasis::sha256);
    // Dense maps as stored: PCA components [K, rows, cols] or features [D, rows, cols].
    let maps: Vec<Option<Vec<f32>>> = scenes
        .iter()
        .map(|s| {
            let d = s.embedded.dense.as_deref()?;
            Some(match &pca {
                Some(b) => b.project(d, device),
                None => d.to_vec(),
            })
        })
        .collect();
    if let Some(b) = pca {
        let (mut err, mut norm) = (0.0, 0.0);
        for (s, m) in scenes.iter().zip(&maps) {
            if let (Some(orig), Some(proj)) = (s.embedded.dense.as_deref(), m) {
                let stored = opts.dtype.round_trip(proj);
                let (e, n) = b.reconstruction_error(orig, &stored, device);
                err += e;
                norm += n;
            }
        }
        report.pca = Some((
            b.k(),
            b.explained,
            (err / norm.max(f64::MIN_POSITIVE)).sqrt(),
        ));
        report.pca_basis = sha.clone();
    }
    if opts.dtype == Dtype::F16 {
        // The values this format stores (PCA components are in `report.pca`'s error).
        let mut stored: Vec<&[f32]> = Vec::new();
        if !format.single_input() {
            for s in scenes {
                stored.push(&s.embedded.cls);
                if format == OutputFormat::Safetensors {
                    stored.extend(s.embedded.layers.iter().map(|(_, c)| c.as_slice()));
                }
            }
        }
        if pca.is_none() && format.holds_dense() {
            stored.extend(maps.iter().flatten().map(Vec::as_slice));
        }
        if !stored.is_empty() {
            report.f16_error = Some(relative_rms_error(&stored, |x| Dtype::F16.round_trip(x)));
        }
    }

    match format {
        OutputFormat::Npy => {
            let cls: Vec<f32> = scenes
                .iter()
                .flat_map(|s| s.embedded.cls.iter().copied())
                .collect();
            let bytes = npy::encode(&cls, &[cls.len() / dim.max(1), dim], opts.dtype);
            crate::atomic_write(path, &bytes).map_err(io)?;
        }
        OutputFormat::Parquet => {
            let inputs: Vec<TableInput<'_>> = scenes
                .iter()
                .map(|s| TableInput {
                    path: s.path,
                    tiles: &s.embedded.tiles,
                    cls: &s.embedded.cls,
                    geotransform: s.geotransform,
                    epsg: s.epsg,
                })
                .collect();
            let meta: Vec<(&str, String)> = opts
                .meta
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            let bytes = encode_geoparquet(&inputs, dim, opts.dtype, &meta)?;
            crate::atomic_write(path, &bytes).map_err(io)?;
        }
        OutputFormat::Safetensors => {
            tensors::write(path, scenes, &maps, pca.zip(sha.as_deref()), opts)?;
        }
        OutputFormat::Tiff => {
            let s = &scenes[0];
            let map = maps[0]
                .as_deref()
                .ok_or_else(|| OutputError::Invalid("dense map missing".into()))?;
            tiff::write(path, s, map, pca, opts)?;
        }
        OutputFormat::Zarr => {
            let s = &scenes[0];
            let map = maps[0]
                .as_deref()
                .ok_or_else(|| OutputError::Invalid("dense map missing".into()))?;
            write_zarr(path, s, map, pca.zip(sha.as_deref()), opts)?;
        }
    }
    Ok(report)
}

/// The georeferencing of a scene's patch grid: each cell is `patch`×`patch` pixels from the
/// scene's origin.
pub(crate) fn patch_geotransform(gt: [f64; 6], patch: usize) -> [f64; 6] {
    let p = patch as f64;
    [gt[0], gt[1] * p, gt[2] * p, gt[3], gt[4] * p, gt[5] * p]
}
