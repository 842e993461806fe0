//! `rewarm study`: a continual pre-training study (the paper's grid) from a study config or a
//! preset, resumable; under a launcher every run trains on all the ranks.

use crate::{dist, study};
use anyhow::{bail, Context, Result};
use outdir::outln;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// A study config (TOML).
    #[arg(long, required_unless_present = "preset", conflicts_with = "preset")]
    config: Option<PathBuf>,
    /// A ready study on generated data instead: micro (seconds).
    #[arg(long)]
    preset: Option<String>,
    /// The study folder (default: beside the config, named after it).
    #[arg(long, required_unless_present = "config")]
    out: Option<PathBuf>,
    /// Runs at a time (default: the config's [run] jobs; 1 under a launcher).
    #[arg(long)]
    jobs: Option<usize>,
    /// Print the runs with their steps and an estimated time from a short probe; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Re-run the runs whose settings changed; take OUT even if another tool made it.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args, progress: bool) -> Result<()> {
    let Args {
        config,
        preset,
        out,
        jobs,
        dry_run,
        force,
    } = a;
    let world = crate::dist::World::from_env()?;
    let (cfg, dir, preset) = match (config, preset) {
        (Some(c), None) => {
            let cfg = study::StudyConfig::load(&c)?;
            cfg.check_inputs()
                .map_err(|e| anyhow::anyhow!("{}: {e}", c.display()))?;
            let dir = out.unwrap_or_else(|| {
                let stem = c
                    .file_stem()
                    .map_or("study".into(), |s| s.to_string_lossy().into_owned());
                c.with_file_name(format!("{stem}.out"))
            });
            (cfg, dir, None)
        }
        (None, Some(p)) => {
            let dir = out.context("--preset needs --out")?;
            (study::preset::config(&p, &dir)?, dir, Some(p))
        }
        _ => bail!("give --config FILE or --preset NAME"),
    };
    if let (Some(w), true) = (&world, dry_run) {
        bail!(
            "--dry-run plans the study in one process; run it without the launcher (this process is rank {} of {})",
            w.rank,
            w.size
        );
    }
    let par = match world {
        Some(w) => Some(dist::DataParallel::join(
            w,
            cfg.run.device,
            cfg.run.dist_timeout_s,
        )?),
        None => None,
    };
    let lead = par.as_ref().is_none_or(|p| p.lead());
    if let Some(p) = &preset {
        study::write_preset(p, &dir, force, progress, par.as_ref())?;
    }
    if dry_run {
        return dry_run_plan(&cfg, &dir, jobs);
    }
    let o = study::run_in(
        &study::StudyOptions {
            config: cfg,
            dir,
            jobs,
            force,
            progress,
        },
        par.as_ref(),
    )?;
    // In a data-parallel study the other ranks' summaries would repeat rank 0's.
    if !lead {
        return Ok(());
    }
    outln!(
        "{} runs: {} run, {} resumed, {} already done; {:.1} s",
        o.plan.runs.len(),
        o.ran.len(),
        o.resumed.len(),
        o.skipped_done.len(),
        o.seconds
    );
    for f in &o.findings {
        outln!("{:<36} {}", f.id, f.verdict.as_str());
    }
    if let Some(page) = &o.report {
        outln!("report: {}", page.display());
    }
    Ok(())
}

/// `--dry-run`: the planned runs with their steps and times estimated from a short probe.
fn dry_run_plan(cfg: &study::StudyConfig, dir: &Path, jobs: Option<usize>) -> Result<()> {
    let jobs = jobs.unwrap_or(cfg.run.jobs).max(1);
    let threads = if cfg.run.threads > 0 {
        cfg.run.threads
    } else {
        (std::thread::available_parallelism().map_or(1, |n| n.get()) / jobs).max(1) as i32
    };
    let plan = study::plan::plan(cfg, dir, threads)?;
    let probe = study::probe(cfg, threads)?;
    outln!(
        "{:<36} {:>7} {:>12} {:>9}  settings",
        "run",
        "steps",
        "tokens",
        "est. s"
    );
    let mut total = 0.0;
    for r in &plan.runs {
        let est = study::estimate(r, cfg, &probe);
        total += est;
        outln!(
            "{:<36} {:>7} {:>12} {:>9.0}  {}",
            r.name,
            r.config.run.steps,
            r.config.run.steps * r.config.tokens_per_step(),
            est,
            study::report::describe(r)
        );
    }
    if !plan.skipped.is_empty() {
        outln!("left out: {}", plan.skipped.join(", "));
    }
    outln!(
        "{} runs; about {:.0} s one at a time, {:.0} s with {jobs} jobs ({:.3} s a step, {:.3} s an eval batch on {}, {threads} threads a run)",
        plan.runs.len(),
        total,
        study::estimate_wall(&plan, cfg, &probe, jobs),
        probe.step_s,
        probe.eval_batch_s,
        probe.device
    );
    Ok(())
}
