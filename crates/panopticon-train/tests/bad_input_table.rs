//! Table-driven bad-input suite for the `panopticon-train` binary (the CLI's own table is
//! the root crate's `tests/bad_input_table.rs`): one row per case, each run under a 4 GiB
//! address-space limit (`ulimit -v`), each asserting exit code 1 (2 for what clap refuses as
//! syntax), one `error:` line naming the problem, no panic, and no file left behind: a bad
//! config, a missing data path or an unusable output directory is refused before the run
//! directory gets anything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Address-space limit of every run, in KiB (4 GiB).
const MEMORY_LIMIT_KIB: u64 = 4 << 20;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn run(args: &[String]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_panopticon-train"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("sh runs")
}

/// Every file (not directory) under `dir`, relative.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

/// `(name, arguments after the quick_check config, what the error line must contain, exit
/// code)`. `{out}` is the row's folder (the run directory is `{out}/run` unless a row says
/// otherwise), `{fx}` the shared crafted inputs.
fn table() -> Vec<(&'static str, &'static str, &'static str, i32)> {
    const RUN: &str = "--output-dir {out}/run --max-iters 2";
    let set = |kv: &'static str| -> &'static str {
        Box::leak(format!("{RUN} --set {kv}").into_boxed_str())
    };
    vec![
        // config values
        (
            "batch_size 0",
            set("data.batch_size=0"),
            "data.batch_size",
            1,
        ),
        ("batch_size -1", set("data.batch_size=-1"), "batch_size", 1),
        (
            "batch_size 1e20",
            set("data.batch_size=100000000000000000000"),
            "batch_size",
            1,
        ),
        (
            "global_size off the patch grid",
            set("data.global_size=30"),
            "data.global_size",
            1,
        ),
        (
            "global_size 0",
            set("data.global_size=0"),
            "data.global_size",
            1,
        ),
        (
            "global_channels [0, 4]",
            set("data.global_channels=[0,4]"),
            "data.global_channels",
            1,
        ),
        (
            "local_channels [5, 4]",
            set("data.local_channels=[5,4]"),
            "data.local_channels",
            1,
        ),
        (
            "preset unknown",
            set("model.preset=vit_zz"),
            "model.preset",
            1,
        ),
        (
            "head prototypes 0",
            set("model.head_n_prototypes=0"),
            "model.head_n_prototypes",
            1,
        ),
        (
            "centering unknown",
            set("loss.centering=foo"),
            "loss.centering",
            1,
        ),
        ("lr NaN", set("optim.lr=nan"), "optim.lr", 1),
        ("lr negative", set("optim.lr=-1.0"), "optim.lr", 1),
        (
            "epoch_length 0",
            set("run.epoch_length=0"),
            "run.epoch_length",
            1,
        ),
        (
            "accumulation 0",
            set("optim.gradient_accumulation_steps=0"),
            "gradient_accumulation_steps",
            1,
        ),
        (
            "layerscale NaN",
            set("model.layerscale=nan"),
            "model.layerscale",
            1,
        ),
        ("unknown key", set("run.no_such_key=1"), "no_such_key", 1),
        ("--set without =", set("run.seed"), "run.seed", 1),
        (
            "--max-iters 0",
            "--output-dir {out}/run --max-iters 0",
            "run.max_iters",
            1,
        ),
        // data paths
        (
            "spectral_earth missing",
            set("data.spectral_earth=/nonexistent/spectral_earth"),
            "/nonexistent/spectral_earth",
            1,
        ),
        (
            "satlas_metadata missing",
            set("data.satlas_metadata=/nonexistent/meta.jsonl"),
            "/nonexistent/meta.jsonl",
            1,
        ),
        // the config file
        (
            "config missing",
            "--config {fx}/nope.toml --output-dir {out}/run",
            "nope.toml",
            1,
        ),
        (
            "config garbage",
            "--config {fx}/garbage.toml --output-dir {out}/run",
            "garbage.toml",
            1,
        ),
        // the output
        (
            "output dir is a file",
            "--output-dir {fx}/a_file --max-iters 2",
            "a_file",
            1,
        ),
        (
            "checkpoint dir is a file",
            "--output-dir {fx}/ckpt_is_file --max-iters 2",
            "checkpoints",
            1,
        ),
        (
            "output dir unwritable",
            "--output-dir /proc/panopticon-run --max-iters 2",
            "/proc/panopticon-run",
            1,
        ),
        (
            "device unknown",
            "--output-dir {out}/run --device tpu",
            "tpu",
            1,
        ),
        // syntax (clap)
        (
            "--max-iters -1",
            "--output-dir {out}/run --max-iters=-1",
            "'-1'",
            2,
        ),
    ]
}

#[test]
fn every_bad_train_input_is_one_clear_line_with_nothing_left_behind() {
    let root = tempfile::tempdir().unwrap();
    let fx = root.path().join("fx");
    std::fs::create_dir_all(fx.join("ckpt_is_file")).unwrap();
    std::fs::write(fx.join("ckpt_is_file/checkpoints"), "x").unwrap();
    std::fs::write(fx.join("a_file"), "x").unwrap();
    std::fs::write(fx.join("garbage.toml"), "[run\noutput_dir = ").unwrap();
    let fixtures_before = files(&fx);

    let rows = table();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for (i, (name, args, needle, code)) in rows.iter().enumerate() {
        assert!(names.insert(*name), "duplicate row name {name}");
        let out = root.path().join(format!("out{i}"));
        std::fs::create_dir_all(&out).unwrap();
        let mut argv: Vec<String> = Vec::new();
        if !args.contains("--config") {
            argv.extend(["--config".into(), "configs/train/quick_check.toml".into()]);
        }
        argv.extend(args.split_whitespace().map(|a| {
            a.replace("{fx}", fx.to_str().unwrap())
                .replace("{out}", out.to_str().unwrap())
        }));
        let res = run(&argv);
        let stderr = String::from_utf8_lossy(&res.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        let mut problems = Vec::new();
        if res.status.code() != Some(*code) {
            problems.push(format!("exit status {:?}", res.status));
        }
        if stderr.contains("panicked") || stderr.contains("memory allocation of") {
            problems.push("panic or abort".to_string());
        }
        match errors[..] {
            [line] if line.contains(needle) => {}
            [line] => problems.push(format!("error line lacks `{needle}`: {line}")),
            _ => problems.push(format!("{} error lines", errors.len())),
        }
        let left = files(&out);
        if !left.is_empty() {
            problems.push(format!("left behind: {left:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n  stderr: {stderr}",
                problems.join("; ")
            ));
        }
    }
    assert_eq!(
        files(&fx),
        fixtures_before,
        "files appeared next to the inputs"
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}
