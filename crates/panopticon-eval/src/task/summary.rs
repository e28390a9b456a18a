//! Task results read back, and the aggregated `results.csv` / `results.txt` of a run.

use std::path::{Path, PathBuf};

use crate::error::{EvalError, Result};
use crate::results::{Results, write_atomic};

/// Reads a task's `results.json` back (values from percent to fractions; `null` → NaN).
pub fn read_results_json(path: &Path) -> Result<Results> {
    let bad = |reason: String| EvalError::Dataset {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut r = Results::new(doc["task"].as_str().unwrap_or_default());
    for row in doc["results"]
        .as_array()
        .ok_or_else(|| bad("no `results` list".into()))?
    {
        r.push(
            row["metric"].as_str().unwrap_or_default(),
            row["value"].as_f64().map_or(f64::NAN, |v| v / 100.0),
            row["best_classifier"].as_str().unwrap_or_default(),
        );
    }
    Ok(r)
}

/// Writes the aggregated `results.csv` (`relpath,metric,value,best_classifier`) and
/// `results.txt` (every task's table) bottom-up, as the reference driver does: `dir` and
/// every folder above a task (task names with `/`) get the rows of the tasks below them,
/// `relpath` relative to that folder. Returns the top-level `results.csv`.
pub fn write_summary(dir: &Path, all: &[Results]) -> Result<PathBuf> {
    let mut folders: Vec<String> = vec![String::new()];
    for r in all {
        let parts: Vec<&str> = r.task.split('/').collect();
        for i in 1..parts.len() {
            let f = parts[..i].join("/");
            if !folders.contains(&f) {
                folders.push(f);
            }
        }
    }
    for folder in &folders {
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        let mut csv = String::from("relpath,metric,value,best_classifier\n");
        let mut txt = String::new();
        for r in all.iter().filter(|r| r.task.starts_with(&prefix)) {
            let rel = &r.task[prefix.len()..];
            for line in r.to_csv().lines().skip(1) {
                csv += &format!("{rel},{line}\n");
            }
            txt += &r.to_table();
            txt += "\n";
        }
        let out = dir.join(folder);
        std::fs::create_dir_all(&out).map_err(|source| EvalError::Io {
            path: out.clone(),
            source,
        })?;
        write_atomic(&out.join("results.txt"), &txt)?;
        write_atomic(&out.join("results.csv"), &csv)?;
    }
    Ok(dir.join("results.csv"))
}
