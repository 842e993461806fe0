//! `rewarm study` end to end on the micro preset (seconds), its plans and its config checks
//! (the findings on hand-made curves are in `findings.rs`).

use rewarm::run_dir::LogLine;
use rewarm::study::{
    self,
    config::{Axis, StudyConfig},
    plan::{self, Kind},
    preset, StudyOptions,
};
use std::path::Path;
use std::process::Command;

use crate::common;

fn log(dir: &Path) -> Vec<LogLine> {
    std::fs::read_to_string(dir.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn eval_of(l: &LogLine, name: &str) -> f64 {
    l.eval.iter().find(|e| e.name == name).unwrap().loss
}

#[test]
fn micro_study_runs_every_arm_reports_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("study");
    drop(outdir::claim_dir(&dir, study::OWNER, false).unwrap());
    let mut cfg = preset::build("micro", &dir, false).unwrap();
    // A downstream task every run scores at each evaluation.
    cfg.eval.tasks = vec![rewarm::run_config::TaskSource {
        name: "choice".into(),
        path: crate::common::fixture("tasks/choice.jsonl"),
    }];
    let opts = |cfg: StudyConfig, force: bool| StudyOptions {
        config: cfg,
        dir: dir.clone(),
        jobs: Some(2),
        force,
        progress: false,
    };
    let o = study::run(&opts(cfg.clone(), false)).unwrap();
    let names: Vec<&str> = o.plan.runs.iter().map(|r| r.name.as_str()).collect();
    // The grid: upstream, the reference, each axis alone, the four baselines.
    for n in [
        "upstream",
        "reference",
        "warmup-0pct",
        "warmup-5pct",
        "warmup-20pct",
        "max-lr-0.5x",
        "max-lr-2x",
        "start-step-30",
        "replay-1pct",
        "replay-5pct",
        "replay-25pct",
        "schedule-wsd",
        "schedule-infinite",
        "moments-keep",
        "constant",
        "scratch",
        "union",
        "same-data",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    assert_eq!(names.len(), 18);
    assert_eq!(o.ran.len(), 18);

    // Every run's settings reached its run config.
    let run = |n: &str| o.plan.runs.iter().find(|r| r.name == n).unwrap();
    let up_final = dir.join("runs/upstream/final");
    assert_eq!(
        run("reference").config.model.checkpoint.as_ref(),
        Some(&up_final)
    );
    assert_eq!(
        run("start-step-30").config.model.checkpoint.as_ref(),
        Some(&dir.join("runs/upstream/checkpoints/step-00000030"))
    );
    assert!(dir
        .join("runs/upstream/checkpoints/step-00000030/model.safetensors")
        .exists());
    assert!(run("moments-keep").config.model.load_optimizer);
    assert!(!run("reference").config.model.load_optimizer);
    assert_eq!(run("max-lr-2x").config.schedule.max_lr, 6e-3);
    // The final upstream LR, min_ratio x max.
    assert!((run("constant").config.schedule.max_lr - 3e-4).abs() < 1e-18);
    let weights: Vec<(String, f64)> = run("replay-25pct")
        .config
        .data
        .train
        .iter()
        .map(|s| (s.name.clone(), s.weight))
        .collect();
    assert_eq!(
        weights,
        vec![
            ("downstream".into(), 0.75),
            ("upstream-replay".into(), 0.25)
        ]
    );
    assert_eq!(run("union").config.run.steps, 90);
    assert!(run("scratch").config.model.checkpoint.is_none());
    assert_eq!(run("same-data").config.data.train[0].name, "upstream");

    // A study's checkpoints are complete models: the corpora's tokenizer comes with them.
    for ck in ["runs/upstream/final", "runs/replay-25pct/final"] {
        for f in [
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "generation_config.json",
        ] {
            assert!(dir.join(ck).join(f).is_file(), "{ck}/{f} missing");
        }
    }

    // Compute-equivalent replay: the same steps and tokens as the reference; a quarter of
    // the sequences came from upstream (the checkpointed data cursors say so).
    let st: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("runs/replay-25pct/final/trainer_state.json")).unwrap(),
    )
    .unwrap();
    let taken: Vec<u64> = st["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["taken"].as_u64().unwrap())
        .collect();
    assert_eq!(taken, vec![180, 60]); // 30 steps x 8 sequences, 25 % replayed
    let rl = log(&dir.join("runs/replay-25pct"));
    assert_eq!(
        rl.last().unwrap().tokens,
        log(&dir.join("runs/reference")).last().unwrap().tokens
    );

    // All runs evaluate at the same steps: 0, the early 1, 2, 4, then every 6.
    let steps: Vec<u64> = log(&dir.join("runs/reference"))
        .iter()
        .filter(|l| !l.eval.is_empty())
        .map(|l| l.step)
        .collect();
    assert_eq!(steps, vec![0, 1, 2, 4, 6, 12, 18, 24, 30]);
    // ... and score the task there; the report's tasks.csv holds each run's last scores.
    let scored: Vec<u64> = log(&dir.join("runs/reference"))
        .iter()
        .filter(|l| !l.tasks.is_empty())
        .map(|l| l.step)
        .collect();
    assert_eq!(scored, steps);
    let last = log(&dir.join("runs/reference"));
    let acc = last
        .iter()
        .rev()
        .find(|l| !l.tasks.is_empty())
        .unwrap()
        .tasks[0]
        .acc;
    let tasks_csv = std::fs::read_to_string(dir.join("tasks.csv")).unwrap();
    assert_eq!(tasks_csv.lines().count(), 1 + 18, "{tasks_csv}");
    let row = tasks_csv
        .lines()
        .find(|l| l.starts_with("reference,"))
        .unwrap();
    assert!(
        row.starts_with(&format!("reference,30,choice,multiple-choice,12,{acc:.4},")),
        "{row}"
    );
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.contains("Downstream tasks"));

    // The report's numbers are the logs' numbers: forgetting by hand.
    let ref_log = log(&dir.join("runs/reference"));
    let evals: Vec<&LogLine> = ref_log.iter().filter(|l| !l.eval.is_empty()).collect();
    let forgetting = eval_of(evals.last().unwrap(), "upstream") - eval_of(evals[0], "upstream");
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "forgetting").unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let row = rdr
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "reference")
        .unwrap();
    assert_eq!(row[col].to_string(), format!("{forgetting:.4}"));
    // The branch point is the upstream run's final evaluation, on the same sequences.
    let up_log = log(&dir.join("runs/upstream"));
    assert_eq!(
        eval_of(up_log.last().unwrap(), "upstream"),
        eval_of(evals[0], "upstream")
    );

    // The page holds every finding with a verdict; this grid tests them all.
    let page = std::fs::read_to_string(o.report.as_ref().unwrap()).unwrap();
    assert!(page.contains("<svg") && page.contains("Published numbers"));
    // The tool's version and the study's config as saved; the stability gap on a log axis.
    assert!(page.contains(&format!("written by rewarm {}", env!("CARGO_PKG_VERSION"))));
    let saved = std::fs::read_to_string(dir.join("study.toml")).unwrap();
    assert!(
        saved.contains("[grid]")
            && page.contains(&format!("<pre>{}</pre>", charts::page::escape(&saved)))
    );
    assert!(page.contains("Stability gap") && page.contains("tokens (log)"));
    let found = std::fs::read_to_string(dir.join("findings.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(found.as_bytes());
    // A row per test of each finding: finding, source, verdict, seeds, test, mean, interval.
    let mut verdicts: Vec<(String, String)> = Vec::new();
    let mut gap = None;
    for r in rdr.records() {
        let r = r.unwrap();
        // One seed: the interval is the paired bootstrap's over the 16 + 16 sequences.
        assert_eq!(&r[3], "1", "{r:?}");
        assert_eq!(&r[8], "paired bootstrap over 16+16 sequences", "{r:?}");
        let (lo, hi): (f64, f64) = (r[6].parse().unwrap(), r[7].parse().unwrap());
        assert!(
            !r[4].is_empty() && r[5].parse::<f64>().is_ok() && lo <= hi,
            "{r:?}"
        );
        if &r[4] == "reference − constant final downstream" {
            gap = Some((r[5].parse::<f64>().unwrap(), lo, hi));
        }
        if !verdicts.iter().any(|v| v.0 == r[0]) {
            verdicts.push((r[0].to_string(), r[2].to_string()));
        }
    }
    assert_eq!(verdicts.len(), 13);
    for (id, v) in &verdicts {
        assert!(
            ["holds", "does not hold", "inconclusive"].contains(&v.as_str()),
            "{id}: {v}"
        );
        assert!(page.contains(id.as_str()), "{id} not on the page");
    }
    assert!(page.contains("paired bootstrap") && page.contains("--seeds"));
    // The bootstrap by hand: the final evaluation logs each sequence's loss (their mean is the
    // logged loss); the reference-minus-constant differences d over 16 sequences have a mean
    // equal to the test's, and a 95 % interval close to mean ± 1.96 sd(d) / 4 (sd over n).
    let sequences = |run: &str| {
        let l = log(&dir.join("runs").join(run));
        let e = l
            .iter()
            .rev()
            .find(|l| !l.eval.is_empty())
            .unwrap()
            .eval
            .clone();
        let down = e.into_iter().find(|e| e.name == "downstream").unwrap();
        let mean = down.sequences.iter().map(|&x| f64::from(x)).sum::<f64>() / 16.0;
        assert_eq!(down.sequences.len(), 16);
        assert!(
            (mean - down.loss).abs() < 1e-6 * down.loss,
            "{mean} vs {}",
            down.loss
        );
        down.sequences
    };
    let (a, b) = (sequences("reference"), sequences("constant"));
    let d: Vec<f64> = a.iter().zip(&b).map(|(x, y)| f64::from(x - y)).collect();
    let mean = d.iter().sum::<f64>() / 16.0;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 16.0).sqrt();
    let (m, lo, hi) = gap.unwrap();
    assert!((m - mean).abs() < 1e-5, "{m} vs {mean}");
    let half = 1.96 * sd / 4.0;
    assert!(
        ((hi - lo) / 2.0 / half - 1.0).abs() < 0.2,
        "[{lo}, {hi}] against {mean} ± {half}"
    );
    assert!(lo < mean && mean < hi);

    // One run's own page.
    let one = study::report::write_run_report(&dir.join("runs/reference"), &tmp.path().join("one"))
        .unwrap();
    let page = std::fs::read_to_string(one).unwrap();
    assert!(
        page.contains("<svg")
            && page.contains("downstream perplexity")
            && page.contains("<td class=\"num\">30</td>")
    );

    // A study run's saved run.toml re-runs as it is, from another working folder: its paths
    // are relative to the file's folder, and --out writes the run elsewhere. Same log, same
    // weights.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = common::rewarm_bin()
        .current_dir(elsewhere.path())
        .args(["--quiet", "train", "--config"])
        .arg(dir.join("runs/warmup-5pct/run.toml"))
        .args(["--out", "again"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::assert_identical_runs(
        &dir.join("runs/warmup-5pct"),
        &elsewhere.path().join("again"),
    );

    // Again: everything is done, nothing runs.
    let again = study::run(&opts(cfg.clone(), false)).unwrap();
    assert!(again.ran.is_empty() && again.resumed.is_empty());
    assert_eq!(again.skipped_done.len(), 18);

    // The page links only files that exist.
    for link in page.split("href=\"").skip(1) {
        let target = &link[..link.find('"').unwrap()];
        if !target.starts_with('#') {
            assert!(
                dir.join(target).exists(),
                "the report links {target}, which is missing"
            );
        }
    }

    // A run killed in the middle (a checkpoint at step 14, its log cut inside a line after
    // step 20) resumes from step 14 and logs exactly what the uninterrupted run logged.
    let constant = dir.join("runs/constant");
    let before = std::fs::read_to_string(constant.join("log.jsonl")).unwrap();
    std::fs::remove_dir_all(constant.join("final")).unwrap();
    for step in [21, 28] {
        std::fs::remove_dir_all(constant.join(format!("checkpoints/step-{step:08}"))).unwrap();
    }
    let cut = before.find("{\"step\":21,").unwrap() + 20;
    std::fs::write(constant.join("log.jsonl"), &before[..cut]).unwrap();
    let again = study::run(&opts(cfg.clone(), false)).unwrap();
    assert_eq!(again.resumed, vec!["constant".to_string()]);
    assert_eq!(
        std::fs::read_to_string(constant.join("log.jsonl")).unwrap(),
        before
    );

    // A changed grid is refused with the key named; --force runs only the new run.
    let mut changed = cfg.clone();
    changed.grid.max_lr = vec![0.5, 1.0, 3.0];
    let e = study::run(&opts(changed.clone(), false))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("grid.max_lr") && e.contains("--force"), "{e}");
    let forced = study::run(&opts(changed, true)).unwrap();
    assert_eq!(forced.ran, vec!["max-lr-3x".to_string()]);
}

#[test]
fn cli_dry_run_lists_runs_and_bad_configs_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rewarm"))
        .args(["study", "--preset", "micro", "--dry-run", "--out"])
        .arg(tmp.path().join("s"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("replay-25pct") && text.contains("18 runs; about"),
        "{text}"
    );
    assert!(
        !tmp.path().join("s/runs").exists(),
        "a dry run trains nothing"
    );

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[data]\nseq_len = 8\nbatch_size = 2\nupstream = { train = \"a\", val = \"b\" }\ndownstream = { train = \"c\", val = \"d\" }\n\
         [upstream]\nsteps = 10\nmax_lr = 1e-3\n[downstream]\nsteps = 5\n[grid]\nwarmpu = [0.0]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rewarm"))
        .args(["study", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("bad.toml") && err.contains("warmpu"),
        "{err}"
    );
}

#[test]
fn bad_study_configs_name_the_key_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "[model]\nhidden_size = 32\nnum_hidden_layers = 2\nnum_attention_heads = 2\nintermediate_size = 64\n\
         [data]\nseq_len = 8\nbatch_size = 2\nupstream = { train = \"u/train\", val = \"u/val\" }\n\
         downstream = { train = \"d/train\", val = \"d/val\" }\n\
         [upstream]\nsteps = 100\nmax_lr = 3e-4\n[downstream]\nsteps = 100\n";
    let load = |extra: &str| {
        let p = tmp.path().join("s.toml");
        std::fs::write(&p, format!("{base}{extra}")).unwrap();
        StudyConfig::load(&p)
            .and_then(|c| c.check_inputs().map(|_| c))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    };
    for (extra, key) in [
        ("[grid]\njoint = [[\"warmup\", \"lr\"]]\n", "unknown variant `lr`"),
        (
            "[grid]\nreplay = [0.0, 1.5]\n",
            "grid.replay = 1.5 is out of range: a share in [0, 1)",
        ),
        (
            "[grid]\nwarmup = []\nmax_lr = [1.0]\nreplay = []\nschedule = []\nmoments = []\nbaselines = []\n",
            "[grid] varies nothing",
        ),
    ] {
        let e = load(extra);
        assert!(e.contains("s.toml"), "{extra}: {e}");
        assert!(e.contains(key), "{extra}: {e}");
    }
    // Missing data: the key and the path named.
    let e = load("");
    assert!(
        e.contains("data.upstream.train") && e.contains("index.json"),
        "{e}"
    );
    // A given checkpoint that does not exist.
    for d in ["u/train", "u/val", "d/train", "d/val"] {
        std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        std::fs::write(tmp.path().join(d).join("index.json"), "{}").unwrap();
    }
    let p = tmp.path().join("c.toml");
    std::fs::write(
        &p,
        base.replace(
            "steps = 100\nmax_lr",
            "checkpoints = { final = \"nowhere\" }\nsteps = 100\nmax_lr",
        ),
    )
    .unwrap();
    let cfg = StudyConfig::load(&p).unwrap();
    let e = cfg.check_inputs().unwrap_err().to_string();
    assert!(
        e.contains("upstream.checkpoints.final") && e.contains("nowhere"),
        "{e}"
    );
}

/// A study config whose plan needs no files (its data is only named). 200 downstream steps:
/// the 0.5, 1 and 2 % warmups are 1, 2 and 4 steps (at 100 steps 0.5 % and 1 % would both be 1
/// step, the same run).
pub(crate) fn paper_config() -> StudyConfig {
    toml::from_str(
        "[model]\nhidden_size = 32\nnum_hidden_layers = 2\nnum_attention_heads = 2\nintermediate_size = 64\n\
         [data]\nseq_len = 8\nbatch_size = 2\nupstream = { train = \"/u/train\", val = \"/u/val\" }\n\
         downstream = { train = \"/d/train\", val = \"/d/val\" }\n\
         [upstream]\nsteps = 100\nmax_lr = 3e-4\nbranch = [0.1, 1.0]\n[downstream]\nsteps = 200\nevals = 10\n",
    )
    .unwrap()
}

#[test]
fn joint_axes_multiply_and_skips_leave_runs_out() {
    let mut cfg = paper_config();
    cfg.grid.joint = vec![vec![Axis::Warmup, Axis::MaxLr]];
    cfg.grid
        .schedule
        .push(study::config::Family::named("infinite-inv-sqrt"));
    cfg.grid.skip = vec!["warmup-0pct_max-lr-2x".into()];
    cfg.eval.tasks = vec![rewarm::run_config::TaskSource {
        name: "mc".into(),
        path: "/tasks/mc.jsonl".into(),
    }];
    let p = plan::plan(&cfg, Path::new("/study"), 1).unwrap();
    // Every run scores the study's tasks.
    assert!(p.runs.iter().all(|r| r.config.eval == cfg.eval));
    let names: Vec<&str> = p.runs.iter().map(|r| r.name.as_str()).collect();
    // 4 warmups x 3 max LRs = 12, of which the reference and the 5 single-axis runs exist
    // already: 6 new, one skipped.
    let joint: Vec<&&str> = names.iter().filter(|n| n.contains('_')).collect();
    assert_eq!(joint.len(), 5, "{joint:?}");
    assert!(names.contains(&"warmup-2pct_max-lr-0.5x"));
    assert!(!names.contains(&"warmup-0pct_max-lr-2x"));
    assert_eq!(p.skipped, vec!["warmup-0pct_max-lr-2x".to_string()]);
    let inv = p
        .runs
        .iter()
        .find(|r| r.name == "schedule-infinite-inv-sqrt")
        .unwrap();
    assert_eq!(
        inv.config.schedule.cooldown,
        rewarm::schedule::Cooldown::InvSqrt
    );
    // A skip that names no run is an error naming it.
    cfg.grid.skip = vec!["warmup-7pct".into()];
    let e = plan::plan(&cfg, Path::new("/study"), 1)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("warmup-7pct") && e.contains("--dry-run"), "{e}");
}

#[test]
fn the_papers_study_config_parses_and_plans() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/study.toml");
    let cfg = StudyConfig::load(&path).unwrap();
    let p = plan::plan(&cfg, Path::new("/study"), 0).unwrap();
    assert!(
        p.runs.iter().all(|r| r.kind != Kind::Upstream),
        "the checkpoints are given"
    );
    let names: Vec<&str> = p.runs.iter().map(|r| r.name.as_str()).collect();
    for n in [
        "start-step-10000",
        "start-step-27000",
        "schedule-infinite-inv-sqrt",
        "union",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let constant = p.runs.iter().find(|r| r.name == "constant").unwrap();
    assert!((constant.config.schedule.max_lr - 3e-5).abs() < 1e-18);
    let union = p.runs.iter().find(|r| r.name == "union").unwrap();
    assert_eq!(union.config.run.steps, 143000 + 141600);
    assert_eq!(constant.config.tokens_per_step(), 1024 * 2048);
    // Retention reaches every downstream run: the newest checkpoint and every 20,000th step.
    for r in &p.runs {
        assert_eq!(
            (r.config.run.keep_last, r.config.run.keep_every),
            (Some(1), Some(20000))
        );
    }
}

#[test]
fn grid_points_that_are_the_same_run_are_refused_or_merged_when_asked() {
    // At 120 steps 0.5 % and 1 % warmups both round to 1 step (0.6 and 1.2): the same run.
    let mut cfg = paper_config();
    cfg.downstream.steps = 120;
    let e = plan::plan(&cfg, Path::new("/study"), 1)
        .err()
        .unwrap()
        .to_string();
    for part in [
        "\"reference\" and \"warmup-0.5pct\" are the same run",
        "schedule.warmup_fraction 0.01 and 0.005",
        "each of their 120 steps",
        "over 1 steps",
        "skip = [\"warmup-0.5pct\"]",
        "merge_identical = true",
    ] {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
    // The hint's key exists: merged, the run goes once as the reference, which now also
    // stands on the warmup chart, and the plan says so.
    cfg.grid.merge_identical = true;
    let p = plan::plan(&cfg, Path::new("/study"), 1).unwrap();
    assert_eq!(
        p.merged,
        vec![("warmup-0.5pct".to_string(), "reference".to_string())]
    );
    let names: Vec<&str> = p.runs.iter().map(|r| r.name.as_str()).collect();
    assert!(!names.contains(&"warmup-0.5pct") && names.contains(&"warmup-2pct"));
    let reference = p.runs.iter().find(|r| r.name == "reference").unwrap();
    assert!(reference.axes.contains(&Axis::Warmup));
    // The other hint: skipping one of the two.
    cfg.grid.merge_identical = false;
    cfg.grid.skip = vec!["warmup-0.5pct".into()];
    let p = plan::plan(&cfg, Path::new("/study"), 1).unwrap();
    assert!(p.merged.is_empty() && p.skipped == vec!["warmup-0.5pct".to_string()]);
    // At 200 steps they are 1 and 2 steps: two runs.
    cfg.grid.skip = vec![];
    cfg.downstream.steps = 200;
    assert!(plan::plan(&cfg, Path::new("/study"), 1)
        .unwrap()
        .merged
        .is_empty());
}
