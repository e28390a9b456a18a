//! The `panopticon` command-line tool.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(err) = cli::run(args) {
        eprintln!("error: {}", one_line(&err));
        std::process::exit(cli::exit_code(&err));
    }
}

/// The error and its causes on one line, skipping a cause the message above already quotes
/// (the library errors embed their source in their own text).
fn one_line(err: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    msg.replace('\n', " ")
}
