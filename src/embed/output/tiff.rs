//! The `.tif` output: one input's dense map as a multi-band GeoTIFF on the patch grid; with
//! PCA, the components as bands and the basis in a `<name>.pca.safetensors` sidecar.

use std::path::{Path, PathBuf};

use super::{Dtype, OutputError, OutputOptions, PcaBasis, SceneEmbedding, patch_geotransform};
use panopticon_data::{write_geotiff_f16, write_geotiff_f32};

/// What a `.tif` output's PCA sidecar adds to its name.
pub(super) const PCA_SIDECAR_SUFFIX: &str = "pca.safetensors";

/// The sidecar that holds the PCA basis of a `.tif` output: the basis file's bytes (see
/// [`PcaBasis::to_bytes`]), so its sha256 names the basis.
pub fn pca_sidecar(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(PCA_SIDECAR_SUFFIX);
    path.with_file_name(name)
}

pub(super) fn write(
    path: &Path,
    scene: &SceneEmbedding<'_>,
    map: &[f32],
    pca: Option<&PcaBasis>,
    opts: &OutputOptions,
) -> Result<(), OutputError> {
    let (rows, cols) = scene.embedded.grid;
    let bands = map.len() / (rows * cols).max(1);
    let gt = scene
        .geotransform
        .map(|t| patch_geotransform(t, opts.patch_size));
    // The sidecar first: an item whose .tif exists is complete.
    if let Some(b) = pca {
        let side = pca_sidecar(path);
        crate::atomic_write(&side, &b.to_bytes())
            .map_err(|source| OutputError::Io { path: side, source })?;
    }
    match opts.dtype {
        Dtype::F32 => write_geotiff_f32(path, bands, rows, cols, map, gt, scene.epsg, None)?,
        Dtype::F16 => {
            let bits: Vec<u16> = Dtype::to_f16(map).iter().map(|v| v.to_bits()).collect();
            write_geotiff_f16(path, bands, rows, cols, &bits, gt, scene.epsg, None)?
        }
    }
    Ok(())
}
