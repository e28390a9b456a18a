//! Developer tasks: `cargo xtask <task>`.

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
    ImportWeights(panopticon::import::ImportArgs),
}

fn main() -> anyhow::Result<()> {
    match Xtask::parse().task {
        Task::OfflineLlvm(args) => offline_llvm::run(args),
        Task::ImportWeights(args) => panopticon::import::run(args),
    }
}
