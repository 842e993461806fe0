//! `rewarm`: continual pre-training of GPT-NeoX / Pythia models with learning-rate re-warming.
//! This file only parses and dispatches; the command line and each subcommand live in
//! `rewarm::cmd`.

use clap::Parser;
use rewarm::cmd;

fn main() {
    match cmd::run(cmd::Cli::parse()) {
        Ok(()) => {}
        Err(e) if outdir::is_broken_pipe(&e) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
