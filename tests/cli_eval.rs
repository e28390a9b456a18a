//! `panopticon eval` end to end with the tiny model on the synthetic EuroSAT-SAR and RESISC45
//! fixtures (kNN and linear probes): result files with the configured metric names, an
//! aggregated table, resumption that skips finished tasks and reuses cached features, and
//! bad task configs rejected with one line before any feature extraction.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::tiny_dir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn datasets() -> PathBuf {
    root().join("tests/fixtures/eval/datasets")
}

fn eval(tasks: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .arg("eval")
        .args(["--model", tiny_dir().join("weights.pth").to_str().unwrap()])
        .args(["--config", "tiny-test", "--device", "cpu"])
        .args(["--tasks", tasks.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `(metric, value)` rows of a task's results.csv.
fn rows(csv: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("metric,value,best_classifier"));
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            assert_eq!(c.len(), 3, "{l}");
            (c[0].to_string(), c[1].parse().unwrap())
        })
        .collect()
}

const QUICK: [(&str, &[&str], &str); 4] = [
    (
        "eurosat_sar_knn",
        &["acc_top-1_micro", "acc_top-1_macro"],
        "knn_k_",
    ),
    (
        "eurosat_sar_lin",
        &["acc_top-1_micro", "acc_top-1_macro", "acc_top-5_micro"],
        "classifier_",
    ),
    (
        "resisc45_knn",
        &["acc_top-1_micro", "acc_top-1_macro"],
        "knn_k_",
    ),
    (
        "resisc45_lin",
        &["acc_top-1_micro", "acc_top-1_macro"],
        "classifier_2_blocks_pooling_avgpool_",
    ),
];

#[test]
fn quick_tasks_run_end_to_end_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let tasks = root().join("configs/eval/quick");
    let o = eval(&tasks, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("train features"),
        "no progress on stderr: {err}"
    );
    assert!(err.contains("4 run, 0 skipped"), "{err}");

    let mut first = Vec::new();
    for (task, metrics, classifier) in QUICK {
        let tdir = out.join(task);
        for f in ["results.csv", "results.json", "results.txt"] {
            assert!(tdir.join(f).is_file(), "{task}/{f} missing");
        }
        let r = rows(&tdir.join("results.csv"));
        let names: Vec<&str> = r.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(names, metrics, "{task}");
        for (m, v) in &r {
            assert!((0.0..=100.0).contains(v), "{task} {m} = {v}");
        }
        let csv = std::fs::read_to_string(tdir.join("results.csv")).unwrap();
        assert!(csv.lines().skip(1).all(|l| l.contains(classifier)), "{csv}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(tdir.join("results.json")).unwrap())
                .unwrap();
        assert_eq!(json["task"], task);
        assert_eq!(json["results"].as_array().unwrap().len(), metrics.len());
        first.push(csv);
    }
    // The synthetic classes are separable for kNN on EuroSAT-SAR (one pattern per class).
    let knn = rows(&out.join("eurosat_sar_knn/results.csv"));
    assert!(knn[0].1 >= 50.0, "eurosat-sar kNN top-1 = {}", knn[0].1);

    // Aggregated table: every task's rows, prefixed with the task name.
    let summary = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(summary.starts_with("relpath,metric,value,best_classifier\n"));
    let n_rows: usize = QUICK.iter().map(|(_, m, _)| m.len()).sum();
    assert_eq!(summary.lines().count(), 1 + n_rows, "{summary}");
    for (task, _, _) in QUICK {
        assert!(summary.contains(&format!("\n{task},acc_top-1_micro,")));
        assert!(
            std::fs::read_to_string(out.join("results.txt"))
                .unwrap()
                .contains(&format!("task: {task}"))
        );
    }
    let cached = std::fs::read_dir(out.join("features")).unwrap().count();
    assert_eq!(cached, 10, "2 + 3 + 2 + 3 feature files");

    // Second run: everything skipped, nothing rewritten.
    let o = eval(&tasks, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("0 run, 4 skipped"), "{err}");
    assert_eq!(err.matches("skipping").count(), 4, "{err}");
    assert!(!err.contains("features"), "features extracted again: {err}");
    for ((task, _, _), before) in QUICK.iter().zip(&first) {
        let now = std::fs::read_to_string(out.join(task).join("results.csv")).unwrap();
        assert_eq!(&now, before, "{task}");
    }

    // A task whose results are gone runs again, from cached features, to the same numbers.
    std::fs::remove_file(out.join("eurosat_sar_lin/results.csv")).unwrap();
    let o = eval(&tasks, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("1 run, 3 skipped"), "{err}");
    assert!(!err.contains("train features"), "cache not used: {err}");
    let again = std::fs::read_to_string(out.join("eurosat_sar_lin/results.csv")).unwrap();
    assert_eq!(again, first[1]);
    assert_eq!(
        std::fs::read_dir(out.join("features")).unwrap().count(),
        cached
    );

    // --overwrite runs everything again.
    let o = eval(&tasks, &out, &["--overwrite", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("4 run, 0 skipped"), "{}", stderr(&o));
}

#[test]
fn a_single_task_file_is_a_task() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = eval(
        &root().join("configs/eval/quick/resisc45_knn.toml"),
        &out,
        &["--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = rows(&out.join("resisc45_knn/results.csv"));
    assert_eq!(r.len(), 2);
    assert!(!out.join("eurosat_sar_knn").exists());
}

/// Writes a task config into `dir` and runs it; the run must fail with one stderr line that
/// contains every `needles`, and must not have created the output folder.
fn rejects(toml: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("task.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = dir.path().join("out");
    let o = eval(&cfg, &out, &[]);
    let err = stderr(&o);
    assert!(!o.status.success(), "accepted:\n{toml}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(!out.exists(), "output written before the error: {err}");
}

fn eurosat_task(extra_dataset: &str, rest: &str) -> String {
    format!(
        "type = \"knn\"\n[dataset]\nid = \"eurosat-sar\"\nroot = \"{}\"\ntrain = \"train\"\n\
         test = \"test\"\n{extra_dataset}\n{rest}",
        datasets().join("eurosat_SAR").display()
    )
}

#[test]
fn unknown_keys_are_named() {
    rejects(
        &eurosat_task("", "[knn]\nks = [3]\nnb_knn = [20]\n"),
        &["task.toml", "unknown field `nb_knn`", "line 10"],
    );
    rejects(
        &eurosat_task("splits = \"x\"", ""),
        &["unknown field `splits`"],
    );
    rejects(
        &format!("batchsize = 4\n{}", eurosat_task("", "")),
        &["unknown field `batchsize`"],
    );
}

#[test]
fn missing_dataset_root_is_rejected() {
    let toml = eurosat_task("", "").replace("eurosat_SAR", "no_such_dataset");
    rejects(
        &toml,
        &["no_such_dataset", "dataset root is not a directory"],
    );
}

#[test]
fn class_count_that_disagrees_with_labels_is_rejected() {
    rejects(
        &eurosat_task("num_classes = 3", ""),
        &[
            "num_classes",
            "= 3",
            "class count disagrees with the labels",
        ],
    );
}

#[test]
fn empty_split_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("eurosat_SAR");
    std::fs::create_dir(&copy).unwrap();
    std::fs::write(copy.join("test.csv"), "filepath,class_name\n").unwrap();
    // Both splits point at the header-only file; the first one opened is reported.
    let toml = eurosat_task("", "")
        .replace(
            &datasets().join("eurosat_SAR").display().to_string(),
            &copy.display().to_string(),
        )
        .replace("train = \"train\"", "train = \"test\"");
    rejects(&toml, &["test", "is empty"]);
}

#[test]
fn other_bad_configs_are_rejected() {
    rejects(
        &eurosat_task("", "").replace("type = \"knn\"", "type = \"svm\""),
        &["`type`", "\"svm\""],
    );
    rejects(
        &eurosat_task("", "[linear]\nepochs = 1\n"),
        &["[knn] table"],
    );
    rejects(
        &(eurosat_task("", "").replace("type = \"knn\"", "type = \"linear\"")
            + "[linear]\nepochs = 2\n"),
        &["dataset.val"],
    );
    rejects(
        &eurosat_task("", "[knn]\nmetrics = [\"accuracy\"]\n"),
        &["knn.metrics", "\"accuracy\""],
    );
    rejects(
        &eurosat_task("", "[transform]\nchn_select = [0, 2]\n"),
        &["transform.chn_select", "0..2"],
    );
    rejects(
        &eurosat_task("", "").replace("id = \"eurosat-sar\"", "id = \"bigearthnet\""),
        &["dataset.id", "bigearthnet"],
    );
    rejects(
        &eurosat_task("", "").replace("test = \"test\"", "test = \"tset\""),
        &["tset.csv", "split file not found"],
    );
}

#[test]
fn too_many_blocks_for_the_model_is_rejected_before_extraction() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("deep.toml");
    std::fs::write(
        &cfg,
        eurosat_task("", "").replace("type = \"knn\"", "type = \"knn\"\nn_last_blocks = 3"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = eval(&cfg, &out, &[]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("n_last_blocks = 3 but the model has only 2 blocks"),
        "{err}"
    );
    assert!(!out.join("features").exists());
}

#[test]
fn nested_task_folders_get_bottom_up_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks");
    let quick = root().join("configs/eval/quick");
    for (src, dst) in [
        ("eurosat_sar_knn", "knn/eurosat"),
        ("resisc45_knn", "more/deep/resisc"),
    ] {
        let text = std::fs::read_to_string(quick.join(format!("{src}.toml"))).unwrap();
        let text = text.replace(
            "../../../tests/fixtures/eval/datasets",
            datasets().to_str().unwrap(),
        );
        let path = tasks.join(format!("{dst}.toml"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let out = dir.path().join("out");
    let o = eval(&tasks, &out, &["--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let relpaths = |p: &str| -> Vec<String> {
        let text = std::fs::read_to_string(out.join(p)).unwrap();
        let mut v: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        v.dedup();
        v
    };
    assert_eq!(relpaths("results.csv"), ["knn/eurosat", "more/deep/resisc"]);
    assert_eq!(relpaths("knn/results.csv"), ["eurosat"]);
    assert_eq!(relpaths("more/results.csv"), ["deep/resisc"]);
    assert_eq!(relpaths("more/deep/results.csv"), ["resisc"]);
    assert_eq!(rows(&out.join("more/deep/resisc/results.csv")).len(), 2);
}

#[test]
fn impossible_k_and_top_k_are_rejected_before_extraction() {
    rejects(
        &eurosat_task("", "[knn]\nks = [5, 31]\n"),
        &["knn.ks", "k = 31 exceeds the 30 samples of split `train`"],
    );
    rejects(
        &eurosat_task("", "[knn]\nmetrics = [\"acc_top-11_micro\"]\n"),
        &["acc_top-11", "num_classes = 10"],
    );
}

const MULTILABEL: [(&str, &[&str], &str); 4] = [
    (
        "benv2_all_lin",
        &["MulLabAvergPrec_micro", "MulLabAvergPrec_macro"],
        "classifier_",
    ),
    (
        "benv2_raw_s1_knn",
        &["MulLabAvergPrec_micro", "MulLabAvergPrec_macro"],
        "knn_k_3",
    ),
    (
        "benv2_s2_knn",
        &[
            "MulLabAvergPrec_micro",
            "MulLabAvergPrec_macro",
            "MulLabF1ScoreMacro_micro",
            "MulLabF1ScoreMacro_macro",
        ],
        "knn_k_",
    ),
    (
        "corine_4c_lin",
        &[
            "MulLabF1ScoreMacro_micro",
            "MulLabF1ScoreMacro_macro",
            "MulLabAvergPrec_micro",
            "MulLabAvergPrec_macro",
        ],
        "classifier_2_blocks_pooling_avgpool_",
    ),
];

#[test]
fn multilabel_tasks_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let tasks = root().join("configs/eval/quick_multilabel");
    let o = eval(&tasks, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("4 run, 0 skipped"), "{err}");
    // Two of the three BENv2 training shards (train_subset 0.67): 8 of 12 samples.
    assert!(err.contains("benv2_all_lin: train features 8/8"), "{err}");
    assert!(err.contains("corine_4c_lin: val features 4/4"), "{err}");
    for (task, metrics, classifier) in MULTILABEL {
        let tdir = out.join(task);
        for f in ["results.csv", "results.json", "results.txt"] {
            assert!(tdir.join(f).is_file(), "{task}/{f} missing");
        }
        let r = rows(&tdir.join("results.csv"));
        let names: Vec<&str> = r.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(names, metrics, "{task}");
        for (m, v) in &r {
            assert!((0.0..=100.0).contains(v), "{task} {m} = {v}");
        }
        let csv = std::fs::read_to_string(tdir.join("results.csv")).unwrap();
        assert!(csv.lines().skip(1).all(|l| l.contains(classifier)), "{csv}");
    }
    // The synthetic BENv2 scenes (one spatial pattern and label set each) are separable for
    // kNN: average precision far above the ~15 % of a random ranking.
    let knn = rows(&out.join("benv2_s2_knn/results.csv"));
    assert!(knn[0].1 >= 60.0, "BENv2 kNN AP micro = {}", knn[0].1);
    let raw = rows(&out.join("benv2_raw_s1_knn/results.csv"));
    assert!(raw[0].1 >= 40.0, "raw BENv2 S1 kNN AP micro = {}", raw[0].1);
    // Softmax-across-labels kNN scores never exceed 0.5, so thresholded F1 is 0.
    assert_eq!(knn[2].1, 0.0);
    let summary = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let n_rows: usize = MULTILABEL.iter().map(|(_, m, _)| m.len()).sum();
    assert_eq!(summary.lines().count(), 1 + n_rows, "{summary}");
    assert!(summary.contains("\ncorine_4c_lin,MulLabAvergPrec_macro,"));
    // 2 + 2 (kNN) + 3 + 3 cached feature files; a second run skips everything.
    assert_eq!(std::fs::read_dir(out.join("features")).unwrap().count(), 10);
    let o = eval(&tasks, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 run, 4 skipped"), "{}", stderr(&o));
}

#[test]
fn multilabel_configs_with_multiclass_metrics_are_rejected() {
    let toml = format!(
        "type = \"knn\"\n[dataset]\nid = \"benv2_webdataset\"\nbands = \"s1\"\nroot = \"{}\"\n\
         train = \"train\"\ntest = \"test\"\n[knn]\nmetrics = [\"acc_top-1_micro\"]\n",
        datasets().join("benv2/wds").display()
    );
    rejects(&toml, &["knn.metrics", "the dataset is multilabel"]);
    rejects(
        &toml
            .replace("bands = \"s1\"\n", "")
            .replace("[knn]\nmetrics = [\"acc_top-1_micro\"]\n", ""),
        &["dataset.bands"],
    );
    rejects(
        &toml
            .replace("test = \"test\"", "test = \"tset\"")
            .replace("metrics = [\"acc_top-1_micro\"]", "ks = [3]"),
        &["tset-s1", "no such webdataset folder"],
    );
}

#[test]
fn geobench_tasks_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = eval(&root().join("configs/eval/quick_geobench"), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("4 run, 0 skipped"), "{err}");
    assert!(err.contains("so2sat_lin: val features 4/4"), "{err}");
    // train_subset 0.5 of m-bigearthnet's 8 training samples.
    assert!(err.contains("bigearthnet_lin: train features 4/4"), "{err}");
    let knn = rows(&out.join("so2sat_knn/results.csv"));
    let names: Vec<&str> = knn.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        names,
        ["acc_top-1_micro", "acc_top-1_macro", "acc_top-3_micro"]
    );
    // One pattern per class in the synthetic m-so2sat: kNN beats the 25 % of chance.
    assert!(knn[0].1 > 25.0, "so2sat kNN top-1 = {}", knn[0].1);
    assert!(knn[2].1 >= knn[0].1, "top-3 below top-1: {knn:?}");
    let lin = rows(&out.join("so2sat_lin/results.csv"));
    assert_eq!(lin.len(), 2);
    assert!(
        lin.iter().all(|(_, v)| (0.0..=100.0).contains(v)),
        "{lin:?}"
    );
    // m-bigearthnet: multilabel metrics over its 43 labels (numpy multi-hot targets).
    for (task, classifier) in [
        ("bigearthnet_knn", "knn_k_"),
        ("bigearthnet_lin", "classifier_"),
    ] {
        let r = rows(&out.join(task).join("results.csv"));
        let names: Vec<&str> = r.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            names,
            ["MulLabAvergPrec_micro", "MulLabAvergPrec_macro"],
            "{task}"
        );
        assert!(
            r.iter().all(|(_, v)| (0.0..=100.0).contains(v)),
            "{task}: {r:?}"
        );
        let csv = std::fs::read_to_string(out.join(task).join("results.csv")).unwrap();
        assert!(csv.lines().skip(1).all(|l| l.contains(classifier)), "{csv}");
    }
    // Four scenes, one spatial pattern and label set each: kNN AP micro far above the
    // ~6 % (2.5 of 43 labels positive) of a random ranking.
    let ben = rows(&out.join("bigearthnet_knn/results.csv"));
    assert!(
        ben[0].1 >= 50.0,
        "m-bigearthnet kNN AP micro = {}",
        ben[0].1
    );
}

#[test]
fn probes_learn_through_the_model_on_a_separable_dataset() {
    // Self-check of the whole chain (GeoTIFF reader, normalisation, resize, tiny-model
    // features, kNN, probe training and selection): the separable 4-class EuroSAT-SAR
    // fixture (one stripe orientation / backscatter level per class) must be classified
    // almost perfectly on its 24-sample test split, by kNN and by the selected probe.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = eval(&root().join("configs/eval/quick_separable"), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("2 run, 0 skipped"), "{err}");
    assert!(
        err.contains("eurosat_sar_knn: test features 24/24"),
        "{err}"
    );
    assert!(err.contains("eurosat_sar_lin: val features 12/12"), "{err}");
    for task in ["eurosat_sar_knn", "eurosat_sar_lin"] {
        let r = rows(&out.join(task).join("results.csv"));
        let names: Vec<&str> = r.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(names, ["acc_top-1_micro", "acc_top-1_macro"], "{task}");
        for (m, v) in &r {
            assert!(*v > 90.0, "{task} {m} = {v} (must exceed 90 %)");
        }
    }
}

/// `--model RUN_DIR` evaluates a training run's newest teacher (its preset read from the run's
/// config.toml, no `--config`), `--set` overrides every task that has the section, and an
/// override no task can take is refused before any work.
#[test]
fn a_training_run_and_set_overrides() {
    use panopticon::train::{TrainConfig, train};
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut cfg = TrainConfig::from_file(root().join("configs/train/quick_check.toml")).unwrap();
    let ds = root().join("tests/fixtures/data/datasets");
    cfg.data.spectral_earth = Some(ds.join("spectral_earth"));
    cfg.data.satlas_root = None;
    cfg.data.satlas_metadata = None;
    cfg.data.batch_size = 2;
    cfg.data.n_local = 2;
    cfg.run.output_dir = run.clone();
    cfg.run.max_iters = Some(2);
    cfg.run.checkpoint_every = 2;
    let dev = burn::prelude::Device::default().autodiff();
    train(&cfg, &dev, false, None).unwrap();

    let task = root().join("configs/eval/quick/eurosat_sar_knn.toml");
    let out = dir.path().join("eval");
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .args(["eval", "--model", run.to_str().unwrap(), "--quiet"])
        .args([
            "--tasks",
            task.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--set", "knn.ks=[1]"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r = rows(&out.join("eurosat_sar_knn/results.csv"));
    assert_eq!(r.len(), 2);
    let csv = std::fs::read_to_string(out.join("eurosat_sar_knn/results.csv")).unwrap();
    assert!(csv.contains("knn_k_1"), "{csv}");

    let o = eval(
        &task,
        &dir.path().join("bad"),
        &["--set", "linear.epochs=3"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no task"), "{}", stderr(&o));
    assert!(!dir.path().join("bad").exists());
}
