//! MMEarth metadata rows (`<variant>.parquet`) and upstream's row filtering.

use std::path::Path;

use crate::datasets::DatasetError;
use crate::readers::{ParquetError, ParquetTable};

/// The split of the metadata's `split` column to keep (upstream `split`; the pre-training
/// config uses `train`, the wrapper's default is `all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmearthSplit {
    /// Rows with `split == "train"`.
    Train,
    /// Rows with `split == "eval"` (MMEarth marks every non-train sample so).
    Eval,
    /// Every row.
    All,
}

impl MmearthSplit {
    /// Parses `train`, `eval` or `all`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "train" => Some(Self::Train),
            "eval" => Some(Self::Eval),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    fn keeps(self, split: Option<&str>) -> bool {
        match self {
            Self::All => true,
            Self::Train => split == Some("train"),
            Self::Eval => split == Some("eval"),
        }
    }
}

/// The metadata columns MMEarth uses, one row per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct MmearthRow {
    /// `train` or `eval`.
    pub split: Option<String>,
    /// Available sensors (`sentinel2`, `sentinel1_asc`, `sentinel1_desc`, `aster`, …).
    pub sensor: Vec<String>,
    /// Row of the sample in every HDF5 array; upstream raises on a missing value.
    pub hf5_idx: Option<i64>,
    /// `l2a` selects the `sentinel2_l2a` stats; anything else `sentinel2_l1c`.
    pub s2_type: Option<String>,
}

impl MmearthRow {
    /// Whether the row lists an ascending or descending Sentinel-1 pass (upstream keeps only
    /// those rows: some sensor string contains `sentinel1_asc` or `sentinel1_desc`).
    pub fn has_sentinel1(&self) -> bool {
        self.sensor
            .iter()
            .any(|s| s.contains("sentinel1_asc") || s.contains("sentinel1_desc"))
    }

    /// Whether Sentinel-2 is L2A (`s2_type == "l2a"`).
    pub fn is_l2a(&self) -> bool {
        self.s2_type.as_deref() == Some("l2a")
    }
}

/// A kept row: its metadata and its HDF5 row.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptRow {
    /// 0-based position in the metadata file (for error messages).
    pub meta_row: usize,
    /// The HDF5 row.
    pub hf5_idx: usize,
    /// Sentinel-2 is L2A.
    pub l2a: bool,
}

/// Upstream's filtering, in its order: split, then rows with Sentinel-1, then a check that
/// every kept row has a non-negative `hf5_idx`. Errors name the 0-based table row.
pub(crate) fn filter_rows(
    rows: &[MmearthRow],
    split: MmearthSplit,
    meta_path: &Path,
) -> Result<Vec<KeptRow>, DatasetError> {
    let mut kept = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if !split.keeps(row.split.as_deref()) || !row.has_sentinel1() {
            continue;
        }
        let bad = |message: String| DatasetError::MetadataRow {
            path: meta_path.to_path_buf(),
            row: i,
            message,
        };
        let idx = row.hf5_idx.ok_or_else(|| {
            bad("`hf5_idx` is missing (upstream: \"hf5_idx contains nans\")".into())
        })?;
        let hf5_idx =
            usize::try_from(idx).map_err(|_| bad(format!("`hf5_idx` is negative ({idx})")))?;
        kept.push(KeptRow {
            meta_row: i,
            hf5_idx,
            l2a: row.is_l2a(),
        });
    }
    Ok(kept)
}

/// Reads the used columns of upstream's `<variant>.parquet` (`split`, `sensor`, `hf5_idx`,
/// `s2_type`; others are ignored), one [`MmearthRow`] per table row.
///
/// `hf5_idx` may be an integer column or, as pandas writes it after its left join, a float
/// column with NaN for samples without an index; NaN/null become `None`, and a non-integral
/// value is an error naming the row.
pub fn read_rows_parquet(path: &Path) -> Result<Vec<MmearthRow>, DatasetError> {
    let table = ParquetTable::open(path)?;
    let split: Vec<Option<String>> = table.column("split")?;
    let sensor: Vec<Vec<String>> = table.column("sensor")?;
    let s2_type: Vec<Option<String>> = table.column("s2_type")?;
    let hf5_idx = match table.column::<Option<i64>>("hf5_idx") {
        Ok(v) => v,
        Err(ParquetError::WrongType { .. }) => table
            .column::<Option<f64>>("hf5_idx")?
            .into_iter()
            .enumerate()
            .map(|(r, v)| match v {
                None => Ok(None),
                Some(x) if x.is_nan() => Ok(None),
                Some(x) if x.fract() == 0.0 && x.abs() < 2f64.powi(53) => Ok(Some(x as i64)),
                Some(x) => Err(DatasetError::MetadataRow {
                    path: path.to_path_buf(),
                    row: r,
                    message: format!("`hf5_idx` {x} is not a row index"),
                }),
            })
            .collect::<Result<_, _>>()?,
        Err(e) => return Err(e.into()),
    };
    Ok(split
        .into_iter()
        .zip(sensor)
        .zip(hf5_idx)
        .zip(s2_type)
        .map(|(((split, sensor), hf5_idx), s2_type)| MmearthRow {
            split,
            sensor,
            hf5_idx,
            s2_type,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(split: &str, sensor: &[&str], idx: Option<i64>) -> MmearthRow {
        MmearthRow {
            split: Some(split.into()),
            sensor: sensor.iter().map(|s| s.to_string()).collect(),
            hf5_idx: idx,
            s2_type: Some("l2a".into()),
        }
    }

    #[test]
    fn keeps_split_rows_with_sentinel1_in_order() {
        let rows = [
            row("train", &["sentinel2", "sentinel1_asc"], Some(7)),
            row("eval", &["sentinel1_desc"], Some(1)),
            row("train", &["sentinel2", "sentinel1"], Some(2)), // neither asc nor desc
            row("train", &["x_sentinel1_desc_y"], Some(0)),     // substring match
        ];
        let p = Path::new("m.parquet");
        let kept = filter_rows(&rows, MmearthSplit::Train, p).unwrap();
        let got: Vec<_> = kept.iter().map(|k| (k.meta_row, k.hf5_idx)).collect();
        assert_eq!(got, [(0, 7), (3, 0)]);
        assert_eq!(filter_rows(&rows, MmearthSplit::All, p).unwrap().len(), 3);
        assert_eq!(filter_rows(&rows, MmearthSplit::Eval, p).unwrap().len(), 1);
    }

    #[test]
    fn missing_or_negative_index_is_an_error_naming_the_row() {
        let p = Path::new("m.parquet");
        let err = filter_rows(
            &[row("train", &["sentinel1_asc"], None)],
            MmearthSplit::Train,
            p,
        )
        .unwrap_err();
        assert!(err.to_string().contains("hf5_idx") && err.to_string().contains("row 0"));
        let err = filter_rows(
            &[
                row("eval", &[], None),
                row("train", &["sentinel1_asc"], Some(-3)),
            ],
            MmearthSplit::All,
            p,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("row 1: `hf5_idx` is negative (-3)"),
            "{err}"
        );
    }
}
