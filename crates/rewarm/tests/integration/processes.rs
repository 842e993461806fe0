//! Processes and folders over time: flags refused as they are parsed, jobs and ranks beyond
//! the machine refused with the limit, ranks that end with their launcher, runs that failed
//! before their first checkpoint, study folders that move, and second writers refused.

use rewarm::run_config::RunConfig;
use rewarm::study::{self, config::Baseline, preset, StudyConfig, StudyOptions};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use common::{rewarm_bin, stderr, token_folder};

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Polls `ok` every 50 ms for up to `secs` seconds.
fn wait_until(secs: u64, mut ok: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ok()
}

/// Whether process `pid` is gone (or a zombie: dead, waiting to be reaped by init).
fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// The children of `pid` (its main thread's, which spawns them).
fn children(pid: u32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn flags_are_refused_at_parse_time_instead_of_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("s");
    let s = out.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["study", "--preset", "micro", "--jobs", "0", "--out", s],
            "--jobs",
        ),
        (&["launch", "--nproc", "0", "--", "train"], "--nproc"),
        (
            &[
                "eval",
                "--checkpoint",
                "x",
                "--data",
                "a=b",
                "--batch-size",
                "0",
            ],
            "--batch-size",
        ),
        (
            &[
                "tokenize",
                "--input",
                "x",
                "--tokenizer",
                "t",
                "--val-fraction",
                "1.5",
                "--out",
                s,
            ],
            "--val-fraction",
        ),
        (&["demo", "--threads=-1", "--out", s], "--threads"),
        (
            &["demo", "--downstream-steps", "0", "--out", s],
            "--downstream-steps",
        ),
    ];
    for (args, flag) in cases {
        let o = rewarm_bin().args(args).output().unwrap();
        let e = stderr(&o);
        // clap's usage error (status 2), before anything runs.
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(flag), "{args:?}: {e}");
    }
    assert!(!out.exists());
}

#[test]
fn jobs_and_ranks_beyond_the_machine_are_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = cores();
    // `rewarm study --jobs 1000`: refused before the preset's data is written.
    let out = d.join("s");
    let o = rewarm_bin()
        .args([
            "--quiet", "study", "--preset", "micro", "--jobs", "1000", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success());
    assert!(
        e.contains("--jobs 1000")
            && e.contains(&format!("{n} cores"))
            && e.contains(&format!("at most {n}")),
        "{e}"
    );
    assert!(!out.exists(), "nothing written");
    // `rewarm launch --nproc 1000`: refused before any rank starts.
    let t0 = Instant::now();
    let o = rewarm_bin()
        .args([
            "--quiet",
            "launch",
            "--nproc",
            "1000",
            "--",
            "train",
            "--config",
            "none.toml",
        ])
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("--nproc 1000") && e.contains("at most"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(10));

    // The limits themselves: cores, then memory.
    let e = format!(
        "{:#}",
        study::choose_jobs(1, Some(1000), 2, None).unwrap_err()
    );
    assert!(e.contains("2 cores") && e.contains("at most 2"), "{e}");
    // A config's jobs from a larger machine are lowered to the cores (with a note).
    assert_eq!(study::choose_jobs(8, None, 2, None).unwrap(), 2);
    assert_eq!(study::choose_jobs(1, Some(2), 2, None).unwrap(), 2);
    // Runs of 4 GiB with 9 GiB available: two at a time, whatever the cores.
    let gib = 1u64 << 30;
    let e = format!(
        "{:#}",
        study::choose_jobs(1, Some(4), 16, Some((4 * gib, 9 * gib))).unwrap_err()
    );
    assert!(e.contains("4.0 GiB") && e.contains("at most 2"), "{e}");
    assert_eq!(
        study::choose_jobs(8, None, 16, Some((4 * gib, 9 * gib))).unwrap(),
        2
    );
    // The upstream run goes alone on the jobs' threads, never on more than the cores.
    assert_eq!(study::threads_for(1, 1000, 2), (1, 2));
    assert_eq!(study::threads_for(0, 1, 2), (2, 2));
    assert_eq!(study::threads_for(0, 2, 8), (4, 8));
    assert_eq!(study::threads_for(4, 1, 2), (4, 4));
    let e = format!(
        "{:#}",
        rewarm::launch::check_nproc(64, 128, Some(gib)).unwrap_err()
    );
    assert!(e.contains("192 MiB") && e.contains("room for 5"), "{e}");
    assert!(rewarm::launch::check_nproc(2, 2, Some(gib)).is_ok());
}

#[test]
fn the_ranks_end_with_their_launcher() {
    let dir = common::with_data();
    let d = dir.path();
    let long = "steps = 100000\ncheckpoint_every = 1000\ndevice = \"cpu\"\nthreads = 1\nlog_every = 1000\ndist_timeout_s = 30";
    for (name, signal) in [("killed", libc::SIGKILL), ("stopped", libc::SIGTERM)] {
        let cfg = common::config(d, name, common::TINY, common::COSINE, long);
        let mut l = rewarm_bin()
            .args([
                "--quiet", "launch", "--nproc", "2", "--", "train", "--config",
            ])
            .arg(&cfg)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Both ranks exist and run `rewarm train` (past exec).
        let mut ranks = Vec::new();
        assert!(
            wait_until(30, || {
                ranks = children(l.id());
                ranks.len() == 2
                    && ranks.iter().all(|p| {
                        std::fs::read(format!("/proc/{p}/cmdline"))
                            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("train"))
                    })
            }),
            "{name}: ranks did not start"
        );
        unsafe { libc::kill(l.id() as i32, signal) };
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = l.try_wait().unwrap() {
                break s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "{name}: launcher still running"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(!status.success());
        assert!(
            wait_until(5, || ranks.iter().all(|p| gone(*p))),
            "{name}: ranks {ranks:?} outlived their launcher"
        );
        if signal == libc::SIGTERM {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut l.stderr.take().unwrap(), &mut err).unwrap();
            assert!(
                err.contains("received SIGTERM; forwarding it to the 2 rank(s)"),
                "{err}"
            );
            assert!(err.contains("stopped by SIGTERM"), "{err}");
        }
    }
}

#[test]
fn a_run_that_failed_before_its_first_checkpoint_runs_again_or_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The index says vocabulary 64 but a shard holds id 300: the first step fails, after the
    // run folder and its (empty) log were made, before any checkpoint.
    let data = token_folder(&d.join("data"), &[1, 2, 300, 4, 5, 6, 7, 8, 9, 10], 64);
    let text = format!(
        "[model]\nhidden_size = 16\nnum_hidden_layers = 1\nnum_attention_heads = 2\nintermediate_size = 32\nvocab_size = 64\n[data]\nseq_len = 2\nbatch_size = 1\ntrain = [{{ name = \"t\", path = {:?} }}]\n[schedule]\nkind = \"constant\"\nmax_lr = 1e-3\n[run]\nsteps = 2\nout = \"RUN\"\ndevice = \"cpu\"\nthreads = 1\n",
        data
    );
    let load = |run: &str| {
        let p = d.join(format!("{run}.toml"));
        std::fs::write(&p, text.replace("RUN", run)).unwrap();
        RunConfig::load(&p).unwrap()
    };
    for run in ["again", "resumed"] {
        let cfg = load(run);
        let e = format!(
            "{:#}",
            rewarm::train::train(&cfg, false, false).unwrap_err()
        );
        assert!(e.contains("token id 300"), "{e}");
        assert_eq!(
            std::fs::read_to_string(d.join(run).join("log.jsonl")).unwrap(),
            ""
        );
    }
    // The data mended, a plain re-run starts afresh and --resume starts from step 0.
    token_folder(&d.join("data"), &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 64);
    let s = rewarm::train::train(&load("again"), false, false).unwrap();
    assert_eq!(s.steps, 2);
    let s = rewarm::train::train(&load("resumed"), true, false).unwrap();
    assert_eq!(s.steps, 2);
    for run in ["again", "resumed"] {
        let log = rewarm::run_dir::read_log(&d.join(run)).unwrap();
        assert_eq!(log.iter().map(|l| l.step).collect::<Vec<_>>(), vec![1, 2]);
    }
    // --resume on a folder that holds no run says so and what to run.
    let e = format!(
        "{:#}",
        rewarm::train::train(&load("never"), true, false).unwrap_err()
    );
    assert!(
        e.contains("nothing to resume") && e.contains("`rewarm train --config"),
        "{e}"
    );
    // A run with checkpoints is not started over without --resume.
    let e = format!(
        "{:#}",
        rewarm::train::train(&load("again"), false, false).unwrap_err()
    );
    assert!(e.contains("`rewarm train --resume`"), "{e}");
}

/// The micro preset's data in `dir` and a three-run study on it (upstream, the reference and
/// the constant-LR baseline), short.
fn tiny_study(dir: &Path) -> StudyConfig {
    drop(outdir::claim_dir(dir, study::OWNER, false).unwrap());
    preset::write_data("micro", dir, false).unwrap();
    let mut cfg = preset::config("micro", dir).unwrap();
    cfg.upstream.steps = 16;
    cfg.upstream.branch = vec![1.0];
    cfg.downstream.steps = 8;
    cfg.downstream.evals = 2;
    cfg.data.eval_sequences = 4;
    let g = &mut cfg.grid;
    g.warmup.clear();
    g.max_lr.clear();
    g.replay.clear();
    g.schedule.clear();
    g.moments.clear();
    g.baselines = vec![Baseline::Constant];
    cfg
}

fn study_opts(cfg: StudyConfig, dir: &Path) -> StudyOptions {
    StudyOptions {
        config: cfg,
        dir: dir.to_path_buf(),
        jobs: Some(1),
        force: false,
        progress: false,
    }
}

#[test]
fn a_moved_study_folder_is_continued() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let o = study::run(&study_opts(tiny_study(&a), &a)).unwrap();
    assert_eq!(o.ran.len(), 3);
    let b = tmp.path().join("moved/b");
    std::fs::create_dir_all(b.parent().unwrap()).unwrap();
    std::fs::rename(&a, &b).unwrap();
    // Nothing in the folder names where it was.
    for f in [
        "study.toml",
        "runs/upstream/run.toml",
        "runs/reference/run.toml",
        "runs/reference/final/run.toml",
    ] {
        let text = std::fs::read_to_string(b.join(f)).unwrap();
        assert!(!text.contains(&a.display().to_string()), "{f}: {text}");
    }
    let cfg = tiny_study(&b);
    let o = study::run(&study_opts(cfg.clone(), &b)).unwrap();
    assert_eq!(
        (o.ran.len(), o.resumed.len(), o.skipped_done.len()),
        (0, 0, 3)
    );
    // Interrupted runs (their final checkpoint gone) resume from their last checkpoint in the
    // new place.
    for r in ["reference", "constant"] {
        std::fs::remove_dir_all(b.join("runs").join(r).join("final")).unwrap();
    }
    let o = study::run(&study_opts(cfg, &b)).unwrap();
    assert_eq!(o.resumed.len(), 2, "{:?} {:?}", o.ran, o.resumed);
    assert_eq!(o.ran.len(), 0);
    // A copy continues too: `rewarm study --config` on its own saved config.
    let c = tmp.path().join("c");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(&b)
        .arg(&c)
        .status()
        .unwrap();
    assert!(cp.success());
    let o = rewarm_bin()
        .args(["--quiet", "study", "--jobs", "1", "--config"])
        .arg(c.join("study.toml"))
        .arg("--out")
        .arg(&c)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("3 runs: 0 run, 0 resumed, 3 already done"),
        "{out}"
    );
    // A report into the study folder waits for no study: one holding it refuses the report.
    let held = outdir::lock(&c, "test").unwrap();
    let o = rewarm_bin()
        .args(["report", "--study"])
        .arg(&c)
        .arg("--out")
        .arg(&c)
        .output()
        .unwrap();
    drop(held);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("process {}", std::process::id())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_second_writer_of_a_run_or_a_study_is_refused_with_the_holders_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let me = format!("process {}", std::process::id());
    // A run folder locked by this process (flock locks belong to open files, so this
    // process's own run conflicts with it too).
    common::data(d);
    let cfg = RunConfig::load(&common::config(
        d,
        "run",
        common::TINY,
        common::COSINE,
        "steps = 2\ndevice = \"cpu\"\nthreads = 1",
    ))
    .unwrap();
    let held = outdir::lock(&d.join("run"), "test").unwrap();
    let e = format!(
        "{:#}",
        rewarm::train::train(&cfg, false, false).unwrap_err()
    );
    assert!(e.contains(&me) && e.contains("run"), "{e}");
    assert!(!d.join("run/log.jsonl").exists());
    drop(held);
    rewarm::train::train(&cfg, false, false).unwrap();

    // Two `rewarm study` processes on one folder: the second is refused, naming the first.
    let s = d.join("study");
    let mut first = rewarm_bin()
        .args(["--quiet", "study", "--preset", "micro", "--out"])
        .arg(&s)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = d.join(".study.lock");
    let holder = format!("{}\n", first.id());
    let held = wait_until(60, || {
        std::fs::read_to_string(&lock).is_ok_and(|t| t == holder)
    });
    if !held {
        kill(&mut first);
        panic!("the first study never held {}", lock.display());
    }
    let o = rewarm_bin()
        .args(["--quiet", "study", "--preset", "micro", "--out"])
        .arg(&s)
        .output()
        .unwrap();
    let e = stderr(&o);
    kill(&mut first);
    assert!(!o.status.success());
    assert!(e.contains(&format!("process {}", first.id())), "{e}");
}
