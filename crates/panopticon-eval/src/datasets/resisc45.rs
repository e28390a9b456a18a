//! RESISC45 (spec §5.9): `resisc45-{split}.txt` file lists, 256×256 RGB JPEGs scaled to
//! [0, 1] and normalised per channel.

use std::path::Path;

use super::{
    DatasetKind, EvalDataset, Source, Targets, check_root, class_index, ds_err, read_text,
};
use crate::error::Result;

const RESISC45_MEAN: [f32; 3] = [0.3682, 0.3808, 0.3434];
const RESISC45_STD: [f32; 3] = [0.2033, 0.1852, 0.1846];

impl EvalDataset {
    /// RESISC45 split under `root` (`$RDIR/datasets/resisc45`): `resisc45-{split}.txt`
    /// lists file names; the class is the name up to the last `_`, the image
    /// `NWPU-RESISC45/<class>/<file>`.
    pub fn resisc45(root: &Path, split: &str) -> Result<Self> {
        let kind = DatasetKind::Resisc45;
        check_root(root)?;
        let list = root.join(format!("resisc45-{split}.txt"));
        let text = read_text(&list)?;
        let (mut files, mut labels) = (Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            let name = line.trim();
            if name.is_empty() {
                continue;
            }
            let Some((class, _)) = name.rsplit_once('_') else {
                return Err(ds_err(
                    &list,
                    format!(
                        "line {}: `{name}` has no `_` (expected <class>_<nnn>.jpg)",
                        i + 1
                    ),
                ));
            };
            labels.push(class_index(kind, class, &list, i + 1)?);
            files.push(root.join("NWPU-RESISC45").join(class).join(name));
        }
        let names = files.iter().map(|f| f.display().to_string()).collect();
        Self::finish(
            kind,
            root,
            split,
            files,
            names,
            Targets::Classes(labels),
            Source::Files,
        )
    }
}

/// Reads and normalises one RESISC45 JPEG, `[3, H, W]`.
pub(super) fn load(path: &Path) -> Result<(Vec<f32>, [usize; 3])> {
    let r = panopticon_data::read_jpeg(path).map_err(|e| ds_err(path, e.to_string()))?;
    if r.bands != 3 {
        return Err(ds_err(path, format!("has {} bands, expected RGB", r.bands)));
    }
    let hw = r.height * r.width;
    let mut data = r.to_f32();
    for (j, x) in data.iter_mut().enumerate() {
        let c = j / hw;
        *x = (*x / 255.0 - RESISC45_MEAN[c]) / RESISC45_STD[c];
    }
    Ok((data, [r.bands, r.height, r.width]))
}
