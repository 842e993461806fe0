//! Data-parallel training over libtorch's Gloo process group on the loopback address: two
//! ranks against one process with the same global batch, resume across world sizes, a whole
//! study on two ranks, the environment contract, and a rank that dies or hangs.

use rewarm::checkpoint::read_tensors;
use rewarm::run_config::RunConfig;
use rewarm::{run_dir, train};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use common::{assert_identical_runs, config, rewarm_bin, train_new, with_data, COSINE, TINY};

fn launch(nproc: usize, cfg: &Path, resume: bool) -> Output {
    let mut c = rewarm_bin();
    c.args([
        "--quiet",
        "launch",
        "--nproc",
        &nproc.to_string(),
        "--",
        "train",
        "--config",
    ])
    .arg(cfg);
    if resume {
        c.arg("--resume");
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// (step, loss, grad_norm, eval losses) of one line of a run's log; each evaluation's loss is
/// followed by its per-sequence losses, so the ranks' shares must land at their sequences.
type LogRow = (u64, Option<f64>, Option<f64>, Vec<f64>);

fn log(run: &Path) -> Vec<LogRow> {
    std::fs::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let evals = v["eval"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .flat_map(|e| {
                            let seqs = e["sequences"].as_array().expect("per-sequence losses");
                            std::iter::once(e["loss"].as_f64().unwrap())
                                .chain(seqs.iter().map(|x| x.as_f64().unwrap()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                v["step"].as_u64().unwrap(),
                v["loss"].as_f64(),
                v["grad_norm"].as_f64(),
                evals,
            )
        })
        .collect()
}

/// The largest |a - b| over every tensor of two checkpoints' weights.
fn weight_diff(a: &Path, b: &Path) -> f64 {
    let (ta, tb) = (
        read_tensors(&a.join("model.safetensors")).unwrap(),
        read_tensors(&b.join("model.safetensors")).unwrap(),
    );
    assert_eq!(ta.len(), tb.len());
    ta.iter()
        .zip(&tb)
        .map(|((na, x), (nb, y))| {
            assert_eq!(na, nb);
            (x - y).abs().max().double_value(&[])
        })
        .fold(0.0, f64::max)
}

/// Reduction order differs between one process and two (each rank sums half the batch, then
/// the halves are added), so values agree to f32 rounding, not bit for bit. Measured here: weights
/// within 1e-7 after 6 steps, losses within 1e-6 relative; the bounds leave room for other CPUs.
const WEIGHT_TOL: f64 = 1e-5;
const LOSS_REL_TOL: f64 = 1e-5;
/// bf16 working copies: splitting the batch changes how the bf16 gradients round.
const BF16_LOSS_REL_TOL: f64 = 1e-4;

fn same_logs(a: &Path, b: &Path) {
    let (la, lb) = (log(a), log(b));
    assert_eq!(la.len(), lb.len());
    let close = |x: f64, y: f64| (x - y).abs() <= LOSS_REL_TOL * x.abs().max(1.0);
    for (x, y) in la.iter().zip(&lb) {
        assert_eq!(x.0, y.0);
        for (u, v) in [(x.1, y.1), (x.2, y.2)] {
            assert_eq!(u.is_some(), v.is_some());
            if let (Some(u), Some(v)) = (u, v) {
                assert!(close(u, v), "step {}: {u} vs {v}", x.0);
            }
        }
        assert_eq!(x.3.len(), y.3.len());
        for (u, v) in x.3.iter().zip(&y.3) {
            assert!(close(*u, *v), "step {} eval: {u} vs {v}", x.0);
        }
    }
}

/// f32 matmuls: the bounds above are f32 rounding. bf16 (what `auto` picks on CPUs with AMX)
/// rounds every matmul's inputs to 8 bits of mantissa, so splitting the batch moves results
/// at that precision instead.
const RUN: &str =
    "steps = 6\neval_every = 3\ncheckpoint_every = 2\ndevice = \"cpu\"\nthreads = 1\nprecision = \"f32\"";

#[test]
fn two_ranks_train_like_one_process_and_resume_with_either_world_size() {
    let dir = with_data();
    let d = dir.path();
    train_new(&config(d, "one", TINY, COSINE, RUN));

    let two = config(d, "two", TINY, COSINE, RUN);
    let out = ok(&launch(2, &two, false));
    // Rank 0 alone reports.
    assert_eq!(out.matches("6 steps").count(), 1, "{out}");
    let w = weight_diff(&d.join("one/final"), &d.join("two/final"));
    eprintln!("2 ranks vs 1 process: max |weight difference| {w:.2e}");
    assert!(w < WEIGHT_TOL, "{w}");
    same_logs(&d.join("one"), &d.join("two"));
    // Only rank 0 wrote: one log, one TensorBoard file, every checkpoint once.
    assert_eq!(
        std::fs::read_dir(d.join("two/tensorboard"))
            .unwrap()
            .count(),
        1
    );

    // Two ranks stop after 3 steps (checkpoint at 2); one process finishes the run.
    let cut = config(d, "2to1", TINY, COSINE, &format!("{RUN}\nstop_after = 3"));
    ok(&launch(2, &cut, false));
    assert!(!d.join("2to1/final").exists());
    let mut rest = RunConfig::load(&cut).unwrap();
    rest.run.stop_after = None;
    train::train(&rest, true, false).unwrap();
    assert!(weight_diff(&d.join("one/final"), &d.join("2to1/final")) < WEIGHT_TOL);
    same_logs(&d.join("one"), &d.join("2to1"));

    // One process stops after 3 steps; two ranks finish it.
    let cut = config(d, "1to2", TINY, COSINE, &format!("{RUN}\nstop_after = 3"));
    train::train(&RunConfig::load(&cut).unwrap(), false, false).unwrap();
    let rest = config(d, "1to2", TINY, COSINE, RUN);
    ok(&launch(2, &rest, true));
    assert!(weight_diff(&d.join("one/final"), &d.join("1to2/final")) < WEIGHT_TOL);
    same_logs(&d.join("one"), &d.join("1to2"));
}

/// With activation checkpointing (several backward passes a micro-batch) and with bf16 working
/// copies, the gradients are averaged in f32 after the backward pass instead of by the reducer
/// during it: two ranks still train like one process, to f32 rounding with checkpointing and
/// to the bf16 rounding of the split batch with working copies.
#[test]
fn two_ranks_averaging_after_the_backward_pass_train_like_one_process() {
    let dir = with_data();
    let d = dir.path();
    train_new(&config(d, "one", TINY, COSINE, RUN));
    let ckpt = config(
        d,
        "ckpt",
        TINY,
        COSINE,
        &format!("{RUN}\nactivation_checkpointing = 1"),
    );
    ok(&launch(2, &ckpt, false));
    let w = weight_diff(&d.join("one/final"), &d.join("ckpt/final"));
    eprintln!(
        "2 ranks with activation checkpointing vs 1 process: max |weight difference| {w:.2e}"
    );
    assert!(w < WEIGHT_TOL, "{w}");
    same_logs(&d.join("one"), &d.join("ckpt"));

    let bf16 = RUN.replace("precision = \"f32\"", "precision = \"bf16-full\"");
    train_new(&config(d, "one-bf16", TINY, COSINE, &bf16));
    let two = config(d, "two-bf16", TINY, COSINE, &bf16);
    ok(&launch(2, &two, false));
    // AdamW turns the bf16 rounding of small gradients into steps of the learning rate, so the
    // weights of the split run are as far from one process as bf16-full is from f32, and the
    // validation losses stay close.
    let w = weight_diff(&d.join("one-bf16/final"), &d.join("two-bf16/final"));
    let f = weight_diff(&d.join("one/final"), &d.join("one-bf16/final"));
    let last = |r: &str| log(&d.join(r)).last().unwrap().3.clone();
    let (a, b) = (last("one-bf16"), last("two-bf16"));
    let l = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs() / x.abs())
        .fold(0.0, f64::max);
    eprintln!("bf16-full, 2 ranks vs 1 process: max |weight difference| {w:.2e} (bf16-full vs f32: {f:.2e}), validation losses {l:.1e} relative");
    assert!(w < 2.0 * f, "{w} vs {f}");
    assert!(l < BF16_LOSS_REL_TOL, "{a:?} vs {b:?}");
}

#[test]
fn torchrun_starts_the_ranks_with_its_agent_store() {
    // PyTorch's own launcher (installed into .venv by scripts/setup-torch.sh), as users run it:
    // the ranks connect to the agent's TCPStore instead of hosting one.
    let torchrun = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/torchrun");
    assert!(
        torchrun.exists(),
        "{} is missing: run scripts/setup-torch.sh",
        torchrun.display()
    );
    let dir = with_data();
    let d = dir.path();
    train_new(&config(d, "one", TINY, COSINE, RUN));
    let cfg = config(d, "torchrun", TINY, COSINE, RUN);
    let o = Command::new(&torchrun)
        .args(["--nproc-per-node", "2", "--master-port"])
        .arg(rewarm::launch::free_port().unwrap().to_string())
        .arg("--no-python")
        .arg(env!("CARGO_BIN_EXE_rewarm"))
        .args(["--quiet", "train", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let out = ok(&o);
    assert_eq!(out.matches("6 steps").count(), 1, "{out}");
    assert!(weight_diff(&d.join("one/final"), &d.join("torchrun/final")) < WEIGHT_TOL);
    same_logs(&d.join("one"), &d.join("torchrun"));
}

#[test]
fn a_group_of_one_trains_exactly_like_one_process() {
    // `rewarm launch --nproc 1` (as `torchrun --nproc-per-node 1`): the data-parallel path
    // (store, Gloo, Reducer) with nothing to average; bench/gpu.sh runs the same on a GPU
    // through NCCL.
    let dir = with_data();
    let d = dir.path();
    train_new(&config(d, "plain", TINY, COSINE, RUN));
    ok(&launch(1, &config(d, "group", TINY, COSINE, RUN), false));
    assert_identical_runs(&d.join("plain"), &d.join("group"));
}

#[test]
fn environment_errors_and_an_unsplittable_batch_are_named() {
    let dir = with_data();
    let d = dir.path();
    let cfg = config(d, "env", TINY, COSINE, RUN);
    let run = |vars: &[(&str, &str)]| {
        let mut c = rewarm_bin();
        c.args(["--quiet", "train", "--config"]).arg(&cfg);
        for (k, v) in vars {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    assert!(run(&[("RANK", "0")]).contains("WORLD_SIZE is not"));
    assert!(run(&[("RANK", "0"), ("WORLD_SIZE", "2")]).contains("MASTER_ADDR is not set"));
    assert!(run(&[("RANK", "3"), ("WORLD_SIZE", "2")]).contains("rank 3 is not below"));
    // batch_size 3 over 2 ranks (no more ranks than cores: CI has 2).
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("batch_size = 4", "batch_size = 3")).unwrap();
    let o = launch(2, &cfg, false);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("batch_size 3 cannot be split over 2 ranks"),
        "{e}"
    );
    assert!(!d.join("env/log.jsonl").exists());
}

/// A study config on the micro preset's data (written under `d/preset`) with a grid that
/// branches every way a run can start: from the final and a mid-run upstream checkpoint, with
/// the optimizer's moments loaded, with two data sources mixed (replay), and from scratch.
fn small_study(d: &Path) -> std::path::PathBuf {
    let preset = d.join("preset");
    rewarm::study::preset::write_data("micro", &preset, false).unwrap();
    let t = preset.join("data/tokens");
    let corpus = |n: &str| {
        format!(
            "{{ train = {:?}, val = {:?} }}",
            t.join(n).join("train"),
            t.join(n).join("val")
        )
    };
    let path = d.join("study.toml");
    std::fs::write(
        &path,
        format!(
            "[model]\nhidden_size = 32\nnum_hidden_layers = 2\nnum_attention_heads = 2\nintermediate_size = 128\n\
             [data]\nseq_len = 32\nbatch_size = 8\nseed = 1\neval_sequences = 16\nupstream = {}\ndownstream = {}\n\
             [upstream]\nsteps = 8\nmax_lr = 3e-3\nbranch = [0.5, 1.0]\n\
             [downstream]\nsteps = 6\nevals = 3\n\
             [grid]\nwarmup = []\nmax_lr = []\nreplay = [0.25]\nschedule = []\nmoments = [\"keep\"]\nbaselines = [\"scratch\"]\n\
             [run]\ndevice = \"cpu\"\nprecision = \"f32\"\nthreads = 1\n",
            corpus("upstream"),
            corpus("downstream")
        ),
    )
    .unwrap();
    path
}

/// `rewarm study` as one process, or on `nproc` ranks through `rewarm launch`.
fn study(nproc: usize, cfg: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut c = rewarm_bin();
    c.arg("--quiet");
    if nproc > 0 {
        c.args(["launch", "--nproc", &nproc.to_string(), "--"]);
    }
    c.args(["study", "--config"])
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .args(extra);
    c.output().unwrap()
}

/// A study's runs take up to 14 steps at a learning rate of 3e-3 (the micro preset's), where
/// AdamW turns f32 rounding in small gradients into weight differences of up to about 1e-5.
const STUDY_WEIGHT_TOL: f64 = 1e-4;

#[test]
fn a_study_on_two_ranks_matches_one_process_and_resumes_with_either() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = small_study(d);
    let (one, two) = (d.join("one"), d.join("two"));
    let out1 = ok(&study(0, &cfg, &one, &[]));
    let out2 = ok(&study(2, &cfg, &two, &[]));
    // Rank 0 alone reports.
    assert_eq!(out2.matches("report: ").count(), 1, "{out2}");
    assert!(two.join("report.html").exists() && two.join("findings.csv").exists());
    let runs: Vec<String> = std::fs::read_dir(one.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for n in [
        "upstream",
        "reference",
        "replay-25pct",
        "moments-keep",
        "scratch",
    ] {
        assert!(runs.iter().any(|r| r == n), "{n} missing from {runs:?}");
    }
    assert!(
        runs.iter().any(|r| r.starts_with("start-step-")),
        "{runs:?}"
    );
    assert!(
        out1.contains(&format!("{} runs: {} run", runs.len(), runs.len())),
        "{out1}"
    );
    for r in &runs {
        let (a, b) = (one.join("runs").join(r), two.join("runs").join(r));
        let w = weight_diff(&a.join("final"), &b.join("final"));
        eprintln!("{r}: 2 ranks vs 1 process: max |weight difference| {w:.2e}");
        same_logs(&a, &b);
        assert!(w < STUDY_WEIGHT_TOL, "{r}: {w}");
    }

    // Interrupted after a checkpoint: two ranks resume what one process left, and vice versa.
    for (src, nproc) in [(&one, 2), (&two, 0)] {
        for r in ["reference", "moments-keep"] {
            std::fs::remove_dir_all(src.join("runs").join(r).join("final")).unwrap();
        }
        let out = ok(&study(nproc, &cfg, src, &[]));
        assert!(
            out.contains(&format!(
                "0 run, 2 resumed, {} already done",
                runs.len() - 2
            )),
            "{out}"
        );
        for r in &runs {
            let (a, b) = (one.join("runs").join(r), two.join("runs").join(r));
            let w = weight_diff(&a.join("final"), &b.join("final"));
            assert!(w < STUDY_WEIGHT_TOL, "{r}: {w}");
            same_logs(&a, &b);
        }
    }

    // Ranks train one run at a time, so --jobs is refused, on every rank, before anything runs.
    let o = study(2, &cfg, &d.join("jobs"), &["--jobs", "2"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        e.contains("--jobs 2: a study launched as 2 ranks trains one run at a time"),
        "{e}"
    );
    assert!(!d.join("jobs/runs").exists());
}

#[test]
fn a_preset_study_on_two_ranks_writes_its_data_once() {
    // Rank 0 writes the preset's corpus and tokens while the other rank waits for them; a
    // dry run is refused under a launcher (it plans in one process).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let o = rewarm_bin()
        .args([
            "--quiet", "launch", "--nproc", "2", "--", "study", "--preset", "micro",
        ])
        .args(["--jobs", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    // Both ranks got past the data (rank 1 read rank 0's) to the --jobs check.
    assert_eq!(e.matches("trains one run at a time").count(), 2, "{e}");
    assert!(out.join("data/tokens/downstream/val/index.json").exists());
    let o = rewarm_bin()
        .args([
            "--quiet", "launch", "--nproc", "2", "--", "study", "--preset", "micro",
        ])
        .args(["--dry-run", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("--dry-run plans the study in one process"),
        "{e}"
    );
}

/// Starts rank `rank` of 2 of a long run on `port`.
fn rank(cfg: &Path, rank: usize, port: u16) -> Child {
    rewarm_bin()
        .args(["--quiet", "train", "--config"])
        .arg(cfg)
        .env("RANK", rank.to_string())
        .env("WORLD_SIZE", "2")
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the run has written a checkpoint past step 4.
fn wait_for_checkpoints(run: &Path) {
    let t0 = Instant::now();
    while run_dir::latest_checkpoint(run).is_none_or(|(s, _)| s < 4) {
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_killed_or_hung_rank_fails_the_run_naming_it_and_the_last_checkpoint_resumes() {
    let dir = with_data();
    let d = dir.path();
    let long = "steps = 100000\ncheckpoint_every = 2\ndevice = \"cpu\"\nthreads = 1\nlog_every = 1000\ndist_timeout_s = 5";
    for (case, signal) in [("killed", libc::SIGKILL), ("hung", libc::SIGSTOP)] {
        let cfg = config(d, case, TINY, COSINE, long);
        let port = rewarm::launch::free_port().unwrap();
        let mut r0 = rank(&cfg, 0, port);
        let mut r1 = rank(&cfg, 1, port);
        wait_for_checkpoints(&d.join(case));
        let t0 = Instant::now();
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(r1.id() as libc::pid_t, signal) };
        let o = r0.wait_with_output_timeout(Duration::from_secs(60));
        let secs = t0.elapsed().as_secs_f64();
        unsafe { libc::kill(r1.id() as libc::pid_t, libc::SIGKILL) };
        let _ = r1.wait();
        let (status, err) = o;
        assert!(!status.success());
        eprintln!("{case}: rank 0 failed after {secs:.1} s: {err}");
        assert!(err.contains("rank 1 stopped responding"), "{err}");
        assert!(secs < 30.0, "{secs}");
        // The newest checkpoint is complete: one process resumes from it.
        let (step, ck) = run_dir::latest_checkpoint(&d.join(case)).unwrap();
        assert!(read_tensors(&ck.join("model.safetensors")).is_ok());
        let mut resume = RunConfig::load(&cfg).unwrap();
        resume.run.stop_after = Some(1);
        resume.run.dist_timeout_s = 5;
        let s = train::train(&resume, true, false).unwrap();
        assert_eq!(s.steps, step + 1);
    }
}

#[test]
fn launch_names_the_rank_that_died() {
    let dir = with_data();
    let d = dir.path();
    let long = "steps = 100000\ncheckpoint_every = 2\ndevice = \"cpu\"\nthreads = 1\nlog_every = 1000\ndist_timeout_s = 5";
    let cfg = config(d, "launched", TINY, COSINE, long);
    let mut l = rewarm_bin()
        .args([
            "--quiet", "launch", "--nproc", "2", "--grace", "20", "--", "train", "--config",
        ])
        .arg(&cfg)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_checkpoints(&d.join("launched"));
    let kids = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", l.id())).unwrap();
    let pids: Vec<i32> = kids
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{kids}");
    // The ranks start in order, so the second child is rank 1.
    unsafe { libc::kill(pids[1], libc::SIGKILL) };
    let (status, err) = l.wait_with_output_timeout(Duration::from_secs(60));
    assert!(!status.success());
    assert!(err.contains("rank 1 of 2 was killed by signal 9"), "{err}");
    // Rank 0 reported what it saw before the launcher stopped.
    assert!(err.contains("rank 1 stopped responding"), "{err}");
}

trait WaitTimeout {
    /// Waits for the process with a deadline (killing it past the deadline) and returns its
    /// status and standard error.
    fn wait_with_output_timeout(&mut self, limit: Duration) -> (std::process::ExitStatus, String);
}

impl WaitTimeout for Child {
    fn wait_with_output_timeout(&mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = self.try_wait().unwrap() {
                break s;
            }
            if t0.elapsed() > limit {
                let _ = self.kill();
                panic!("still running after {} s", limit.as_secs());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            use std::io::Read;
            e.read_to_string(&mut err).unwrap();
        }
        (status, err)
    }
}
