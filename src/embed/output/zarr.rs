//! The `.zarr` output: one input's dense map as a Zarr v3 store that xarray, rioxarray and
//! GDAL open with its coordinates.
//!
//! Layout (dimension names in Zarr v3 `dimension_names`):
//! - `features` `[band, y, x]`: float32/16, chunked by tile (`tile/patch` cells a side) and by
//!   blocks of 64 bands, zstd-compressed; NaN is the fill value (no-data tiles).
//! - `x` `[x]`, `y` `[y]`: cell centres in CRS units (north-up grids), `band` `[band]`.
//! - `spatial_ref` (0-d): the CF grid mapping as rioxarray/GDAL write it (`spatial_ref` = the
//!   CRS as `EPSG:n`, `GeoTransform` in GDAL order); `features` names it in `grid_mapping`.
//! - GeoZarr conventions on `features`: `proj:` (code, PROJJSON) and `spatial:` (dimensions,
//!   affine transform, shape, bbox), registered in `zarr_conventions`.
//! - With PCA: `pca_mean [feature]`, `pca_components [band, feature]`, `pca_variance [band]`,
//!   and on `features` the basis's sha256 as `pca_basis_sha256`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use zarrs::array::codec::ZstdCodec;
use zarrs::array::{Array, ArrayBuilder, ArraySubset, data_type};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::GroupBuilder;

use super::{Dtype, OutputOptions, PcaBasis, SceneEmbedding, patch_geotransform, projjson};

/// Bands per chunk.
const BAND_BLOCK: usize = 64;

/// Errors of the Zarr writer and reader.
#[derive(Debug, thiserror::Error)]
pub enum ZarrError {
    /// The target cannot hold a Zarr store.
    #[error("--output {}: {reason}", path.display())]
    Target {
        /// The target.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Filesystem trouble while building or moving the store.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Zarr library refused.
    #[error("Zarr store {}: {message}", path.display())]
    Zarr {
        /// The store.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

type Store = Arc<FilesystemStore>;

fn zerr(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> ZarrError + '_ {
    move |e| ZarrError::Zarr {
        path: path.into(),
        message: e.to_string(),
    }
}

/// Writes `map` (`[C, rows, cols]`: features, or PCA components) of `scene` as a Zarr v3 store
/// at `path`, built in a hidden directory next to it and renamed into place.
pub fn write_zarr(
    path: &Path,
    scene: &SceneEmbedding<'_>,
    map: &[f32],
    pca: Option<(&PcaBasis, &str)>,
    opts: &OutputOptions,
) -> Result<(), ZarrError> {
    check_target(path)?;
    // Durable before it is renamed into place: a batch run counts an item whose store
    // exists as done, so a crash must not leave a renamed store with unwritten chunks.
    panopticon_atomic::write_dir(path, |tmp| {
        build(tmp, scene, map, pca, opts).map_err(Staged::Build)
    })
    .map_err(|e| match e {
        Staged::Build(e) => e,
        Staged::Install(source) => ZarrError::Io {
            path: path.into(),
            source,
        },
    })
}

/// A failure while building the store in its temp directory, or while syncing and moving it
/// into place.
enum Staged {
    Build(ZarrError),
    Install(std::io::Error),
}

impl From<std::io::Error> for Staged {
    fn from(e: std::io::Error) -> Self {
        Self::Install(e)
    }
}

/// A Zarr store goes where nothing is, or replaces a previous store: never a file or another
/// directory.
pub(super) fn check_target(path: &Path) -> Result<(), ZarrError> {
    let target = |reason: &str| ZarrError::Target {
        path: path.into(),
        reason: reason.into(),
    };
    if path.is_file() {
        return Err(target("is a file; a Zarr store is a directory"));
    }
    if path.is_dir() && !path.join("zarr.json").is_file() {
        return Err(target(
            "is a directory that is not a Zarr store; refusing to replace it",
        ));
    }
    Ok(())
}

fn build(
    root: &Path,
    scene: &SceneEmbedding<'_>,
    map: &[f32],
    pca: Option<(&PcaBasis, &str)>,
    opts: &OutputOptions,
) -> Result<(), ZarrError> {
    let err = zerr(root);
    let store: Store = Arc::new(FilesystemStore::new(root).map_err(|e| err(&e))?);
    let (rows, cols) = scene.embedded.grid;
    let bands = map.len() / (rows * cols).max(1);

    let mut group_attrs = Map::new();
    let meta: Map<String, Value> = opts
        .meta
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    group_attrs.insert("panopticon".into(), Value::Object(meta));
    group_attrs.insert("source".into(), scene.path.to_string_lossy().into());
    GroupBuilder::new()
        .attributes(group_attrs)
        .build(store.clone(), "/")
        .map_err(|e| err(&e))?
        .store_metadata()
        .map_err(|e| err(&e))?;

    // Chunks: one tile of cells by a block of bands.
    let cells = scene
        .embedded
        .tiles
        .first()
        .map_or(rows.max(cols), |t| {
            t.height.max(t.width) / opts.patch_size.max(1)
        })
        .max(1);
    let chunk = [BAND_BLOCK.min(bands), cells.min(rows), cells.min(cols)].map(|c| c.max(1) as u64);
    let mut attrs = Map::new();
    let long_name = match pca {
        Some((b, _)) => format!(
            "first {} principal components of Panopticon patch features",
            b.k()
        ),
        None => "Panopticon patch features".into(),
    };
    attrs.insert("long_name".into(), long_name.into());
    if let Some((_, sha)) = pca {
        attrs.insert("pca_basis_sha256".into(), sha.into());
    }
    attrs.insert("patch_size_px".into(), opts.patch_size.into());
    let gt = scene
        .geotransform
        .map(|t| patch_geotransform(t, opts.patch_size));
    if let Some(gt) = gt {
        attrs.insert("grid_mapping".into(), "spatial_ref".into());
        attrs.insert("coordinates".into(), "spatial_ref".into());
        attrs.extend(geozarr_attrs(gt, scene.epsg, rows, cols));
    }
    let shape = vec![bands as u64, rows as u64, cols as u64];
    let mut builder = match opts.dtype {
        Dtype::F32 => ArrayBuilder::new(shape, chunk, data_type::float32(), f32::NAN),
        Dtype::F16 => ArrayBuilder::new(shape, chunk, data_type::float16(), half::f16::NAN),
    };
    builder
        .bytes_to_bytes_codecs(vec![Arc::new(ZstdCodec::new(3, false))])
        .dimension_names(Some(["band", "y", "x"]))
        .attributes(attrs);
    match opts.dtype {
        Dtype::F32 => put(&store, root, "features", &builder, map)?,
        Dtype::F16 => put(&store, root, "features", &builder, &Dtype::to_f16(map))?,
    }

    let band: Vec<i32> = (0..bands as i32).collect();
    put(
        &store,
        root,
        "band",
        &vector(&band, 0, "band", Map::new()),
        &band,
    )?;
    if let Some(gt) = gt.filter(|t| t[2] == 0.0 && t[4] == 0.0) {
        let geographic = scene.epsg == Some(4326);
        let centres = |o: f64, s: f64, n: usize| -> Vec<f64> {
            (0..n).map(|i| o + (i as f64 + 0.5) * s).collect()
        };
        let axis = |name: &str, std: &str, units: &str| {
            let mut m = Map::new();
            m.insert("standard_name".into(), std.into());
            m.insert("units".into(), units.into());
            m.insert("axis".into(), name.to_uppercase().into());
            m
        };
        let (xs, ys, units) = if geographic {
            ("longitude", "latitude", "degrees")
        } else {
            ("projection_x_coordinate", "projection_y_coordinate", "m")
        };
        for (name, v, std) in [
            ("x", centres(gt[0], gt[1], cols), xs),
            ("y", centres(gt[3], gt[5], rows), ys),
        ] {
            let b = vector(&v, f64::NAN, name, axis(name, std, units));
            put(&store, root, name, &b, &v)?;
        }
        let mut sr = Map::new();
        if let Some(code) = scene.epsg {
            sr.insert("spatial_ref".into(), format!("EPSG:{code}").into());
            sr.insert("proj:code".into(), format!("EPSG:{code}").into());
        }
        sr.insert(
            "GeoTransform".into(),
            gt.map(|v| v.to_string()).join(" ").into(),
        );
        let mut b = ArrayBuilder::new(
            Vec::<u64>::new(),
            Vec::<u64>::new(),
            data_type::int32(),
            0i32,
        );
        b.attributes(sr);
        put(&store, root, "spatial_ref", &b, &[0i32])?;
    }
    if let Some((b, _)) = pca {
        let (k, d) = (b.k() as u64, b.dim as u64);
        let mut mean = ArrayBuilder::new(vec![d], vec![d], data_type::float32(), 0f32);
        mean.dimension_names(Some(["feature"]));
        put(&store, root, "pca_mean", &mean, &b.mean)?;
        let mut comps = ArrayBuilder::new(vec![k, d], vec![k, d], data_type::float32(), 0f32);
        comps.dimension_names(Some(["band", "feature"]));
        put(&store, root, "pca_components", &comps, &b.components)?;
        let vb = vector(&b.variance, 0f64, "band", Map::new());
        put(&store, root, "pca_variance", &vb, &b.variance)?;
    }
    Ok(())
}

/// CF and GeoZarr georeferencing of the patch grid `gt` (GDAL order).
fn geozarr_attrs(gt: [f64; 6], epsg: Option<u32>, rows: usize, cols: usize) -> Map<String, Value> {
    let mut m = Map::new();
    let mut conventions = vec![json!({
        "schema_url": "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
        "spec_url": "https://github.com/zarr-conventions/spatial/blob/v1/README.md",
        "uuid": "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
        "name": "spatial",
        "description": "Spatial coordinate information"
    })];
    if let Some(code) = epsg {
        conventions.push(json!({
            "schema_url": "https://raw.githubusercontent.com/zarr-conventions/geo-proj/refs/tags/v1/schema.json",
            "spec_url": "https://github.com/zarr-conventions/geo-proj/blob/v1/README.md",
            "uuid": "f17cb550-5864-4468-aeb7-f3180cfb622f",
            "name": "proj",
            "description": "Coordinate reference system information for geospatial data"
        }));
        m.insert("proj:code".into(), format!("EPSG:{code}").into());
        if let Some(p) = projjson(code) {
            m.insert("proj:projjson".into(), p);
        }
    }
    m.insert("zarr_conventions".into(), conventions.into());
    m.insert("spatial:dimensions".into(), json!(["y", "x"]));
    // Affine order (a, b, c, d, e, f): x = a·col + b·row + c, y = d·col + e·row + f.
    m.insert(
        "spatial:transform".into(),
        json!([gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]]),
    );
    m.insert("spatial:shape".into(), json!([rows, cols]));
    m.insert("spatial:registration".into(), "pixel".into());
    let corners = [
        (0.0, 0.0),
        (cols as f64, 0.0),
        (0.0, rows as f64),
        (cols as f64, rows as f64),
    ]
    .map(|(c, r)| (gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5]));
    let xs = corners.map(|p| p.0);
    let ys = corners.map(|p| p.1);
    let min = |v: [f64; 4]| v.into_iter().fold(f64::INFINITY, f64::min);
    let max = |v: [f64; 4]| v.into_iter().fold(f64::NEG_INFINITY, f64::max);
    m.insert(
        "spatial:bbox".into(),
        json!([min(xs), min(ys), max(xs), max(ys)]),
    );
    m
}

/// A builder of a 1-D, single-chunk, uncompressed array (a coordinate or a small table).
fn vector<T: ZarrScalar>(
    values: &[T],
    fill: T,
    dim: &str,
    attrs: Map<String, Value>,
) -> ArrayBuilder {
    let n = values.len() as u64;
    let mut b = ArrayBuilder::new(vec![n], vec![n.max(1)], T::data_type(), fill);
    b.dimension_names(Some([dim])).attributes(attrs);
    b
}

/// Element types of [`vector`] arrays.
trait ZarrScalar:
    zarrs::array::Element + Into<zarrs::array::builder::ArrayBuilderFillValue> + Copy
{
    fn data_type() -> zarrs::array::DataType;
}

impl ZarrScalar for i32 {
    fn data_type() -> zarrs::array::DataType {
        data_type::int32()
    }
}

impl ZarrScalar for f64 {
    fn data_type() -> zarrs::array::DataType {
        data_type::float64()
    }
}

/// Builds array `name` of the store and writes all of `values` into it.
fn put<T: zarrs::array::Element>(
    store: &Store,
    root: &Path,
    name: &str,
    builder: &ArrayBuilder,
    values: &[T],
) -> Result<(), ZarrError> {
    let err = zerr(root);
    let array = builder
        .build(store.clone(), &format!("/{name}"))
        .map_err(|e| err(&e))?;
    array.store_metadata().map_err(|e| err(&e))?;
    let all = ArraySubset::new_with_shape(array.shape().to_vec());
    array.store_array_subset(&all, values).map_err(|e| err(&e))
}

/// The `features` array of a store, widened to float32.
#[derive(Debug, Clone)]
pub struct ZarrFeatures {
    /// `[C, rows, cols]` values, row-major.
    pub values: Vec<f32>,
    /// `[C, rows, cols]`.
    pub shape: Vec<u64>,
    /// The array's attributes (CRS, transform, conventions).
    pub attributes: Map<String, Value>,
}

/// Reads the `features` array of a store written by [`write_zarr`] (float16 stores are
/// widened to float32).
pub fn read_zarr_features(path: &Path) -> Result<ZarrFeatures, ZarrError> {
    let err = zerr(path);
    let store: Store = Arc::new(FilesystemStore::new(path).map_err(|e| err(&e))?);
    let array = Array::open(store, "/features").map_err(|e| err(&e))?;
    let shape = array.shape().to_vec();
    let all = ArraySubset::new_with_shape(shape.clone());
    let values: Vec<f32> = if array.data_type() == &data_type::float16() {
        let v: Vec<half::f16> = array.retrieve_array_subset(&all).map_err(|e| err(&e))?;
        v.into_iter().map(half::f16::to_f32).collect()
    } else {
        array.retrieve_array_subset(&all).map_err(|e| err(&e))?
    };
    Ok(ZarrFeatures {
        values,
        shape,
        attributes: array.attributes().clone(),
    })
}
