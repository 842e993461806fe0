//! `rewarm`: continual pre-training of GPT-NeoX / Pythia models with learning-rate re-warming.
//! This file only parses and dispatches; each subcommand lives in `rewarm::cmd`.

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
use rewarm::cmd;

/// Continual pre-training of GPT-NeoX / Pythia models with learning-rate re-warming.
#[derive(Parser)]
#[command(name = "rewarm", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
    /// Hide progress bars.
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Tokenise text / JSON lines (.jsonl, .jsonl.zst) / Parquet into packed token shards.
    Tokenize(cmd::tokenize::Args),
    /// Print (and draw) the learning rate per step of a run config.
    Schedule(cmd::schedule::Args),
    /// Train or continue training from a run config (TOML).
    Train(cmd::train::Args),
    /// Run N ranks of a rewarm command on this machine, data-parallel, as torchrun would:
    /// `rewarm launch --nproc 2 -- train --config run.toml` (or `-- study ...`).
    Launch(cmd::launch::Args),
    /// Loss and perplexity of a checkpoint on token folders.
    Eval(cmd::eval::Args),
    /// Write a randomly initialised Hugging Face checkpoint (preset or config.json).
    Init(cmd::init::Args),
    /// Run a continual pre-training study (the paper's grid) from a study config; resumable.
    /// Under a launcher (torchrun, srun, `rewarm launch`) each run trains on all the ranks.
    Study(cmd::study::Args),
    /// Write a study's report (HTML with SVG charts, findings checked), or one run's curves.
    Report(cmd::report::Args),
    /// Two-domain toy study with no downloads: pre-train, then continue with and without re-warming.
    Demo(cmd::demo::Args),
}

fn main() {
    match run(Cli::parse()) {
        Ok(()) => {}
        Err(e) if outdir::is_broken_pipe(&e) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let progress = !cli.quiet;
    if let Some(w) = rewarm::dist::World::from_env()? {
        if !matches!(cli.cmd, Command::Train(_) | Command::Study(_)) {
            bail!(
                "this process is rank {} of {} ({}), but only `rewarm train` and `rewarm study` run data-parallel; run this command as one process",
                w.rank,
                w.size,
                w.source
            );
        }
    }
    match cli.cmd {
        Command::Tokenize(a) => cmd::tokenize::run(a, progress),
        Command::Schedule(a) => cmd::schedule::run(a),
        Command::Train(a) => cmd::train::run(a, progress),
        Command::Launch(a) => cmd::launch::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Init(a) => cmd::init::run(a),
        Command::Study(a) => cmd::study::run(a, progress),
        Command::Report(a) => cmd::report::run(a),
        Command::Demo(a) => cmd::demo::run(a, progress),
    }
}
