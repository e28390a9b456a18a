//! Table-driven bad-input suite for `embed`, `pca`, `forward`, `info`, `bench`, `weights` and
//! `eval`: one row per case, each run under a 4 GiB address-space limit (`ulimit -v`, so an
//! over-allocation fails the row instead of the machine), each asserting exit code 1 (2 for
//! what clap refuses as syntax), one `error:` line naming the problem, no panic or abort, and
//! no file left behind (neither in the output folder nor next to the inputs). The inputs are
//! crafted here, from the tiny-model fixtures: among them headers of a few hundred bytes
//! claiming 4e9² (TIFF), 30000² (PNG) and 16384² (JPEG) pixels. `panopticon-train`'s rows are
//! in `crates/panopticon-train/tests/bad_input_table.rs`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{BoolStore, DType};
use common::tiny_dir;
use panopticon::PanopticonConfig;
use panopticon::data::write_geotiff_f32;
use panopticon::tensor_io::{read_safetensors, write_safetensors};

/// Address-space limit of every run, in KiB (4 GiB).
const MEMORY_LIMIT_KIB: u64 = 4 << 20;

/// Runs the binary under the memory limit, in `cwd`.
fn run(args: &[String], cwd: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_panopticon"))
        .args(args)
        .current_dir(cwd)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", cwd.join(".hf"))
        .env("PANOPTICON_CACHE", cwd.join(".cache"))
        .env_remove("PANOPTICON_MAX_TOKENS")
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

#[path = "bad_input_table/args.rs"]
mod args;
#[path = "bad_input_table/crafted.rs"]
mod crafted;
#[path = "bad_input_table/fixtures.rs"]
mod fixtures;
#[path = "bad_input_table/rows_embed.rs"]
mod rows_embed;
#[path = "bad_input_table/rows_forward.rs"]
mod rows_forward;
#[path = "bad_input_table/rows_tools.rs"]
mod rows_tools;

use crafted::*;
use fixtures::build_fixtures;

/// `(name, arguments, what the error line must contain)`. `{fx}` is the fixture folder,
/// `{out}` the row's (initially empty) output folder, `{tiny}` the tiny-model fixtures.
type Row = (&'static str, &'static str, &'static str);

fn table() -> Vec<Row> {
    [rows_embed::rows(), rows_forward::rows(), rows_tools::rows()].concat()
}

/// Rows clap refuses as command-line syntax: exit status 2 (as documented), one error line.
fn syntax_table() -> Vec<(&'static str, &'static str, &'static str)> {
    const EMB: &str = "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif \
                       --wavelengths 665,560,490 -o {out}/e.safetensors";
    let emb = |rest: &'static str| -> &'static str {
        Box::leak(format!("{EMB} {rest}").into_boxed_str())
    };
    vec![
        ("embed --tile -8", emb("--tile=-8"), "'-8'"),
        ("embed --batch -1", emb("--batch=-1"), "'-1'"),
        ("embed --stride 1e3", emb("--stride 1e3"), "'1e3'"),
        (
            "embed --tile 2^64",
            emb("--tile 18446744073709551616"),
            "18446744073709551616",
        ),
        (
            "embed --max-memory 8X",
            emb("--max-memory 8X"),
            "unknown unit",
        ),
        ("embed --max-memory -1G", emb("--max-memory=-1G"), "-1G"),
        (
            "pca --tile -8",
            "pca --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665 -o {out}/p.png --tile=-8",
            "'-8'",
        ),
        (
            "fwd --max-pixels -1",
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/o.safetensors --max-pixels=-1",
            "'-1'",
        ),
    ]
}

fn expand(args: &str, fx: &Path, out: &Path) -> Vec<String> {
    args.split_whitespace()
        .map(|a| {
            a.replace("{fx}", fx.to_str().unwrap())
                .replace("{out}", out.to_str().unwrap())
                .replace("{tiny}", tiny_dir().to_str().unwrap())
                .replace("{samples}", concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
        })
        .collect()
}

#[test]
fn every_bad_input_is_one_clear_line_with_nothing_left_behind() {
    let root = tempfile::tempdir().unwrap();
    let fx = root.path().join("fx");
    std::fs::create_dir_all(&fx).unwrap();
    build_fixtures(&fx);
    let fixtures_before = files(&fx);

    // The limit must not get in the way of a good run.
    let out = root.path().join("good");
    std::fs::create_dir_all(&out).unwrap();
    let ok = run(
        &expand(
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/o.safetensors",
            &fx,
            &out,
        ),
        &out,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let rows: Vec<_> = (table().into_iter().map(|(n, a, e)| (n, a, e, 1)))
        .chain(syntax_table().into_iter().map(|(n, a, e)| (n, a, e, 2)))
        .collect();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for (i, (name, args, needle, code)) in rows.iter().enumerate() {
        assert!(names.insert(*name), "duplicate row name {name}");
        let out = root.path().join(format!("out{i}"));
        std::fs::create_dir_all(&out).unwrap();
        let res = run(&expand(args, &fx, &out), &out);
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
        let left: Vec<_> = files(&out)
            .into_iter()
            .filter(|p| !p.starts_with(".hf") && !p.starts_with(".cache"))
            .collect();
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
    assert!(rows.len() >= 120, "{} rows", rows.len());
}
