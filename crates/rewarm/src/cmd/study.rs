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
    /// Runs at a time (default: the config's [run] jobs; 1 under a launcher); at most the
    /// machine's cores.
    #[arg(long, value_parser = super::at_least_one::<usize>)]
    jobs: Option<usize>,
    /// Print the runs with their steps and an estimated time from a short probe; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Re-run the runs whose settings changed; take OUT even if another tool made it.
    #[arg(long)]
    force: bool,
    /// Judge the findings over N seeds: the first N of the config's [grid] seeds (more than it
    /// lists continue from its last seed); 1 runs the grid once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100))]
    seeds: Option<u64>,
}

pub fn run(a: Args, progress: bool) -> Result<()> {
    let Args {
        config,
        preset,
        out,
        jobs,
        dry_run,
        force,
        seeds,
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
    let mut cfg = cfg;
    if let Some(n) = seeds {
        cfg.limit_seeds(n as usize);
    }
    if let (Some(w), true) = (&world, dry_run) {
        bail!(
            "--dry-run plans the study in one process; run it without the launcher (this process is rank {} of {})",
            w.rank,
            w.size
        );
    }
    // Too many jobs for this machine is refused before anything is written.
    if world.is_none() && jobs.is_some() {
        study::choose_jobs(cfg.run.jobs, jobs, super::cores(), None)?;
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
    // The study folder stays locked to this study (rank 0's) until it ends; a dry run of a
    // config writes nothing and takes nothing.
    let claimed = if preset.is_some() || !dry_run {
        Some(study::claim(&dir, force, par.as_ref())?)
    } else {
        None
    };
    if let (Some(p), Some(c)) = (&preset, &claimed) {
        study::write_preset(p, &dir, progress, par.as_ref(), c)?;
    }
    let Some(claimed) = claimed.filter(|_| !dry_run) else {
        return dry_run_plan(&cfg, &dir, jobs);
    };
    let o = study::run_claimed(
        &study::StudyOptions {
            config: cfg,
            dir,
            jobs,
            force,
            progress,
        },
        par.as_ref(),
        &claimed,
    )?;
    // In a data-parallel study the other ranks' summaries would repeat rank 0's.
    if !lead {
        return Ok(());
    }
    print_merged(&o.plan)?;
    outln!(
        "{} runs: {} run, {} resumed, {} already done; {:.1} s",
        o.plan.runs.len(),
        o.ran.len(),
        o.resumed.len(),
        o.skipped_done.len(),
        o.seconds
    );
    for f in &o.findings {
        let seeds = match f.seeds {
            0 => String::new(),
            1 => " (1 seed, no interval)".to_string(),
            n => format!(" ({n} seeds)"),
        };
        outln!("{:<36} {}{seeds}", f.id, f.verdict.as_str());
    }
    if let Some(page) = &o.report {
        outln!("report: {}", page.display());
    }
    Ok(())
}

/// `--dry-run`: the planned runs with their steps and times estimated from a short probe.
fn dry_run_plan(cfg: &study::StudyConfig, dir: &Path, jobs: Option<usize>) -> Result<()> {
    let cores = super::cores();
    let jobs = study::choose_jobs(cfg.run.jobs, jobs, cores, None)?;
    let (threads, _) = study::threads_for(cfg.run.threads, jobs, cores);
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
    print_merged(&plan)?;
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

/// The runs `[grid] merge_identical` merged, each with the run that stands for it.
fn print_merged(plan: &study::plan::Plan) -> Result<()> {
    for (gone, kept) in &plan.merged {
        outln!(
            "merged: {gone} is the same run as {kept} ([grid] merge_identical); run once as {kept}"
        );
    }
    Ok(())
}
