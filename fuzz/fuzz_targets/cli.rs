//! Structure-aware fuzzing of the `panopticon` command line: an `arbitrary`-derived
//! invocation (a subcommand, then flags of that subcommand taken from clap's own command tree,
//! each with a value from a table of edge cases and fixture paths, a number, a list or free
//! text) goes through clap (`Cli::try_parse_from`), and a parsed `embed`, `pca`, `info`,
//! `forward`, `sensors` or `presets` invocation through the CLI's own `run`: every argument
//! check up to the model load. No model is loaded or run: invocations whose weights name an
//! existing file are parsed only, and no value is a weights file or a URL (`://` is refused,
//! so nothing reaches the network). `bench`, `eval` and `weights` are parsed only. Errors are
//! fine; a panic, a hang or a huge allocation is a finding.
#![no_main]

#[allow(dead_code, unused_imports)]
#[path = "../../src/cli/mod.rs"]
mod cli;

use std::path::Path;
use std::sync::OnceLock;

use clap::{CommandFactory, Parser};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

macro_rules! fixture {
    ($p:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/", $p)
    };
}

/// Values worth trying for any flag: zeros, signs, overflows, non-numbers, enum spellings,
/// small fixture inputs, missing and unwritable paths, every output extension.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "14",
    "224",
    "65535",
    "4294967296",
    "18446744073709551616",
    "1e300",
    "-0",
    "NaN",
    "inf",
    "",
    ",",
    "cpu",
    "cuda:7",
    "wgpu",
    "scene",
    "none",
    "f16",
    "f32",
    "vitb14",
    "vits14",
    "tiny",
    "teacher",
    "student",
    "sentinel2_l2a",
    "sentinel1",
    "landsat8_9",
    "B04,B03,B02",
    "B04,B04",
    "665,560,490",
    "vv-asc,vh-asc",
    "vv,xx",
    "-5,abc",
    "0/2",
    "3/2",
    "red=",
    "/nonexistent/weights.pth",
    "/nonexistent/dir/out.npy",
    "/",
    "fuzz-out.safetensors",
    "fuzz-out.npy",
    "fuzz-out.parquet",
    "fuzz-out.tif",
    "fuzz-out.zarr",
    "fuzz-out.png",
    "fuzz-out.txt",
    fixture!("data/geotiff/u8_strip_none_pixel.tif"),
    fixture!("data/geotiff/cog_f32_deflate.tif"),
    fixture!("data/png/rgb_u8.png"),
    fixture!("data/jpeg/gray.jpg"),
    fixture!("data/geotiff"),
    fixture!("eval/knn.json"),
    fixture!("panopticon-tiny/manifest.json"),
];

/// Subcommands whose `run` is driven (the others are parsed only).
const RUN: &[&str] = &["embed", "pca", "info", "forward", "sensors", "presets"];

#[derive(Arbitrary, Debug)]
enum Value {
    Known(u8),
    Int(i64),
    Float(f64),
    List(Vec<u8>),
    Text(String),
}

impl Value {
    fn render(&self) -> String {
        match self {
            Value::Known(i) => VALUES[*i as usize % VALUES.len()].to_string(),
            Value::Int(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::List(ix) => ix
                .iter()
                .take(8)
                .map(|i| VALUES[*i as usize % VALUES.len()])
                .collect::<Vec<_>>()
                .join(","),
            Value::Text(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Arg {
    /// A flag of the chosen subcommand (by index), with a value if it takes one, as
    /// `--flag value` or `--flag=value`.
    Flag {
        which: u8,
        value: Value,
        joined: bool,
    },
    /// A positional value.
    Positional(Value),
    /// Anything at all.
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Invocation {
    sub: u8,
    nested: Option<u8>,
    args: Vec<Arg>,
}

/// Every subcommand path (`["embed"]`, `["embed", "collect"]`, …) with its long flags and
/// whether each takes a value.
type Flags = Vec<(String, bool)>;

fn tree() -> &'static Vec<(Vec<String>, Flags, Vec<(String, Flags)>)> {
    static TREE: OnceLock<Vec<(Vec<String>, Flags, Vec<(String, Flags)>)>> = OnceLock::new();
    TREE.get_or_init(|| {
        let flags = |c: &clap::Command| -> Flags {
            c.get_arguments()
                .filter_map(|a| {
                    let long = a.get_long()?;
                    Some((format!("--{long}"), a.get_action().takes_values()))
                })
                .collect()
        };
        cli::Cli::command()
            .get_subcommands()
            .map(|s| {
                let nested = s
                    .get_subcommands()
                    .map(|n| (n.get_name().to_string(), flags(n)))
                    .collect();
                (vec![s.get_name().to_string()], flags(s), nested)
            })
            .collect()
    })
}

/// A scratch working directory of this process, so relative outputs land there.
fn enter_scratch_dir() {
    static DIR: OnceLock<()> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("panopticon-fuzz-{}-cli", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        std::env::set_current_dir(&dir).expect("enter the scratch directory");
    });
}

fuzz_target!(|inv: Invocation| {
    enter_scratch_dir();
    let tree = tree();
    let (path, flags, nested) = &tree[inv.sub as usize % tree.len()];
    let mut flags: &Flags = flags;
    let mut argv: Vec<String> = vec!["panopticon".into()];
    argv.extend(path.iter().cloned());
    if let (Some(n), false) = (inv.nested, nested.is_empty()) {
        let (name, f) = &nested[n as usize % nested.len()];
        argv.push(name.clone());
        flags = f;
    }
    for arg in inv.args.iter().take(24) {
        match arg {
            Arg::Flag {
                which,
                value,
                joined,
            } if !flags.is_empty() => {
                let (flag, takes) = &flags[*which as usize % flags.len()];
                match (takes, joined) {
                    (false, _) => argv.push(flag.clone()),
                    (true, true) => argv.push(format!("{flag}={}", value.render())),
                    (true, false) => argv.extend([flag.clone(), value.render()]),
                }
            }
            Arg::Flag { value, .. } | Arg::Positional(value) => argv.push(value.render()),
            Arg::Raw(s) => argv.push(s.clone()),
        }
    }
    // No network, and no glob outside the scratch directory: `/*/*/*/…` or `**` under `/`
    // walks the fuzzing machine's filesystem (minutes, bounded by its size: what the user
    // asked for, not a hang).
    if argv
        .iter()
        .any(|a| a.contains("://") || escapes_with_a_glob(a))
    {
        return;
    }
    let Ok(parsed) = cli::Cli::try_parse_from(&argv) else {
        return;
    };
    if !RUN.contains(&argv[1].as_str()) || names_existing_weights(&argv) {
        return;
    }
    let _ = cli::run(parsed);
});

/// Whether the invocation would load a model: `--weights` (or `info`'s positional) naming an
/// existing file.
fn names_existing_weights(argv: &[String]) -> bool {
    let exists = |s: &str| !s.is_empty() && Path::new(s).exists();
    if argv[1] == "info" {
        return argv[2..].iter().any(|a| exists(a));
    }
    argv.windows(2)
        .any(|w| w[0] == "--weights" && exists(&w[1]))
        || argv
            .iter()
            .any(|a| a.strip_prefix("--weights=").is_some_and(exists))
}

/// Whether `arg` is a glob (`*`, `?`, `[`) that may walk outside the scratch directory: a
/// recursive `**`, or a pattern with a path separator or `..` (the fuzzer's slow ones walked
/// from `/`).
fn escapes_with_a_glob(arg: &str) -> bool {
    arg.contains("**")
        || (arg.contains(['*', '?', '[']) && (arg.contains('/') || arg.contains("..")))
}
