//! Result files: upstream CSV layout, JSON, table, atomic writes.

use panopticon_eval::Results;

fn sample() -> Results {
    let mut r = Results::new("15min/sim/corine-4c");
    r.push(
        "MulLabF1ScoreMacro_micro",
        0.123456,
        "classifier_4_blocks_pooling_avgpool_lr_0_01000",
    );
    r.push(
        "MulLabAvergPrec_macro",
        0.98765,
        "classifier_1_blocks_pooling_cls_lr_0_00005",
    );
    r.push("acc_top-1_macro", f64::NAN, "knn_k_20");
    r
}

#[test]
fn csv_matches_upstream_layout() {
    assert_eq!(
        sample().to_csv(),
        "metric,value,best_classifier\n\
         MulLabF1ScoreMacro_micro,12.35,classifier_4_blocks_pooling_avgpool_lr_0_01000\n\
         MulLabAvergPrec_macro,98.77,classifier_1_blocks_pooling_cls_lr_0_00005\n\
         acc_top-1_macro,nan,knn_k_20\n"
    );
}

#[test]
fn json_and_table_are_readable() {
    let v: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
    assert_eq!(v["task"], "15min/sim/corine-4c");
    assert_eq!(v["results"][0]["value"], 12.35);
    assert!(v["results"][2]["value"].is_null(), "NaN is written as null");
    let t = sample().to_table();
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(
        lines[3].contains("12.35") && lines[4].contains("98.77"),
        "{t}"
    );
    // Columns are aligned: every value ends at the same column.
    let end = |l: &str, v: &str| l.find(v).unwrap() + v.len();
    assert_eq!(end(lines[3], "12.35"), end(lines[4], "98.77"));
}

#[test]
fn write_all_is_atomic_and_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("task/sub");
    let [csv, json, txt] = sample().write_all(&out).unwrap();
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), sample().to_csv());
    assert!(json.exists() && txt.exists());
    let mut r = Results::new("t");
    r.push("acc_top-1_micro", 0.5, "x");
    r.write_all(&out).unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "metric,value,best_classifier\nacc_top-1_micro,50.00,x\n"
    );
    // No temp files left behind.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // An unwritable target is a typed error naming the path.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let err = r.write_all(&blocker.join("d")).unwrap_err();
    assert!(err.to_string().contains("file"), "{err}");
}
