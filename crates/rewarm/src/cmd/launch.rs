//! `rewarm launch`: N ranks of a rewarm command on this machine, as torchrun would.

use crate::launch;
use anyhow::{Context, Result};

#[derive(clap::Args)]
pub struct Args {
    /// Processes (ranks) to start: at most the machine's cores, and as many as its memory
    /// holds.
    #[arg(long, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=launch::MAX_NPROC as u64))]
    nproc: usize,
    /// Rendezvous port on 127.0.0.1 (default: a free one).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    master_port: Option<u16>,
    /// Seconds the other ranks get to end by themselves after one fails.
    #[arg(long, default_value_t = 30)]
    grace: u64,
    /// The rewarm command each rank runs, after `--`.
    #[arg(last = true, required = true)]
    command: Vec<std::ffi::OsString>,
}

pub fn run(a: Args) -> Result<()> {
    launch::launch(&launch::LaunchOptions {
        nproc: a.nproc,
        master_port: a.master_port,
        program: std::env::current_exe().context("locating the rewarm executable")?,
        args: a.command,
        grace: std::time::Duration::from_secs(a.grace),
    })
}
