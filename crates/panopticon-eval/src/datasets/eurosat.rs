//! EuroSAT-SAR (spec §5.9): split CSVs `filepath,class_name` and 2-band float GeoTIFFs
//! (VV, VH in dB) normalised with the dataset statistics in f64.

use std::path::Path;

use super::{
    DatasetKind, EvalDataset, Source, Targets, check_root, class_index, ds_err, read_text,
};
use crate::error::Result;

const EUROSAT_SAR_MEAN: [f64; 2] = [-11.6568, -18.4975];
const EUROSAT_SAR_STD: [f64; 2] = [6.0908, 6.1924];

impl EvalDataset {
    /// EuroSAT-SAR split(s) under `root` (`$RDIR/datasets/eurosat_SAR`): `split` names one
    /// or several (comma-separated, concatenated) of `{train,val,test,small_*}.csv`.
    pub fn eurosat_sar(root: &Path, split: &str) -> Result<Self> {
        let kind = DatasetKind::EurosatSar;
        check_root(root)?;
        let (mut files, mut labels) = (Vec::new(), Vec::new());
        for name in split.split(',').map(str::trim) {
            let csv = root.join(format!("{name}.csv"));
            let text = read_text(&csv)?;
            let mut lines = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty());
            let header: Vec<&str> = match lines.next() {
                Some((_, h)) => h.split(',').map(str::trim).collect(),
                None => return Err(ds_err(&csv, "empty split file (no header, no samples)")),
            };
            let col = |want: &str| {
                header.iter().position(|c| *c == want).ok_or_else(|| {
                    ds_err(
                        &csv,
                        format!("header has no `{want}` column (need filepath,class_name)"),
                    )
                })
            };
            let (fp, cn) = (col("filepath")?, col("class_name")?);
            for (i, line) in lines {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                let (Some(path), Some(class)) = (cells.get(fp), cells.get(cn)) else {
                    return Err(ds_err(
                        &csv,
                        format!("line {}: expected {} columns", i + 1, header.len()),
                    ));
                };
                labels.push(class_index(kind, class, &csv, i + 1)?);
                files.push(root.join(path));
            }
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

/// Reads and normalises one EuroSAT-SAR GeoTIFF, `[2, H, W]`.
pub(super) fn load(path: &Path) -> Result<(Vec<f32>, [usize; 3])> {
    let r = panopticon_data::read_geotiff(path).map_err(|e| ds_err(path, e.to_string()))?;
    if r.bands != 2 {
        return Err(ds_err(
            path,
            format!("has {} bands, expected 2 (VV, VH)", r.bands),
        ));
    }
    let hw = r.height * r.width;
    let data = r
        .data
        .to_f64()
        .iter()
        .enumerate()
        .map(|(j, &x)| {
            let c = j / hw;
            ((x - EUROSAT_SAR_MEAN[c]) / EUROSAT_SAR_STD[c]) as f32
        })
        .collect();
    Ok((data, [r.bands, r.height, r.width]))
}
