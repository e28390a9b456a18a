//! Developer tasks: `cargo xtask <task>`.

/// The conversion the `panopticon weights convert` CLI runs, compiled here on its own. Its
/// argument docs are clap help text (`[default: …]`, `cuda[:N]`), not rustdoc links.
#[path = "../../src/import.rs"]
#[allow(rustdoc::broken_intra_doc_links)]
mod import;
mod offline_llvm;

use clap::{Parser, Subcommand};

/// Developer tasks of the panopticon workspace.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask")]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Install the static LLVM 23 (with NVPTX) that Burn's `cuda` feature needs, from PyPI
    /// wheels, where its build script would otherwise download it from GitHub.
    OfflineLlvm(offline_llvm::Args),
    /// Convert an official PyTorch checkpoint to a verified Burn burnpack (`.bpk`).
    ImportWeights(import::ImportArgs),
}

fn main() -> anyhow::Result<()> {
    match Xtask::parse().task {
        Task::OfflineLlvm(args) => offline_llvm::run(args),
        Task::ImportWeights(args) => import::run(args),
    }
}
