//! The PCA basis file (`pca_basis.safetensors` of a batch run, the `.pca.safetensors` sidecar of
//! a `.tif`, `--pca-basis FILE`): `pca.mean [D]`, `pca.components [K, D]`, `pca.variance [K]`
//! (float32) and `pca.explained` in the safetensors metadata. Its bytes are a function of the
//! basis alone, so their sha256 names the basis in every output that uses it.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use safetensors::{Dtype as StDtype, SafeTensors};
use sha2::{Digest, Sha256};

use super::{PcaBasis, PcaError};

const EXPLAINED: &str = "pca.explained";

fn le_bytes(v: impl IntoIterator<Item = f32>) -> Vec<u8> {
    v.into_iter().flat_map(f32::to_le_bytes).collect()
}

impl PcaBasis {
    /// The basis file's bytes (one metadata key: safetensors writes its metadata map in hash
    /// order, which one key keeps fixed). Panics if the fields disagree on `K` and `D`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mean = le_bytes(self.mean.iter().copied());
        let components = le_bytes(self.components.iter().copied());
        let variance = le_bytes(self.variance.iter().map(|&v| v as f32));
        let (k, d) = (self.k(), self.dim);
        fn view(shape: Vec<usize>, bytes: &[u8]) -> TensorView<'_> {
            TensorView::new(StDtype::F32, shape, bytes).expect("shapes match the data")
        }
        let views = [
            ("pca.mean", view(vec![d], &mean)),
            ("pca.components", view(vec![k, d], &components)),
            ("pca.variance", view(vec![k], &variance)),
        ];
        let meta = HashMap::from([(EXPLAINED.to_string(), format!("{:?}", self.explained))]);
        safetensors::serialize(views, Some(meta)).expect("in-memory serialisation")
    }

    /// The sha256 (hex) of [`to_bytes`](Self::to_bytes): the basis's name in outputs.
    pub fn sha256(&self) -> String {
        Sha256::digest(self.to_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Reads a basis from a file's bytes; `label` names the file in errors.
    pub fn from_bytes(bytes: &[u8], label: &str) -> Result<Self, PcaError> {
        let fail = |reason: String| PcaError::File {
            path: label.to_string(),
            reason,
        };
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| fail(format!("not a safetensors file: {e}")))?;
        let tensor = |name: &str| -> Result<(Vec<usize>, Vec<f32>), PcaError> {
            let t = st
                .tensor(name)
                .map_err(|_| fail(format!("no `{name}` tensor (not a PCA basis file)")))?;
            if t.dtype() != StDtype::F32 {
                return Err(fail(format!("`{name}` is {:?}, not F32", t.dtype())));
            }
            let v: Vec<f32> = (t.data().chunks_exact(4))
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if !v.iter().all(|x| x.is_finite()) {
                return Err(fail(format!("`{name}` holds non-finite values")));
            }
            Ok((t.shape().to_vec(), v))
        };
        let (ms, mean) = tensor("pca.mean")?;
        let (cs, components) = tensor("pca.components")?;
        let (vs, variance) = tensor("pca.variance")?;
        let (k, d) = match (ms.as_slice(), cs.as_slice(), vs.as_slice()) {
            ([d], [k, d2], [k2]) if d == d2 && k == k2 && *k > 0 && *d > 0 => (*k, *d),
            _ => {
                return Err(fail(format!(
                    "shapes mean {ms:?}, components {cs:?}, variance {vs:?} do not make a \
                     [D], [K, D], [K] basis"
                )));
            }
        };
        debug_assert_eq!(components.len(), k * d);
        let header = SafeTensors::read_metadata(bytes).map(|(_, h)| h).ok();
        let explained = (header.as_ref())
            .and_then(|h| h.metadata().as_ref())
            .and_then(|m| m.get(EXPLAINED))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        Ok(Self {
            mean,
            components,
            variance: variance.into_iter().map(f64::from).collect(),
            explained,
            dim: d,
        })
    }

    /// Reads a basis file.
    pub fn read(path: &Path) -> Result<Self, PcaError> {
        let label = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| PcaError::File {
            path: label.clone(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(&bytes, &label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis() -> PcaBasis {
        PcaBasis {
            mean: vec![0.5, -1.0, 2.0],
            components: vec![1.0, 0.0, 0.0, 0.0, 0.6, 0.8],
            variance: vec![3.0, 0.25],
            explained: 0.875,
            dim: 3,
        }
    }

    #[test]
    fn round_trips_and_names_itself_by_its_bytes() {
        let b = basis();
        let bytes = b.to_bytes();
        assert_eq!(bytes, b.to_bytes(), "the same bytes every time");
        let back = PcaBasis::from_bytes(&bytes, "b").unwrap();
        assert_eq!(back, b);
        assert_eq!(back.sha256(), b.sha256());
        assert_eq!(b.sha256().len(), 64);
        let mut other = b.clone();
        other.mean[0] = 0.25;
        assert_ne!(other.sha256(), b.sha256());
    }

    #[test]
    fn refuses_files_that_are_not_a_basis() {
        let err = |bytes: &[u8]| PcaBasis::from_bytes(bytes, "f").unwrap_err().to_string();
        assert!(err(b"junk").contains("not a safetensors file"));
        let data = le_bytes([1.0, 2.0]);
        let only_mean = safetensors::serialize(
            [(
                "pca.mean",
                TensorView::new(StDtype::F32, vec![2], &data).unwrap(),
            )],
            None,
        )
        .unwrap();
        assert!(err(&only_mean).contains("no `pca.components`"));
        let (m, c, v) = (le_bytes([0.0; 3]), le_bytes([0.0; 6]), le_bytes([1.0; 3]));
        fn f32s(shape: Vec<usize>, b: &[u8]) -> TensorView<'_> {
            TensorView::new(StDtype::F32, shape, b).unwrap()
        }
        let mismatched = safetensors::serialize(
            [
                ("pca.mean", f32s(vec![3], &m)),
                ("pca.components", f32s(vec![2, 3], &c)),
                ("pca.variance", f32s(vec![3], &v)),
            ],
            None,
        )
        .unwrap();
        assert!(err(&mismatched).contains("do not make a"));
    }
}
