//! `rewarm eval`: loss and perplexity of a checkpoint on token folders, refusing data made by
//! another tokenizer than the checkpoint's, and its accuracy on downstream tasks (multiple
//! choice and last word, scored by log-likelihood as lm-evaluation-harness does).

use crate::dataset::TokenDataset;
use crate::tasks::{self, Scorer, Task};
use crate::tokenize::hf::{check_same, Origin, TokenizerFile};
use crate::{checkpoint, eval, run_config};
use anyhow::{bail, Context, Result};
use outdir::outln;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face checkpoint folder (config.json and safetensors).
    #[arg(long)]
    checkpoint: PathBuf,
    /// NAME=DIR, repeatable: token folders to measure loss and perplexity on.
    #[arg(long, num_args = 1..)]
    data: Vec<String>,
    /// [NAME=]FILE.jsonl, repeatable: a multiple-choice or last-word (LAMBADA) task in
    /// lm-eval's JSON-lines conventions, scored with the checkpoint's tokenizer.json.
    #[arg(long, num_args = 1..)]
    task: Vec<String>,
    #[arg(long, default_value_t = 2048, value_parser = super::at_least_one::<usize>)]
    seq_len: usize,
    #[arg(long, default_value_t = 8, value_parser = super::at_least_one::<usize>)]
    batch_size: usize,
    /// Sequences per dataset (0: all).
    #[arg(long, default_value_t = 0)]
    sequences: u64,
    /// auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: run_config::DeviceChoice,
    #[arg(long, value_enum, default_value_t = run_config::Precision::Auto)]
    precision: run_config::Precision,
    /// Evaluate data made by another tokenizer than the checkpoint's tokenizer.json (a
    /// warning instead of an error).
    #[arg(long)]
    allow_tokenizer_mismatch: bool,
}

pub fn run(a: Args) -> Result<()> {
    if a.data.is_empty() && a.task.is_empty() {
        bail!("nothing to evaluate: give --data NAME=DIR (loss and perplexity) or --task FILE.jsonl (accuracy)");
    }
    // Tasks are read before the model loads, so a bad file fails at once.
    let tasks = a
        .task
        .iter()
        .map(|t| {
            let (name, path) = match t.split_once('=') {
                Some((n, p)) => (n.to_string(), PathBuf::from(p)),
                None => {
                    let p = PathBuf::from(t);
                    let stem = p
                        .file_stem()
                        .map_or(t.clone(), |s| s.to_string_lossy().into_owned());
                    (stem, p)
                }
            };
            tasks::read(&name, &path)
        })
        .collect::<Result<Vec<_>>>()?;
    let dev = a.device.resolve()?;
    let mut model = checkpoint::load(&a.checkpoint, dev)?;
    model.set_compute(a.precision.compute(dev))?;
    // The checkpoint's tokenizer, read once: data must match it, and tasks are scored with it.
    let (ck_tok, tokenizer) = match TokenizerFile::of_checkpoint(&a.checkpoint)? {
        Some((file, tok)) => {
            let what = format!("checkpoint {}", a.checkpoint.display());
            (Some(Origin { what, file }), Some(tok))
        }
        None => (None, None),
    };
    let mut sets = Vec::new();
    for d in &a.data {
        let (name, dir) = d
            .split_once('=')
            .with_context(|| format!("--data {d:?}: expected NAME=DIR"))?;
        let ds = TokenDataset::open_val(&PathBuf::from(dir))
            .with_context(|| format!("--data {name}"))?;
        if let (Some(ck), Some(file)) = (&ck_tok, ds.tokenizer()?) {
            let data = Origin {
                what: format!("--data {name} ({})", ds.dir.display()),
                file,
            };
            check_same(
                &[ck.clone(), data],
                a.allow_tokenizer_mismatch,
                "pass --allow-tokenizer-mismatch",
            )?;
        }
        sets.push((name.to_string(), ds));
    }
    if !tasks.is_empty() {
        let Some(tokenizer) = &tokenizer else {
            bail!(
                "--task needs the checkpoint's tokenizer: {} has no tokenizer.json (checkpoints of rewarm train and init carry one)",
                a.checkpoint.display()
            );
        };
        score_tasks(&Scorer::new(&model, tokenizer)?, &tasks)?;
    }
    if sets.is_empty() {
        return Ok(());
    }
    outln!(
        "{:<16} {:>10} {:>12} {:>12}",
        "dataset",
        "loss",
        "perplexity",
        "tokens"
    );
    for (name, ds) in &sets {
        let t0 = std::time::Instant::now();
        let r = eval::evaluate(&model, name, ds, a.seq_len, a.batch_size, a.sequences)?;
        outln!(
            "{:<16} {:>10.4} {:>12.3} {:>12}   ({:.0} tokens/s)",
            r.name,
            r.loss,
            r.perplexity,
            r.tokens,
            r.tokens as f64 / t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Scores every task and prints a line each.
fn score_tasks(scorer: &Scorer, tasks: &[Task]) -> Result<()> {
    outln!(
        "{:<16} {:<16} {:>9} {:>8} {:>9} {:>11}",
        "task",
        "kind",
        "examples",
        "acc",
        "acc_norm",
        "perplexity"
    );
    for t in tasks {
        let bar = indicatif::ProgressBar::new(t.examples.len() as u64).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{elapsed_precise}] {bar:30} {pos}/{len} examples ({per_sec}, ETA {eta})",
            )?,
        );
        bar.set_message(t.name.clone());
        let s = tasks::score(t, scorer, |k| bar.set_position(k as u64))?;
        bar.finish_and_clear();
        let opt = |v: Option<f64>, p: usize| v.map_or("—".to_string(), |x| format!("{x:.p$}"));
        outln!(
            "{:<16} {:<16} {:>9} {:>8.4} {:>9} {:>11}",
            s.task,
            s.kind,
            s.examples,
            s.acc,
            opt(s.acc_norm, 4),
            opt(s.perplexity, 3)
        );
    }
    Ok(())
}
