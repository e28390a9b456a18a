//! The partitions of a collected dataset: one GeoParquet file per CRS, in Hive-style folders
//! (`crs=EPSG_32633/part-0.parquet`) that pyarrow.dataset, DuckDB
//! (`read_parquet(…, hive_partitioning = true)`), Spark and GDAL read as one table with a
//! `crs` column. GeoParquet keeps its `geo` metadata (CRS, bbox) per file, so each partition
//! is a complete GeoParquet file of its own.

use std::path::Path;

use serde_json::Value;

/// The CRS of a table's primary geometry column as its `geo` metadata states it: `None` for
/// a table without `geo` metadata; a missing `crs` key is OGC:CRS84 (GeoParquet 1.1), a
/// `null` one an unknown CRS.
pub(super) fn primary_crs(geo: Option<&Value>) -> Option<Value> {
    let geo = geo?;
    let primary = geo.get("primary_column").and_then(Value::as_str)?;
    let column = geo.get("columns")?.get(primary)?;
    Some(
        column
            .get("crs")
            .cloned()
            .unwrap_or_else(|| Value::from("OGC:CRS84")),
    )
}

/// A partition value naming a CRS: `{AUTHORITY}_{CODE}` from a PROJJSON `id` (`EPSG_32633`),
/// `unknown` for a null or absent CRS, else the CRS's name; only `[A-Za-z0-9._-]` (a `:`
/// would need escaping in paths and URLs).
pub(super) fn crs_label(crs: Option<&Value>) -> String {
    let text = match crs {
        None | Some(Value::Null) => "unknown".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            let id = v
                .get("id")
                .or_else(|| v.get("ids").and_then(|ids| ids.get(0)));
            let part = |k: &str| match id.and_then(|id| id.get(k)) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match (part("authority"), part("code")) {
                (Some(a), Some(c)) => format!("{a}_{c}"),
                _ => v
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("custom")
                    .to_string(),
            }
        }
    };
    text.chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                true => c,
                false => '_',
            },
        )
        .collect()
}

/// Groups tables by the CRS of their primary geometry column (`crss[i]` from
/// [`primary_crs`]), in order of first appearance: the partition value of each group and
/// the indices of its tables. Different CRSs that would get the same label (two custom CRSs
/// of one name) get `_2`, `_3`, … appended.
pub(super) fn group_by_crs(crss: &[Option<Value>]) -> Vec<(String, Vec<usize>)> {
    let mut keys: Vec<&Option<Value>> = Vec::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, crs) in crss.iter().enumerate() {
        if let Some(g) = keys.iter().position(|k| *k == crs) {
            groups[g].1.push(i);
            continue;
        }
        let base = crs_label(crs.as_ref());
        let mut label = base.clone();
        let mut n = 1;
        while groups.iter().any(|(l, _)| *l == label) {
            n += 1;
            label = format!("{base}_{n}");
        }
        keys.push(crs);
        groups.push((label, vec![i]));
    }
    groups
}

/// The partition folder of a CRS label (Hive style: `crs=EPSG_32633`).
pub(super) fn folder(label: &str) -> String {
    format!("crs={label}")
}

/// The one file of each partition.
pub(super) const PART_FILE: &str = "part-0.parquet";

/// Whether `dir` may be replaced by a partitioned dataset: it does not exist, is empty, or
/// holds only partition folders of `.parquet` files (an earlier collect's output). Anything
/// else is refused: replacing a directory deletes what is in it.
pub(super) fn check_replaceable(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err("exists and is not a directory".into());
    }
    let list = |d: &Path| -> Result<Vec<(String, bool)>, String> {
        let entries = std::fs::read_dir(d).map_err(|e| format!("cannot list it: {e}"))?;
        entries
            .map(|e| {
                let e = e.map_err(|e| format!("cannot list it: {e}"))?;
                let is_dir = e.file_type().map_err(|e| e.to_string())?.is_dir();
                Ok((e.file_name().to_string_lossy().into_owned(), is_dir))
            })
            .collect()
    };
    let foreign = |name: &str| {
        Err(format!(
            "is a directory that is not a partitioned dataset written by `embed collect` (it \
             holds `{name}`); collecting into it would delete what is there: choose a new \
             path or remove it"
        ))
    };
    for (name, is_dir) in list(dir)? {
        if !is_dir || !name.starts_with("crs=") {
            return foreign(&name);
        }
        for (file, is_dir) in list(&dir.join(&name))? {
            if is_dir || !file.ends_with(".parquet") {
                return foreign(&format!("{name}/{file}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn epsg(code: u32) -> Value {
        json!({"type": "ProjectedCRS", "name": format!("zone {code}"),
               "id": {"authority": "EPSG", "code": code}})
    }

    #[test]
    fn labels_name_the_crs_without_path_characters() {
        assert_eq!(crs_label(Some(&epsg(32633))), "EPSG_32633");
        let ids = json!({"ids": [{"authority": "IAU_2015", "code": "30100"}]});
        assert_eq!(crs_label(Some(&ids)), "IAU_2015_30100");
        assert_eq!(crs_label(Some(&Value::Null)), "unknown");
        assert_eq!(crs_label(None), "unknown");
        assert_eq!(crs_label(Some(&json!("OGC:CRS84"))), "OGC_CRS84");
        let custom = json!({"name": "Local grid / metres=1"});
        assert_eq!(crs_label(Some(&custom)), "Local_grid___metres_1");
        assert_eq!(crs_label(Some(&json!({}))), "custom");
    }

    #[test]
    fn the_primary_column_decides_and_absent_means_crs84() {
        let geo = |col: Value| json!({"primary_column": "g", "columns": {"g": col}});
        assert_eq!(
            primary_crs(Some(&geo(json!({"crs": epsg(1)})))),
            Some(epsg(1))
        );
        assert_eq!(
            primary_crs(Some(&geo(json!({"crs": null})))),
            Some(Value::Null)
        );
        assert_eq!(primary_crs(Some(&geo(json!({})))), Some(json!("OGC:CRS84")));
        assert_eq!(primary_crs(None), None);
    }

    #[test]
    fn groups_keep_first_appearance_order_and_distinct_labels() {
        let same_name = |n: u32| Some(json!({"name": "grid", "datum": n}));
        let crss = [
            Some(epsg(32633)),
            Some(epsg(32632)),
            Some(epsg(32633)),
            same_name(1),
            same_name(2),
            Some(Value::Null),
            None,
        ];
        let got = group_by_crs(&crss);
        let want: Vec<(String, Vec<usize>)> = [
            ("EPSG_32633", vec![0, 2]),
            ("EPSG_32632", vec![1]),
            ("grid", vec![3]),
            ("grid_2", vec![4]),
            ("unknown", vec![5]),
            ("unknown_2", vec![6]),
        ]
        .into_iter()
        .map(|(l, v)| (l.to_string(), v))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn only_a_previous_dataset_may_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("index");
        assert!(check_replaceable(&out).is_ok());
        std::fs::create_dir_all(out.join("crs=EPSG_1")).unwrap();
        std::fs::write(out.join("crs=EPSG_1").join(PART_FILE), b"x").unwrap();
        assert!(check_replaceable(&out).is_ok());
        std::fs::write(out.join("crs=EPSG_1/notes.txt"), b"x").unwrap();
        let err = check_replaceable(&out).unwrap_err();
        assert!(err.contains("crs=EPSG_1/notes.txt"), "{err}");
        std::fs::remove_file(out.join("crs=EPSG_1/notes.txt")).unwrap();
        std::fs::create_dir(out.join("photos")).unwrap();
        assert!(check_replaceable(&out).unwrap_err().contains("`photos`"));
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        assert!(
            check_replaceable(&file)
                .unwrap_err()
                .contains("not a directory")
        );
    }
}
