//! The `panopticon` command-line tool.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(err) = cli::run(args) {
        eprintln!("error: {}", cli::one_line(&err));
        std::process::exit(cli::exit_code(&err));
    }
}
