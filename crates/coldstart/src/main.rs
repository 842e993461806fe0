//! `coldstart`: read the Huawei Cloud 2025 cold-start trace, store it columnar, query it
//! with SQL, reproduce the paper's analyses, and generate synthetic releases. This file only
//! parses and dispatches; each subcommand lives in `coldstart::cmd`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coldstart::cmd;

#[derive(Parser)]
#[command(
    name = "coldstart",
    version,
    about = "Serverless cold-start analytics on the Huawei Cloud 2025 trace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic release in the published layout.
    Synth(cmd::synth::Args),
    /// Read a release (folders or zip archives) into a Parquet store.
    Ingest(cmd::ingest::Args),
    /// Run a query (SELECT, WITH, EXPLAIN) on a store (tables: cold_starts, requests,
    /// functions, minute_metrics). The session is read-only: no DDL, DML, COPY or SET.
    Sql(cmd::sql::Args),
    /// List the tables of a store with their schemas and row counts.
    Tables(cmd::tables::Args),
    /// Every analysis of the paper: CSV tables, SVG charts and one index.html.
    Report(cmd::report::Args),
    /// Print one analysis's table (e.g. fig10a, fig17; `list` names them all).
    Analyze(cmd::analyze::Args),
    /// CDF of any numeric column, streamed from the store (log-binned, exact at bin edges).
    Cdf(cmd::cdf::Args),
    /// Maximum-likelihood LogNormal, Weibull, gamma and exponential fits, with KS distances.
    Fit(cmd::fit::Args),
    /// Replay a workload (a store's requests or the synthetic model) under cold-start policies
    /// and compare them: CSV, SVG charts and one index.html.
    Simulate(Box<cmd::simulate::Args>),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Synth(a) => cmd::synth::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Sql(a) => cmd::sql::run(a),
        Command::Tables(a) => cmd::tables::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Cdf(a) => cmd::cdf::run(a),
        Command::Fit(a) => cmd::fit::run(a),
        Command::Simulate(a) => cmd::simulate::run(*a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if outdir::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldstart: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
