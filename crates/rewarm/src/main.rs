use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use outdir::outln;
use rewarm::{
    checkpoint, config::ModelConfig, demo, eval, launch, model::GptNeox, report, study, tokenize,
    train,
};
use std::path::PathBuf;

/// Continual pre-training of GPT-NeoX / Pythia models with learning-rate re-warming.
#[derive(Parser)]
#[command(name = "rewarm", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Hide progress bars.
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Tokenise text / JSON lines (.jsonl, .jsonl.zst) / Parquet into packed token shards.
    Tokenize {
        /// A Hugging Face tokenizer.json.
        #[arg(long, conflicts_with = "train_bpe")]
        tokenizer: Option<PathBuf>,
        /// Train a byte-level BPE tokenizer of this vocabulary size on the inputs instead.
        #[arg(long)]
        train_bpe: Option<usize>,
        /// Files or folders.
        #[arg(long, required = true, num_args = 1..)]
        input: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// JSON / Parquet field with the text.
        #[arg(long, default_value = "text")]
        text_field: String,
        /// Plain text documents: paragraph, line or file.
        #[arg(long, default_value = "paragraph")]
        text_docs: String,
        /// Share of documents held out into OUT/val.
        #[arg(long, default_value_t = 0.0)]
        val_fraction: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Tokens per shard file.
        #[arg(long, default_value_t = 1 << 28)]
        shard_tokens: u64,
        /// Replace OUT even if it is not a folder that `rewarm tokenize` made.
        #[arg(long)]
        force: bool,
    },
    /// Print (and draw) the learning rate per step of a run config.
    Schedule {
        #[arg(long)]
        config: PathBuf,
        /// Print every Nth step (default: about 20 lines).
        #[arg(long)]
        every: Option<u64>,
        /// Write the curve as SVG.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Train or continue training from a run config (TOML).
    Train {
        #[arg(long)]
        config: PathBuf,
        /// Continue the run in [run] out from its latest checkpoint.
        #[arg(long)]
        resume: bool,
    },
    /// Run N ranks of a rewarm command on this machine, data-parallel, as torchrun would:
    /// `rewarm launch --nproc 2 -- train --config run.toml` (or `-- study ...`).
    Launch {
        /// Processes (ranks) to start.
        #[arg(long)]
        nproc: usize,
        /// Rendezvous port on 127.0.0.1 (default: a free one).
        #[arg(long)]
        master_port: Option<u16>,
        /// Seconds the other ranks get to end by themselves after one fails.
        #[arg(long, default_value_t = 30)]
        grace: u64,
        /// The rewarm command each rank runs, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
    /// Loss and perplexity of a checkpoint on token folders.
    Eval {
        #[arg(long)]
        checkpoint: PathBuf,
        /// NAME=DIR, repeatable.
        #[arg(long, required = true, num_args = 1..)]
        data: Vec<String>,
        #[arg(long, default_value_t = 2048)]
        seq_len: usize,
        #[arg(long, default_value_t = 8)]
        batch_size: usize,
        /// Sequences per dataset (0: all).
        #[arg(long, default_value_t = 0)]
        sequences: u64,
        /// auto (CUDA when present), cpu, cuda or cuda:N.
        #[arg(long, default_value = "auto")]
        device: train::DeviceChoice,
        #[arg(long, value_enum, default_value_t = train::Precision::Auto)]
        precision: train::Precision,
    },
    /// Write a randomly initialised Hugging Face checkpoint (preset or config.json).
    Init {
        #[arg(long, conflicts_with = "config")]
        preset: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 50304)]
        vocab_size: i64,
        #[arg(long, default_value_t = 0)]
        seed: i64,
        #[arg(long)]
        out: PathBuf,
        /// Replace OUT even if it is not a checkpoint folder that rewarm made.
        #[arg(long)]
        force: bool,
    },
    /// Run a continual pre-training study (the paper's grid) from a study config; resumable.
    /// Under a launcher (torchrun, srun, `rewarm launch`) each run trains on all the ranks.
    Study {
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
    },
    /// Write a study's report (HTML with SVG charts, findings checked), or one run's curves.
    Report {
        #[arg(long, required_unless_present = "run", conflicts_with = "run")]
        study: Option<PathBuf>,
        /// A single run folder.
        #[arg(long)]
        run: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Two-domain toy study with no downloads: pre-train, then continue with and without re-warming.
    Demo {
        #[arg(long, default_value = "target/rewarm-demo")]
        out: PathBuf,
        #[arg(long, default_value_t = 600)]
        upstream_steps: u64,
        #[arg(long, default_value_t = 300)]
        downstream_steps: u64,
        #[arg(long, default_value_t = 0)]
        threads: i32,
        /// Use OUT even if it is a non-empty folder that `rewarm demo` did not make.
        #[arg(long)]
        force: bool,
    },
}

fn run_study(
    config: Option<PathBuf>,
    preset: Option<String>,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    dry_run: bool,
    force: bool,
    progress: bool,
) -> Result<()> {
    let world = rewarm::dist::World::from_env()?;
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
        Some(w) => Some(train::DataParallel::join(
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
        let jobs = jobs.unwrap_or(cfg.run.jobs).max(1);
        let threads = if cfg.run.threads > 0 {
            cfg.run.threads
        } else {
            (std::thread::available_parallelism().map_or(1, |n| n.get()) / jobs).max(1) as i32
        };
        let plan = study::plan::plan(&cfg, &dir, threads)?;
        let probe = study::probe(&cfg, threads)?;
        outln!(
            "{:<36} {:>7} {:>12} {:>9}  settings",
            "run",
            "steps",
            "tokens",
            "est. s"
        );
        let mut total = 0.0;
        for r in &plan.runs {
            let est = study::estimate(r, &cfg, &probe);
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
            study::estimate_wall(&plan, &cfg, &probe, jobs),
            probe.step_s,
            probe.eval_batch_s,
            probe.device
        );
        return Ok(());
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

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => {}
        Err(e) if outdir::is_broken_pipe(&e) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let progress = !cli.quiet;
    let world = rewarm::dist::World::from_env()?;
    if let Some(w) = &world {
        if !matches!(cli.cmd, Cmd::Train { .. } | Cmd::Study { .. }) {
            bail!(
                "this process is rank {} of {} ({}), but only `rewarm train` and `rewarm study` run data-parallel; run this command as one process",
                w.rank,
                w.size,
                w.source
            );
        }
    }
    match cli.cmd {
        Cmd::Tokenize {
            tokenizer,
            train_bpe,
            input,
            out,
            text_field,
            text_docs,
            val_fraction,
            seed,
            shard_tokens,
            force,
        } => {
            outdir::check_dest(&out, tokenize::OWNER, force)?;
            let (files, unused) = tokenize::expand_inputs(&input)?;
            for u in &unused {
                eprintln!("not read: {}: {}", u.file.display(), u.reason);
            }
            let opts = tokenize::ReadOptions {
                text_field,
                text_docs,
            };
            let tok = match (tokenizer, train_bpe) {
                (Some(t), None) => tokenize::load_tokenizer(&t)?,
                (None, Some(v)) => tokenize::train_bpe(&files, &opts, v)?,
                _ => bail!("give --tokenizer FILE or --train-bpe VOCAB"),
            };
            let s = tokenize::tokenize(&tokenize::TokenizeJob {
                files: &files,
                opts: &opts,
                tokenizer: &tok,
                out: &out,
                val_fraction,
                seed,
                shard_tokens,
                progress,
                force,
                unused: &unused,
            })?;
            let val_tokens = s.val.as_ref().map_or(0, |v| v.tokens);
            outln!(
                "{} files, {} documents, {} skipped; train {} tokens in {} shards ({}), val {} tokens; {:.1} s, {:.0} tokens/s, {:.1} MB/s",
                files.len(),
                s.stats.documents,
                s.stats.skipped.len(),
                s.train.tokens,
                s.train.shards.len(),
                s.train.dtype,
                val_tokens,
                s.seconds,
                (s.train.tokens + val_tokens) as f64 / s.seconds,
                s.stats.bytes as f64 / 1e6 / s.seconds
            );
            for k in s.stats.skipped.iter().take(5) {
                eprintln!("skipped {}:{}: {}", k.file.display(), k.line, k.reason);
            }
            if s.stats.skipped.len() > 5 {
                eprintln!(
                    "... {} more, all listed in {}",
                    s.stats.skipped.len() - 5,
                    out.join("skipped.tsv").display()
                );
            }
        }
        Cmd::Schedule { config, every, svg } => {
            let cfg = train::RunConfig::load(&config)?;
            let total = cfg.run.steps;
            let s = cfg.schedule.build(total)?;
            outln!("# {}", s.describe());
            let every = every.unwrap_or((total / 20).max(1));
            if every == 0 {
                bail!("--every must be at least 1");
            }
            outln!("step\tlr");
            let mut t = 0;
            while t <= total {
                outln!("{t}\t{:.6e}", s.lr(t));
                t += every;
            }
            if let Some(svg) = svg {
                let pts: Vec<(f64, f64)> = (0..=total).map(|t| (t as f64, s.lr(t))).collect();
                report::draw_schedule(&pts, &s.describe(), &svg)?;
                eprintln!("wrote {}", svg.display());
            }
        }
        Cmd::Launch {
            nproc,
            master_port,
            grace,
            command,
        } => {
            launch::launch(&launch::LaunchOptions {
                nproc,
                master_port,
                program: std::env::current_exe().context("locating the rewarm executable")?,
                args: command,
                grace: std::time::Duration::from_secs(grace),
            })?;
        }
        Cmd::Train { config, resume } => {
            let cfg = train::RunConfig::load(&config)?;
            let s = train::train(&cfg, resume, progress)?;
            // In a data-parallel run the other ranks' summaries would repeat rank 0's.
            if world.is_some_and(|w| w.rank != 0) {
                return Ok(());
            }
            outln!(
                "{} steps, {} tokens, {:.1} s, {:.0} tokens/s; run folder {}",
                s.steps,
                s.tokens,
                s.seconds,
                s.tokens_per_second,
                s.out.display()
            );
            for e in &s.final_eval {
                outln!(
                    "{:<16} loss {:.4}  perplexity {:.3}",
                    e.name,
                    e.loss,
                    e.perplexity
                );
            }
        }
        Cmd::Eval {
            checkpoint: ck,
            data,
            seq_len,
            batch_size,
            sequences,
            device,
            precision,
        } => {
            let dev = device.resolve()?;
            let mut model = checkpoint::load(&ck, dev)?;
            model.set_compute(precision.compute(dev))?;
            outln!(
                "{:<16} {:>10} {:>12} {:>12}",
                "dataset",
                "loss",
                "perplexity",
                "tokens"
            );
            for d in data {
                let (name, dir) = d
                    .split_once('=')
                    .with_context(|| format!("--data {d:?}: expected NAME=DIR"))?;
                let ds = train::open_val(&PathBuf::from(dir))
                    .with_context(|| format!("--data {name}"))?;
                let t0 = std::time::Instant::now();
                let r = eval::evaluate(&model, name, &ds, seq_len, batch_size, sequences)?;
                outln!(
                    "{:<16} {:>10.4} {:>12.3} {:>12}   ({:.0} tokens/s)",
                    r.name,
                    r.loss,
                    r.perplexity,
                    r.tokens,
                    r.tokens as f64 / t0.elapsed().as_secs_f64()
                );
            }
        }
        Cmd::Init {
            preset,
            config,
            vocab_size,
            seed,
            out,
            force,
        } => {
            outdir::check_dest(&out, checkpoint::OWNER, force)?;
            let cfg = match (preset, config) {
                (Some(p), None) => ModelConfig::preset(&p, vocab_size)?,
                (None, Some(c)) => ModelConfig::load(&c)?,
                _ => bail!("give --preset or --config"),
            };
            let model = GptNeox::new(&cfg, tch::Device::Cpu, seed)?;
            checkpoint::save(&out, &model, force)?;
            outln!(
                "{} parameters written to {}",
                model.params.numel(),
                out.display()
            );
        }
        Cmd::Study {
            config,
            preset,
            out,
            jobs,
            dry_run,
            force,
        } => run_study(config, preset, out, jobs, dry_run, force, progress)?,
        Cmd::Report {
            study: dir,
            run,
            out,
        } => {
            let page = match (dir, run) {
                (Some(dir), None) => {
                    let cfg =
                        study::StudyConfig::load(&dir.join("study.toml")).with_context(|| {
                            format!(
                                "{} is not a study folder (rewarm study writes one)",
                                dir.display()
                            )
                        })?;
                    let plan = study::plan::plan(&cfg, &dir, 0)?;
                    if out != dir {
                        outdir::claim_dir(&out, study::report::OWNER, false)?;
                    }
                    study::report::write_report(&out, &dir, &plan)?.0
                }
                (None, Some(run)) => {
                    if !run.join("run.toml").exists() {
                        bail!("{}: not a run folder (no run.toml)", run.display());
                    }
                    outdir::claim_dir(&out, study::report::OWNER, false)?;
                    study::report::write_run_report(&run, &out)?
                }
                _ => bail!("give --study DIR or --run DIR"),
            };
            outln!("report: {}", page.display());
        }
        Cmd::Demo {
            out,
            upstream_steps,
            downstream_steps,
            threads,
            force,
        } => {
            let t0 = std::time::Instant::now();
            let r = demo::run(&demo::DemoOptions {
                out: out.clone(),
                upstream_steps,
                downstream_steps,
                threads,
                progress,
                force,
            })?;
            let get = |s: &train::RunSummary, n: &str| {
                s.final_eval
                    .iter()
                    .find(|e| e.name == n)
                    .map_or(f64::NAN, |e| e.perplexity)
            };
            outln!("validation perplexity (lower is better)");
            outln!("{:<34} {:>10} {:>11}", "run", "upstream", "downstream");
            for (name, s) in [
                ("upstream pre-training", &r.upstream),
                ("downstream, re-warmed + re-decayed", &r.rewarm),
                ("downstream, constant LR (no re-warm)", &r.constant),
            ] {
                outln!(
                    "{:<34} {:>10.3} {:>11.3}",
                    name,
                    get(s, "upstream"),
                    get(s, "downstream")
                );
            }
            outln!(
                "chart: {}   runs: {}   ({:.0} s)",
                r.chart.display(),
                out.join("runs").display(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
