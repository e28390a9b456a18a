//! The `.safetensors` output: `cls [N, D]`, `tiles [N, 5]` (input, row, col, height, width),
//! `layers.{b}.cls [N, D]`, `dense.{i}` (`[D, rows, cols]`, or `[K, rows, cols]` PCA
//! components with `pca.mean [D]`, `pca.components [K, D]` and `pca.variance [K]`, float32,
//! and the basis's sha256 as the metadata `pca.basis_sha256`).

use std::path::Path;

use burn::tensor::TensorData;

use super::{Dtype, OutputError, OutputOptions, PcaBasis, SceneEmbedding};
use crate::tensor_io::write_safetensors_with_metadata;

fn stored(values: Vec<f32>, shape: Vec<usize>, dtype: Dtype) -> TensorData {
    match dtype {
        Dtype::F32 => TensorData::new(values, shape),
        Dtype::F16 => TensorData::new(Dtype::to_f16(&values), shape),
    }
}

/// Writes the safetensors file; `maps[i]` is scene `i`'s dense map as stored.
pub(super) fn write(
    path: &Path,
    scenes: &[SceneEmbedding<'_>],
    maps: &[Option<Vec<f32>>],
    pca: Option<(&PcaBasis, &str)>,
    opts: &OutputOptions,
) -> Result<(), OutputError> {
    let dim = scenes.first().map_or(0, |s| s.embedded.dim);
    let cls: Vec<f32> = scenes
        .iter()
        .flat_map(|s| s.embedded.cls.iter().copied())
        .collect();
    let n = cls.len() / dim.max(1);
    let mut tiles = Vec::with_capacity(n * 5);
    for (i, s) in scenes.iter().enumerate() {
        for t in &s.embedded.tiles {
            tiles.extend([i, t.row, t.col, t.height, t.width].map(|v| v as i64));
        }
    }
    let mut tensors = vec![
        ("cls".to_string(), stored(cls, vec![n, dim], opts.dtype)),
        ("tiles".to_string(), TensorData::new(tiles, [n, 5])),
    ];
    let mut layers: Vec<(usize, Vec<f32>)> = Vec::new();
    for s in scenes {
        for (b, c) in &s.embedded.layers {
            match layers.iter_mut().find(|(l, _)| l == b) {
                Some((_, all)) => all.extend_from_slice(c),
                None => layers.push((*b, c.clone())),
            }
        }
    }
    for (b, c) in layers {
        tensors.push((
            format!("layers.{b}.cls"),
            stored(c, vec![n, dim], opts.dtype),
        ));
    }
    let channels = pca.map_or(dim, |(b, _)| b.k());
    for (i, (s, map)) in scenes.iter().zip(maps).enumerate() {
        if let Some(map) = map {
            let (rows, cols) = s.embedded.grid;
            tensors.push((
                format!("dense.{i}"),
                stored(map.clone(), vec![channels, rows, cols], opts.dtype),
            ));
        }
    }
    let mut metadata = Vec::new();
    if let Some((b, sha)) = pca {
        tensors.extend(pca_tensors(b));
        metadata.push(("pca.basis_sha256".to_string(), sha.to_string()));
    }
    write_safetensors_with_metadata(path, &tensors, metadata)?;
    Ok(())
}

/// `pca.mean [D]`, `pca.components [K, D]`, `pca.variance [K]` (float32).
pub(super) fn pca_tensors(b: &PcaBasis) -> Vec<(String, TensorData)> {
    let variance: Vec<f32> = b.variance.iter().map(|&v| v as f32).collect();
    vec![
        ("pca.mean".into(), TensorData::new(b.mean.clone(), [b.dim])),
        (
            "pca.components".into(),
            TensorData::new(b.components.clone(), [b.k(), b.dim]),
        ),
        ("pca.variance".into(), TensorData::new(variance, [b.k()])),
    ]
}
