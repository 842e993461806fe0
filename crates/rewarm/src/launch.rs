//! `rewarm launch`: starts N ranks of a `rewarm` command on this machine with the environment
//! torchrun gives its workers (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`,
//! `MASTER_ADDR`, `MASTER_PORT`), watches them, and when one fails names it, gives the others
//! a grace period to report what they saw, then stops them. SIGTERM and SIGINT sent to the
//! launcher are forwarded to the ranks, and a rank dies with its launcher (the parent-death
//! signal), so no rank trains on after the launcher is gone.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// Ranks of one machine: one per core or GPU; far more is a typo, not a run.
pub const MAX_NPROC: usize = 1024;

/// Private memory a rank holds before its model: libtorch, its thread pools and the process
/// group. Measured: each rank of `rewarm launch --nproc 2 -- train` on a 2-layer model held
/// 188 MB of anonymous memory (`RssAnon` in `/proc/PID/status`), debug and release builds alike.
pub const RANK_MEMORY: u64 = 192 << 20;

/// Checks `nproc` against the machine: at most one rank per core (`cores`), and no more than
/// `available` bytes of memory hold at [`RANK_MEMORY`] a rank. The error gives the limit and
/// why.
pub fn check_nproc(nproc: usize, cores: usize, available: Option<u64>) -> Result<()> {
    if nproc == 0 || nproc > MAX_NPROC {
        bail!("--nproc {nproc}: give 1 to {MAX_NPROC}");
    }
    if nproc > cores {
        bail!(
            "--nproc {nproc}: this machine gives this process {cores} cores, and each rank needs one for its threads (more ranks only wait for each other while each holds its own memory); give at most {cores}"
        );
    }
    if let Some(avail) = available {
        let fit = (avail / RANK_MEMORY) as usize;
        if nproc > fit {
            bail!(
                "--nproc {nproc}: each rank holds about {} MiB before its model (libtorch and the process group) and {:.1} GiB of memory is available, room for {fit}; give at most {}",
                RANK_MEMORY >> 20,
                avail as f64 / (1u64 << 30) as f64,
                fit.max(1)
            );
        }
    }
    Ok(())
}

/// The last SIGTERM or SIGINT the launcher received (0: none since it was read).
static SIGNALLED: AtomicI32 = AtomicI32::new(0);
/// The launcher's pid, for [`on_signal`] to tell a rank between fork and exec from it.
static LAUNCHER: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: getpid, signal and raise are async-signal-safe.
    unsafe {
        if libc::getpid() != LAUNCHER.load(Ordering::SeqCst) {
            // A rank between fork and exec still has the launcher's handler: it takes the
            // signal as the rank would after exec, and ends.
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
            return;
        }
    }
    SIGNALLED.store(sig, Ordering::SeqCst);
}

/// Catches SIGTERM and SIGINT so the launcher can forward them to its ranks.
fn catch_signals() -> Result<()> {
    LAUNCHER.store(std::process::id() as i32, Ordering::SeqCst);
    for sig in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: a handler that only stores to an atomic, installed with a zeroed sigaction.
        let failed = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = libc::SA_RESTART;
            libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0
        };
        if failed {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("installing a handler for signal {sig}"));
        }
    }
    Ok(())
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGINT => "SIGINT".into(),
        s => format!("signal {s}"),
    }
}

/// Has the rank killed when the launcher dies (Linux's parent-death signal), even by SIGKILL.
fn die_with_launcher(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        let launcher = std::process::id() as libc::pid_t;
        // SAFETY: between fork and exec the closure calls only prctl(2) and getppid(2), both
        // async-signal-safe, and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                // The launcher died before the call above: no signal will come.
                if libc::getppid() != launcher {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

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
    check_nproc(
        o.nproc,
        crate::cmd::cores(),
        crate::model::available_memory(),
    )?;
    let port = match o.master_port {
        Some(p) => p,
        None => free_port()?,
    };
    // As torchrun: one intra-op thread pool per rank sized to its share of the cores, unless
    // the user chose.
    let threads = std::env::var_os("OMP_NUM_THREADS")
        .is_none()
        .then(|| (crate::cmd::cores() / o.nproc).max(1));
    catch_signals()?;
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
        die_with_launcher(&mut cmd);
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
    // A SIGTERM or SIGINT forwarded to the ranks, and when.
    let mut stopping: Option<(i32, Instant)> = None;
    while !children.is_empty() {
        let sig = SIGNALLED.swap(0, Ordering::SeqCst);
        if sig != 0 {
            if stopping.is_some() {
                eprintln!(
                    "rewarm launch: {} again; killing the {} rank(s) still running",
                    signal_name(sig),
                    children.len()
                );
                for (_, c) in children.iter_mut() {
                    let _ = c.kill();
                }
            } else {
                eprintln!(
                    "rewarm launch: received {}; forwarding it to the {} rank(s) still running",
                    signal_name(sig),
                    children.len()
                );
                for (_, c) in children.iter() {
                    // SAFETY: plain kill(2) on our own child's pid.
                    unsafe { libc::kill(c.id() as libc::pid_t, sig) };
                }
                stopping = Some((sig, Instant::now()));
            }
        }
        let mut i = 0;
        while i < children.len() {
            let (rank, child) = &mut children[i];
            let Some(status) = child.try_wait()? else {
                i += 1;
                continue;
            };
            if !status.success() && failed.is_none() && stopping.is_none() {
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
        let since = match (&failed, &stopping) {
            (_, Some((_, at))) | (Some((_, _, at)), None) => Some(*at),
            (None, None) => None,
        };
        if let Some(at) = since {
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
    if let Some((sig, _)) = stopping {
        bail!(
            "stopped by {} (forwarded to the ranks); the last complete checkpoint stays valid: `rewarm train --resume` continues a run, `rewarm study` run again continues a study",
            signal_name(sig)
        );
    }
    match failed {
        Some((rank, what, _)) => bail!(
            "rank {rank} of {} {what}; the run stopped (its last complete checkpoint stays valid: `rewarm train --resume` continues a run, `rewarm study` run again continues a study)",
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
