//! Result files of one task: `results.csv` (upstream layout), `results.json` and a readable
//! `results.txt`, each written atomically (temp file in the same directory, then rename), so
//! a crash never leaves a half-written `results.csv` that would make the driver skip the task.

use std::path::{Path, PathBuf};

use crate::error::{EvalError, Result};

/// One reported metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// Metric key, e.g. `acc_top-1_micro`.
    pub metric: String,
    /// Value as a fraction in `[0, 1]` (written in percent, rounded to 2 decimals).
    pub value: f64,
    /// Classifier that produced it: a probe name or `knn_k_{k}`.
    pub best_classifier: String,
}

/// The results of one task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    /// Task name, e.g. `5min/m-eurosat_knn`.
    pub task: String,
    /// One row per metric, in config order.
    pub rows: Vec<ResultRow>,
}

impl Results {
    /// Empty results for `task`.
    pub fn new(task: impl Into<String>) -> Self {
        Self {
            task: task.into(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(
        &mut self,
        metric: impl Into<String>,
        value: f64,
        best_classifier: impl Into<String>,
    ) {
        self.rows.push(ResultRow {
            metric: metric.into(),
            value,
            best_classifier: best_classifier.into(),
        });
    }

    /// `results.csv`: header `metric,value,best_classifier`, values in percent with 2 decimals.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("metric,value,best_classifier\n");
        for r in &self.rows {
            s += &format!(
                "{},{},{}\n",
                csv_field(&r.metric),
                percent(r.value),
                csv_field(&r.best_classifier)
            );
        }
        s
    }

    /// `results.json`: `{"task": .., "results": [{"metric", "value" (percent), "best_classifier"}]}`.
    pub fn to_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "metric": r.metric,
                    // NaN has no JSON spelling: written as null.
                    "value": percent_value(r.value),
                    "best_classifier": r.best_classifier,
                })
            })
            .collect();
        let doc = serde_json::json!({ "task": self.task, "results": rows });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    /// An aligned plain-text table (`results.txt`).
    pub fn to_table(&self) -> String {
        let header = ["metric", "value (%)", "best classifier"];
        let cells: Vec<[String; 3]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.metric.clone(),
                    percent(r.value),
                    r.best_classifier.clone(),
                ]
            })
            .collect();
        let width = |i: usize| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        };
        let (w0, w1, w2) = (width(0), width(1), width(2));
        let mut s = format!("task: {}\n", self.task);
        s += &format!(
            "{:<w0$}  {:>w1$}  {:<w2$}\n",
            header[0], header[1], header[2]
        );
        s += &format!(
            "{}  {}  {}\n",
            "-".repeat(w0),
            "-".repeat(w1),
            "-".repeat(w2)
        );
        for c in &cells {
            s += &format!("{:<w0$}  {:>w1$}  {:<w2$}\n", c[0], c[1], c[2]);
        }
        s
    }

    /// Writes `results.csv`, `results.json` and `results.txt` into `dir` (created if missing),
    /// each atomically. Returns the three paths.
    pub fn write_all(&self, dir: &Path) -> Result<[PathBuf; 3]> {
        std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let csv = dir.join("results.csv");
        let json = dir.join("results.json");
        let txt = dir.join("results.txt");
        // csv last: its presence marks the task as done for the driver.
        write_atomic(&json, &self.to_json())?;
        write_atomic(&txt, &self.to_table())?;
        write_atomic(&csv, &self.to_csv())?;
        Ok([csv, json, txt])
    }
}

fn percent_value(v: f64) -> Option<f64> {
    v.is_finite().then(|| (v * 100.0 * 100.0).round() / 100.0)
}

fn percent(v: f64) -> String {
    match percent_value(v) {
        Some(p) => format!("{p:.2}"),
        None => "nan".into(),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `contents` to `path` atomically and durably ([`panopticon_atomic::write_bytes`]).
pub(crate) fn write_atomic(path: &Path, contents: &str) -> Result<()> {
    panopticon_atomic::write_bytes(path, contents.as_bytes()).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}
