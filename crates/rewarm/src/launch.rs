//! `rewarm launch`: starts N ranks of a `rewarm` command on this machine with the environment
//! torchrun gives its workers (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`,
//! `MASTER_ADDR`, `MASTER_PORT`), watches them, and when one fails names it, gives the others
//! a grace period to report what they saw, then stops them.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

pub struct LaunchOptions {
    pub nproc: usize,
    /// The rendezvous port on 127.0.0.1 (a free one when not given).
    pub master_port: Option<u16>,
    /// The program every rank runs and its arguments.
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// How long the other ranks may take to end by themselves after one failed.
    pub grace: Duration,
}

/// What ended a rank, in words.
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited with status {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        _ => "ended".into(),
    }
}

/// A free TCP port on the loopback address.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .context("finding a free port for the rendezvous")?
        .local_addr()?
        .port())
}

/// Runs the ranks to the end. Errors name the first rank that failed and how.
pub fn launch(o: &LaunchOptions) -> Result<()> {
    // Ranks of one machine: one per core or GPU; far more is a typo, not a run.
    const MAX_NPROC: usize = 1024;
    if o.nproc == 0 || o.nproc > MAX_NPROC {
        bail!("--nproc must be between 1 and {MAX_NPROC}, got {}", o.nproc);
    }
    let port = match o.master_port {
        Some(p) => p,
        None => free_port()?,
    };
    // As torchrun: one intra-op thread pool per rank sized to its share of the cores, unless
    // the user chose.
    let threads = std::env::var_os("OMP_NUM_THREADS").is_none().then(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / o.nproc).max(1)
    });
    let mut children: Vec<(usize, Child)> = Vec::with_capacity(o.nproc);
    for rank in 0..o.nproc {
        let mut cmd = Command::new(&o.program);
        cmd.args(&o.args)
            .env("RANK", rank.to_string())
            .env("LOCAL_RANK", rank.to_string())
            .env("WORLD_SIZE", o.nproc.to_string())
            .env("LOCAL_WORLD_SIZE", o.nproc.to_string())
            .env("MASTER_ADDR", "127.0.0.1")
            .env("MASTER_PORT", port.to_string());
        if let Some(t) = threads {
            cmd.env("OMP_NUM_THREADS", t.to_string());
        }
        match cmd.spawn() {
            Ok(c) => children.push((rank, c)),
            Err(e) => {
                stop(&mut children);
                return Err(e)
                    .with_context(|| format!("starting rank {rank}: {}", o.program.display()));
            }
        }
    }
    // `children` holds the ranks still running.
    let mut failed: Option<(usize, String, Instant)> = None;
    while !children.is_empty() {
        let mut i = 0;
        while i < children.len() {
            let (rank, child) = &mut children[i];
            let Some(status) = child.try_wait()? else {
                i += 1;
                continue;
            };
            if !status.success() && failed.is_none() {
                let what = describe(status);
                eprintln!(
                    "rewarm launch: rank {rank} (pid {}) {what}; waiting up to {} s for the other ranks to end",
                    child.id(),
                    o.grace.as_secs()
                );
                failed = Some((*rank, what, Instant::now()));
            }
            children.swap_remove(i);
        }
        if let Some((_, _, at)) = &failed {
            if !children.is_empty() && at.elapsed() > o.grace {
                eprintln!(
                    "rewarm launch: stopping the {} rank(s) still running",
                    children.len()
                );
                stop(&mut children);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    match failed {
        Some((rank, what, _)) => bail!(
            "rank {rank} of {} {what}; the run stopped (its last complete checkpoint stays valid: `train --resume` continues a run, `study` run again continues a study)",
            o.nproc
        ),
        None => Ok(()),
    }
}

/// Ends every rank still running: SIGTERM, then SIGKILL after 5 s.
fn stop(children: &mut [(usize, Child)]) {
    for (_, c) in children.iter() {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    for (_, c) in children.iter_mut() {
        while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if matches!(c.try_wait(), Ok(None)) {
            let _ = c.kill();
        }
        let _ = c.wait();
    }
}
