//! Data-parallel training across processes on libtorch's c10d (`csrc/dist.cpp`): the
//! environment contract of `torchrun` and SLURM's `srun` ([`World`]), and a process group
//! ([`Group`]) with the collectives the trainer needs. Every rank also publishes a heartbeat
//! (its step and the time) in the rendezvous store, so that when a collective fails, the error
//! names the rank that died or hung.

use crate::ops::{ptrs, take_message};
use crate::run_config::DeviceChoice;
use anyhow::{anyhow, bail, Context, Result};
use std::ffi::{c_char, c_int, CString};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tch::{Device, Tensor};
use torch_sys::C_tensor;

/// Gradients are all-reduced in buckets of this size (PyTorch DDP's default).
const BUCKET_BYTES: usize = 25 << 20;

#[repr(C)]
struct RwGroup {
    _opaque: [u8; 0],
}

extern "C" {
    fn rw_dist_init(
        host: *const c_char,
        port: c_int,
        is_server: c_int,
        rank: c_int,
        size: c_int,
        timeout_ms: i64,
        prefix: *const c_char,
        nccl: c_int,
        out: *mut *mut RwGroup,
    ) -> *mut c_char;
    fn rw_dist_has_nccl() -> c_int;
    fn rw_dist_free(g: *mut RwGroup);
    fn rw_dist_allreduce(
        g: *mut RwGroup,
        ts: *const *mut C_tensor,
        n: usize,
        average: c_int,
        bucket_bytes: i64,
    ) -> *mut c_char;
    fn rw_dist_broadcast(
        g: *mut RwGroup,
        ts: *const *mut C_tensor,
        n: usize,
        root: c_int,
        bucket_bytes: i64,
    ) -> *mut c_char;
    fn rw_dist_barrier(g: *mut RwGroup) -> *mut c_char;
    fn rw_dist_reducer_new(
        g: *mut RwGroup,
        params: *const *mut C_tensor,
        n: usize,
        bucket_bytes: i64,
    ) -> *mut c_char;
    fn rw_dist_reducer_prepare(g: *mut RwGroup) -> *mut c_char;
    fn rw_dist_store_set(g: *mut RwGroup, key: *const c_char, value: *const c_char) -> *mut c_char;
    fn rw_dist_store_get(
        g: *mut RwGroup,
        key: *const c_char,
        value: *mut *mut c_char,
    ) -> *mut c_char;
}

fn check(err: *mut c_char) -> std::result::Result<(), String> {
    if err.is_null() {
        Ok(())
    } else {
        Err(take_message(err))
    }
}

/// Where this process stands among the processes of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct World {
    pub rank: usize,
    pub size: usize,
    /// The rank among the processes of this machine (picks the GPU).
    pub local_rank: usize,
    pub master_addr: String,
    pub master_port: u16,
    /// Under torchrun the agent hosts the rendezvous store; the ranks only connect to it.
    pub agent_store: bool,
    /// torchrun's restart count, so a restarted group does not read the keys of the last one.
    pub attempt: u64,
    /// Where the values came from, for messages (`torchrun/env`, `SLURM`).
    pub source: &'static str,
}

impl World {
    /// The world of this process from its environment: `RANK`, `WORLD_SIZE`, `LOCAL_RANK`,
    /// `MASTER_ADDR`, `MASTER_PORT` (torchrun, `rewarm launch`, any env:// launcher), else
    /// `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID` under `srun` (with `MASTER_ADDR` or
    /// the launch node's address, and `MASTER_PORT` or 29500). `None` for a single process:
    /// no variables, or one SLURM task. `WORLD_SIZE=1` is a group of one, as in PyTorch (it
    /// runs the data-parallel path on one device).
    pub fn from_env() -> Result<Option<World>> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// [`World::from_env`] over any variable lookup (tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<World>> {
        let num = |k: &str| -> Result<Option<u64>> {
            match var(k) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                    anyhow!("environment variable {k}={v:?} is not a non-negative integer")
                }),
            }
        };
        let (rank, size, local, source) = match (num("RANK")?, num("WORLD_SIZE")?) {
            (Some(r), Some(s)) => (r, s, num("LOCAL_RANK")?, "torchrun/env"),
            (Some(_), None) => {
                bail!("RANK is set but WORLD_SIZE is not; set both (as torchrun does) or neither")
            }
            (None, Some(s)) => bail!(
                "WORLD_SIZE={s} is set but RANK is not; set both (as torchrun does) or neither"
            ),
            (None, None) => match (num("SLURM_PROCID")?, num("SLURM_NTASKS")?) {
                (Some(r), Some(s)) => (r, s, num("SLURM_LOCALID")?, "SLURM"),
                _ => return Ok(None),
            },
        };
        if size == 0 {
            bail!("{source}: the world size is 0");
        }
        if rank >= size {
            bail!("{source}: rank {rank} is not below the world size {size}");
        }
        if size == 1 && source == "SLURM" {
            return Ok(None);
        }
        let master_addr = match var("MASTER_ADDR").filter(|v| !v.is_empty()) {
            Some(a) => a,
            None if source == "SLURM" => var("SLURM_LAUNCH_NODE_IPADDR").ok_or_else(|| {
                anyhow!("SLURM: set MASTER_ADDR to the first node of the job (e.g. `export MASTER_ADDR=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n1)`)")
            })?,
            None => bail!("{source}: WORLD_SIZE={size} but MASTER_ADDR is not set; set it to the address of rank 0's machine"),
        };
        let master_port = match num("MASTER_PORT")? {
            Some(p) if (1..=65535).contains(&p) => p as u16,
            Some(p) => bail!("MASTER_PORT={p} is not a TCP port"),
            None if source == "SLURM" => 29500,
            None => bail!("{source}: WORLD_SIZE={size} but MASTER_PORT is not set; set it to a free port on rank 0's machine"),
        };
        Ok(Some(World {
            rank: rank as usize,
            size: size as usize,
            local_rank: local.unwrap_or(rank) as usize,
            master_addr,
            master_port,
            agent_store: var("TORCHELASTIC_USE_AGENT_STORE").as_deref() == Some("True"),
            attempt: num("TORCHELASTIC_RESTART_COUNT")?.unwrap_or(0),
            source,
        }))
    }
}

/// Whether this build has c10d's NCCL backend (built against the CUDA wheel's headers).
pub fn has_nccl() -> bool {
    // SAFETY: a constant query.
    unsafe { rw_dist_has_nccl() != 0 }
}

/// How often a rank publishes its heartbeat, and after how long without one a peer counts as
/// gone.
const HEARTBEAT: Duration = Duration::from_millis(500);
const STALE: Duration = Duration::from_millis(2000);

struct Handle(*mut RwGroup);
// SAFETY: the shim guards the store connection the heartbeat uses with a mutex, and the
// collectives are only called from the thread that owns the Group.
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

/// A joined process group (Gloo over TCP); dropped, it stops its heartbeat and leaves.
pub struct Group {
    handle: Arc<Handle>,
    pub rank: usize,
    pub size: usize,
    step: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
    bucket_bytes: i64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Group {
    /// Joins the group of `world`: rank 0 hosts the rendezvous store unless a launcher's agent
    /// does. Waits up to `timeout` for every rank; the same timeout bounds each collective.
    /// With `nccl`, CUDA tensors go through NCCL (else through Gloo, staged in host memory).
    pub fn join(
        world: &World,
        timeout: Duration,
        bucket_bytes: usize,
        nccl: bool,
    ) -> Result<Group> {
        let host = CString::new(world.master_addr.clone())?;
        // A process may join several groups in turn (one per run); each gets its own keys, the
        // same on every rank since all ranks join in the same order. Counted per rank, so that
        // ranks sharing a process (the tests) agree too.
        static JOINS: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());
        let joined = {
            let mut j = JOINS.lock().unwrap_or_else(|e| e.into_inner());
            if j.len() <= world.rank {
                j.resize(world.rank + 1, 0);
            }
            j[world.rank] += 1;
            j[world.rank] - 1
        };
        let prefix = CString::new(format!("rewarm/attempt_{}/group_{joined}", world.attempt))?;
        let mut g: *mut RwGroup = std::ptr::null_mut();
        // SAFETY: all pointers are valid for the call; `g` is set on success.
        let err = unsafe {
            rw_dist_init(
                host.as_ptr(),
                world.master_port as c_int,
                c_int::from(world.rank == 0 && !world.agent_store),
                world.rank as c_int,
                world.size as c_int,
                timeout.as_millis().min(i64::MAX as u128) as i64,
                prefix.as_ptr(),
                c_int::from(nccl),
                &mut g,
            )
        };
        check(err).map_err(|e| {
            anyhow!(
                "rank {} of {}: joining the process group at {}:{} ({}) failed within {} s: {e}; check that every rank started with the same MASTER_ADDR/MASTER_PORT and WORLD_SIZE",
                world.rank,
                world.size,
                world.master_addr,
                world.master_port,
                world.source,
                timeout.as_secs()
            )
        })?;
        let handle = Arc::new(Handle(g));
        let step = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let beat = {
            let (handle, step, stop, rank) =
                (handle.clone(), step.clone(), stop.clone(), world.rank);
            std::thread::Builder::new()
                .name("rewarm-heartbeat".into())
                .spawn(move || {
                    let key = CString::new(format!("heartbeat/{rank}")).expect("no NUL");
                    while !stop.load(Ordering::Relaxed) {
                        let value =
                            CString::new(format!("{} {}", now_ms(), step.load(Ordering::Relaxed)))
                                .expect("no NUL");
                        // SAFETY: the handle outlives this thread (joined on drop).
                        let err =
                            unsafe { rw_dist_store_set(handle.0, key.as_ptr(), value.as_ptr()) };
                        if check(err).is_err() {
                            break; // the store is gone; the next collective reports it
                        }
                        std::thread::sleep(HEARTBEAT);
                    }
                })
                .context("starting the heartbeat thread")?
        };
        Ok(Group {
            handle,
            rank: world.rank,
            size: world.size,
            step,
            stop,
            heartbeat: Some(beat),
            bucket_bytes: bucket_bytes.max(1) as i64,
        })
    }

    /// The step this rank is at, published with its heartbeat.
    pub fn set_step(&self, step: u64) {
        self.step.store(step, Ordering::Relaxed);
    }

    /// Averages `ts` in place across the ranks (bucketed, all buckets in flight at once).
    pub fn all_reduce_mean(&self, ts: &[&Tensor], what: &str) -> Result<()> {
        self.all_reduce(ts, true, what)
    }

    /// Sums `ts` in place across the ranks.
    pub fn all_reduce_sum(&self, ts: &[&Tensor], what: &str) -> Result<()> {
        self.all_reduce(ts, false, what)
    }

    fn all_reduce(&self, ts: &[&Tensor], average: bool, what: &str) -> Result<()> {
        let p = ptrs(ts);
        // SAFETY: the tensors live for the call.
        let err = unsafe {
            rw_dist_allreduce(
                self.handle.0,
                p.as_ptr(),
                p.len(),
                c_int::from(average),
                self.bucket_bytes,
            )
        };
        check(err).map_err(|e| self.failure(what, e))
    }

    /// Copies rank 0's values of `ts` into every rank's.
    pub fn broadcast(&self, ts: &[&Tensor], what: &str) -> Result<()> {
        let p = ptrs(ts);
        // SAFETY: the tensors live for the call.
        let err =
            unsafe { rw_dist_broadcast(self.handle.0, p.as_ptr(), p.len(), 0, self.bucket_bytes) };
        check(err).map_err(|e| self.failure(what, e))
    }

    /// Hands `params` to c10d's Reducer: after [`Group::prepare_sync`], the next backward pass
    /// averages their gradients across the ranks, bucket by bucket while it runs (as
    /// DistributedDataParallel does).
    pub fn attach(&self, params: &[&Tensor]) -> Result<()> {
        let p = ptrs(params);
        // SAFETY: the tensors live for the call; the Reducer keeps its own references.
        let err =
            unsafe { rw_dist_reducer_new(self.handle.0, p.as_ptr(), p.len(), self.bucket_bytes) };
        check(err).map_err(|e| self.failure("setting up the gradient reducer", e))
    }

    /// Makes the next backward pass synchronise the gradients (call it before the forward pass
    /// of a step's last micro-batch; earlier micro-batches accumulate locally).
    pub fn prepare_sync(&self, what: &str) -> Result<()> {
        // SAFETY: the handle is live.
        let err = unsafe { rw_dist_reducer_prepare(self.handle.0) };
        check(err).map_err(|e| self.failure(what, e))
    }

    /// A synchronising backward pass that failed (its collectives run inside it).
    pub fn backward_failed(&self, what: &str, e: anyhow::Error) -> anyhow::Error {
        self.failure(what, format!("{e:#}"))
    }

    /// Waits until every rank arrives.
    pub fn barrier(&self, what: &str) -> Result<()> {
        // SAFETY: the handle is live.
        let err = unsafe { rw_dist_barrier(self.handle.0) };
        check(err).map_err(|e| self.failure(what, e))
    }

    /// A failed collective, with the ranks that stopped sending heartbeats named.
    fn failure(&self, what: &str, detail: String) -> anyhow::Error {
        anyhow!(
            "rank {} of {}: {what} failed: {}; libtorch: {detail}",
            self.rank,
            self.size,
            self.diagnose()
        )
    }

    /// Which peers are gone or behind, from their heartbeats (waits long enough for a dead
    /// peer's heartbeat to go stale).
    fn diagnose(&self) -> String {
        std::thread::sleep(STALE + HEARTBEAT);
        let now = now_ms();
        let mut gone = Vec::new();
        let mut steps = Vec::new();
        for r in (0..self.size).filter(|&r| r != self.rank) {
            let key = CString::new(format!("heartbeat/{r}")).expect("no NUL");
            let mut v: *mut c_char = std::ptr::null_mut();
            // SAFETY: the handle is live; `v` is set to a malloc'ed string or null.
            let err = unsafe { rw_dist_store_get(self.handle.0, key.as_ptr(), &mut v) };
            if check(err).is_err() {
                return "the rendezvous store is unreachable, so the rank hosting it (rank 0) has died or hung".into();
            }
            if v.is_null() {
                gone.push(format!("rank {r} never sent a heartbeat"));
                continue;
            }
            let s = take_message(v);
            let mut parts = s.split(' ').map(|p| p.parse::<u64>().unwrap_or(0));
            let (at, step) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
            let age = now.saturating_sub(at);
            if age > STALE.as_millis() as u64 {
                gone.push(format!(
                    "rank {r} stopped responding {:.1} s ago at step {step} (it died or hung)",
                    age as f64 / 1000.0
                ));
            } else {
                steps.push(format!("rank {r} at step {step}"));
            }
        }
        if gone.is_empty() {
            format!(
                "every other rank is alive ({}); a rank may be stuck or the network failed",
                steps.join(", ")
            )
        } else {
            gone.join("; ")
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
        // SAFETY: the heartbeat thread has ended; nothing else holds the handle.
        unsafe { rw_dist_free(self.handle.0) };
    }
}

/// This process's part in a data-parallel job: its place among the ranks, the joined process
/// group, and its device (under `device = "auto"` on a CUDA machine, the local rank's GPU).
/// One group serves any number of runs in turn (a study's).
pub struct DataParallel {
    pub world: crate::dist::World,
    pub group: crate::dist::Group,
    pub device: Device,
}

impl DataParallel {
    /// Joins the ranks of `world`, waiting up to `timeout_s` for all of them (the same limit
    /// bounds every later collective).
    pub fn join(world: crate::dist::World, choice: DeviceChoice, timeout_s: u64) -> Result<Self> {
        let device = match choice {
            // One GPU per process: the local rank's.
            DeviceChoice::Auto if tch::Cuda::is_available() => {
                DeviceChoice::Cuda(world.local_rank).resolve()?
            }
            choice => choice.resolve()?,
        };
        let group = crate::dist::Group::join(
            &world,
            std::time::Duration::from_secs(timeout_s),
            BUCKET_BYTES,
            device.is_cuda() && crate::dist::has_nccl(),
        )?;
        Ok(Self {
            world,
            group,
            device,
        })
    }

    /// Whether this is rank 0, the one that writes.
    pub fn lead(&self) -> bool {
        self.group.rank == 0
    }
}

/// Runs `work` once: in one process, there; under a launcher, on rank 0 alone, handing the `n`
/// numbers it returns to every rank. When `work` fails on rank 0, the other ranks fail too
/// (rather than wait for a collective that never comes), pointing at rank 0's error.
pub fn from_lead(
    par: Option<&DataParallel>,
    what: &str,
    n: usize,
    work: impl FnOnce() -> Result<Vec<i64>>,
) -> Result<Vec<i64>> {
    let Some(par) = par else { return work() };
    let mut failed = None;
    let mut msg = vec![0i64; n + 1];
    if par.lead() {
        match work() {
            Ok(v) if v.len() == n => {
                msg[0] = 1;
                msg[1..].copy_from_slice(&v);
            }
            Ok(v) => failed = Some(anyhow::anyhow!("{what}: {} values, not {n}", v.len())),
            Err(e) => failed = Some(e),
        }
    }
    let t = Tensor::from_slice(&msg);
    par.group.broadcast(&[&t], what)?;
    if let Some(e) = failed {
        return Err(e);
    }
    let got = Vec::<i64>::try_from(&t).context("reading rank 0's broadcast")?;
    if got[0] != 1 {
        bail!(
            "rank {} of {}: {what} failed on rank 0; its output says why",
            par.group.rank,
            par.group.size
        );
    }
    Ok(got[1..].to_vec())
}

/// The global batch is split evenly over the ranks.
pub(crate) fn check_split(batch_size: usize, ranks: usize) -> Result<()> {
    if batch_size % ranks != 0 {
        bail!(
            "[data] batch_size {batch_size} cannot be split over {ranks} ranks; make it a multiple of the world size"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn world(vars: &[(&str, &str)]) -> Result<Option<World>> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        World::from_vars(|k| m.get(k).cloned())
    }

    #[test]
    fn torchrun_variables() {
        let w = world(&[
            ("RANK", "3"),
            ("WORLD_SIZE", "4"),
            ("LOCAL_RANK", "1"),
            ("MASTER_ADDR", "10.0.0.1"),
            ("MASTER_PORT", "29400"),
            ("TORCHELASTIC_USE_AGENT_STORE", "True"),
            ("TORCHELASTIC_RESTART_COUNT", "2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((w.rank, w.size, w.local_rank), (3, 4, 1));
        assert_eq!((w.master_addr.as_str(), w.master_port), ("10.0.0.1", 29400));
        assert!(w.agent_store);
        assert_eq!(w.attempt, 2);
    }

    #[test]
    fn single_process_without_variables_or_with_one_slurm_task() {
        assert_eq!(world(&[]).unwrap(), None);
        assert_eq!(
            world(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1")]).unwrap(),
            None
        );
        // A group of one, as torchrun --nproc-per-node 1 makes.
        let w = world(&[
            ("RANK", "0"),
            ("WORLD_SIZE", "1"),
            ("MASTER_ADDR", "127.0.0.1"),
            ("MASTER_PORT", "29500"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((w.rank, w.size), (0, 1));
    }

    #[test]
    fn slurm_variables() {
        let w = world(&[
            ("SLURM_PROCID", "5"),
            ("SLURM_NTASKS", "8"),
            ("SLURM_LOCALID", "1"),
            ("SLURM_LAUNCH_NODE_IPADDR", "10.1.2.3"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((w.rank, w.size, w.local_rank), (5, 8, 1));
        assert_eq!((w.master_addr.as_str(), w.master_port), ("10.1.2.3", 29500));
        assert!(!w.agent_store);
    }

    #[test]
    fn missing_or_inconsistent_variables_are_named() {
        let e = |vars: &[(&str, &str)]| format!("{:#}", world(vars).unwrap_err());
        assert!(e(&[("RANK", "0")]).contains("WORLD_SIZE is not"));
        assert!(e(&[("WORLD_SIZE", "2")]).contains("RANK is not"));
        assert!(e(&[("RANK", "2"), ("WORLD_SIZE", "2")]).contains("rank 2 is not below"));
        assert!(e(&[("RANK", "x"), ("WORLD_SIZE", "2")]).contains("RANK=\"x\""));
        assert!(
            e(&[("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_PORT", "1")])
                .contains("MASTER_ADDR is not set")
        );
        assert!(
            e(&[("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "h")])
                .contains("MASTER_PORT is not set")
        );
        assert!(e(&[
            ("RANK", "0"),
            ("WORLD_SIZE", "2"),
            ("MASTER_ADDR", "h"),
            ("MASTER_PORT", "70000")
        ])
        .contains("not a TCP port"));
        assert!(e(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2")]).contains("MASTER_ADDR"));
    }

    #[test]
    fn two_ranks_reduce_broadcast_and_meet() {
        let port = crate::launch::free_port().unwrap();
        let run = move |rank: usize| {
            let w = World {
                rank,
                size: 2,
                local_rank: rank,
                master_addr: "127.0.0.1".into(),
                master_port: port,
                agent_store: false,
                attempt: 0,
                source: "test",
            };
            let g = Group::join(&w, Duration::from_secs(30), 16, false).unwrap();
            // Two tensors of 3 and 2 values over 16-byte buckets: two buckets.
            let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0]) * (rank as f64 + 1.0);
            let b = Tensor::from_slice(&[10.0f64, 20.0]) * (rank as f64 + 1.0);
            g.all_reduce_mean(&[&a, &b], "test all-reduce").unwrap();
            let c = Tensor::from_slice(&[rank as i64 + 7]);
            g.all_reduce_sum(&[&c], "test sum").unwrap();
            let d = Tensor::from_slice(&[rank as f32 * 5.0 + 1.0, -1.0]);
            g.broadcast(&[&d], "test broadcast").unwrap();
            g.barrier("test barrier").unwrap();
            (
                Vec::<f32>::try_from(&a).unwrap(),
                Vec::<f64>::try_from(&b).unwrap(),
                Vec::<i64>::try_from(&c).unwrap(),
                Vec::<f32>::try_from(&d).unwrap(),
            )
        };
        let h = std::thread::spawn(move || run(1));
        let r0 = run(0);
        let r1 = h.join().unwrap();
        assert_eq!(r0, r1);
        assert_eq!(r0.0, vec![1.5, 3.0, 4.5]);
        assert_eq!(r0.1, vec![15.0, 30.0]);
        assert_eq!(r0.2, vec![15]);
        assert_eq!(r0.3, vec![1.0, -1.0]);
    }
}
