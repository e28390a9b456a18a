//! The `[transform]` table of a task config: resize, centre crop and channel selection.

use std::path::Path;

use super::schema::{SizeSpec, TransformSection, cfg_err};
use crate::datasets::{DatasetKind, EvalTransform};
use crate::error::Result;

impl TransformSection {
    /// The test-time transform, its sizes positive and its channels those of `dataset`.
    pub(super) fn into_transform(self, dataset: DatasetKind, path: &Path) -> Result<EvalTransform> {
        let size = |field: &str, s: &Option<SizeSpec>| -> Result<Option<(usize, usize)>> {
            match s.as_ref().map(SizeSpec::hw) {
                Some((h, w)) if h == 0 || w == 0 => Err(cfg_err(
                    path,
                    field,
                    format!("[{h}, {w}]"),
                    "sizes must be ≥ 1",
                )),
                other => Ok(other),
            }
        };
        let transform = EvalTransform {
            resize: size("transform.resize", &self.resize)?,
            center_crop: size("transform.center_crop", &self.center_crop)?,
            chn_select: self.chn_select,
        };
        if let Some(sel) = &transform.chn_select {
            let c = dataset.chn_ids()?.len();
            if sel.is_empty() || sel.iter().any(|&i| i >= c) {
                return Err(cfg_err(
                    path,
                    "transform.chn_select",
                    format!("{sel:?}"),
                    &format!(
                        "indices must be in 0..{c} ({} has {c} channels)",
                        dataset.id()
                    ),
                ));
            }
        }
        Ok(transform)
    }
}
