//! `rewarm generate`: continues prompts with a checkpoint (greedy, or sampled with
//! temperature, top-k and top-p; repetition penalty; stop strings), batched, with a key-value
//! cache. Prints each prompt and its continuation; `--out` also writes JSON lines.

use crate::generate::{self, Options};
use crate::{checkpoint, run_config, tokenize};
use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// A Hugging Face checkpoint folder (config.json and safetensors).
    #[arg(long)]
    checkpoint: PathBuf,
    /// A prompt, repeatable.
    #[arg(long)]
    prompt: Vec<String>,
    /// Prompts, one per line, or JSON lines with a "prompt" field (.jsonl, or lines starting
    /// with `{`); blank lines are skipped.
    #[arg(long)]
    prompts: Option<PathBuf>,
    /// The tokenizer.json (default: the checkpoint's).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    /// 0: greedy; otherwise sample from the logits divided by it.
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,
    /// Sample among the k most likely tokens (0: all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Sample among the most likely tokens whose probabilities reach p (1: all).
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// Penalise tokens already in the sequence (1: off; 1.1 to 1.3 are usual).
    #[arg(long, default_value_t = 1.0)]
    repetition_penalty: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// End a continuation where this text appears (cut before it); repeatable.
    #[arg(long)]
    stop: Vec<String>,
    /// Do not end at the end-of-sequence token.
    #[arg(long)]
    ignore_eos: bool,
    /// Prompts decoded together (left-padded).
    #[arg(long, default_value_t = 8, value_parser = super::at_least_one::<usize>)]
    batch_size: usize,
    /// Also write one JSON object per prompt (prompt, completion, token counts, the new token
    /// ids, finish).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing --out file.
    #[arg(long)]
    force: bool,
    /// auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: run_config::DeviceChoice,
    #[arg(long, value_enum, default_value_t = run_config::Precision::Auto)]
    precision: run_config::Precision,
}

/// A prompt and where it came from, for errors.
struct Prompt {
    text: String,
    origin: String,
}

pub fn run(a: Args) -> Result<()> {
    if a.stop.iter().any(String::is_empty) {
        bail!(
            "--stop '': an empty stop string would end every continuation at once; give some text"
        );
    }
    let prompts = collect_prompts(&a.prompt, a.prompts.as_deref())?;
    // Refused before any work when it exists (without --force); moved into place at the end.
    let mut out_file = match &a.out {
        Some(p) => Some(outdir::NewFile::create(p, a.force)?),
        None => None,
    };
    let tok_path = a
        .tokenizer
        .clone()
        .unwrap_or_else(|| a.checkpoint.join("tokenizer.json"));
    if a.tokenizer.is_none() && !tok_path.is_file() {
        bail!(
            "{}: no tokenizer.json in the checkpoint; pass --tokenizer FILE",
            a.checkpoint.display()
        );
    }
    let tok = tokenize::load_tokenizer(&tok_path)?;
    let dev = a.device.resolve()?;
    let mut model = checkpoint::load(&a.checkpoint, dev)?;
    model.set_compute(a.precision.compute(dev))?;
    let ctx = model.cfg.max_position_embeddings;
    let vocab = model.cfg.vocab_size;
    let mut ids = Vec::with_capacity(prompts.len());
    for p in &prompts {
        let enc = tok
            .encode(p.text.as_str(), false)
            .map_err(|e| anyhow::anyhow!("{}: cannot tokenise the prompt ({e})", p.origin))?;
        let v: Vec<i64> = enc.get_ids().iter().map(|&t| t as i64).collect();
        if v.is_empty() {
            bail!("{}: the prompt is empty; give some text", p.origin);
        }
        if v.len() as i64 > ctx {
            bail!(
                "{}: the prompt is {} tokens, longer than the model's context of {ctx} (max_position_embeddings in {})",
                p.origin,
                v.len(),
                a.checkpoint.join("config.json").display()
            );
        }
        if let Some(t) = v.iter().find(|&&t| t >= vocab) {
            bail!(
                "{}: token id {t} is outside the model's vocabulary of {vocab}; is {} the tokenizer it was trained with?",
                p.origin,
                tok_path.display()
            );
        }
        ids.push(v);
    }
    let opts = Options {
        max_new_tokens: a.max_new_tokens,
        temperature: a.temperature,
        top_k: a.top_k,
        top_p: a.top_p,
        repetition_penalty: a.repetition_penalty,
        seed: a.seed,
        eos: if a.ignore_eos {
            None
        } else {
            eos_id(&a.checkpoint, &tok)
        },
    };
    opts.check()?;
    let decode = |ids: &[i64]| -> Result<String> {
        let u: Vec<u32> = ids.iter().map(|&t| t as u32).collect();
        tok.decode(&u, true)
            .map_err(|e| anyhow::anyhow!("decoding generated tokens: {e}"))
    };
    // A stop string that ends at the newest token lies within its last `window` tokens (a
    // token is at least one byte; four more for a character split across tokens), so only
    // those are decoded at each step.
    let window = a.stop.iter().map(String::len).max().unwrap_or(0) + 4;
    let t0 = std::time::Instant::now();
    let mut results = Vec::with_capacity(ids.len());
    for (n, chunk) in ids.chunks(a.batch_size).enumerate() {
        // Each batch gets its own seed, so a prompt's tokens depend on its batch only.
        let o = Options {
            seed: a.seed.wrapping_add(n as u64),
            ..opts.clone()
        };
        let out = generate::generate(&model, chunk, &o, |_, new| {
            !a.stop.is_empty()
                && decode(&new[new.len().saturating_sub(window)..])
                    .is_ok_and(|t| a.stop.iter().any(|s| t.contains(s.as_str())))
        })?;
        results.extend(out);
    }
    let secs = t0.elapsed().as_secs_f64();
    let new_tokens: usize = results.iter().map(|g| g.ids.len()).sum();
    let mut stdout = std::io::stdout().lock();
    for (i, ((p, g), pids)) in prompts.iter().zip(&results).zip(&ids).enumerate() {
        let completion = cut_at_stop(decode(&g.ids)?, &a.stop);
        if i > 0 {
            writeln!(stdout)?;
        }
        writeln!(stdout, "{}{}", p.text, completion)?;
        let rec = serde_json::json!({
            "prompt": p.text,
            "completion": completion,
            "prompt_tokens": pids.len(),
            "new_tokens": g.ids.len(),
            "new_ids": g.ids,
            "finish": g.finish.as_str(),
        });
        if let Some(f) = out_file.as_mut() {
            writeln!(f, "{rec}")?;
        }
    }
    stdout.flush()?;
    if let Some(f) = out_file {
        f.commit()?;
    }
    eprintln!(
        "generated {new_tokens} tokens for {} prompts in {secs:.2} s ({:.1} tokens/s)",
        prompts.len(),
        new_tokens as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// The text before the first stop string in it (all of it when none appears).
pub fn cut_at_stop(text: String, stop: &[String]) -> String {
    match stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min()
    {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The end-of-sequence id: `generation_config.json`'s, else `config.json`'s, else the
/// tokenizer's end-of-document token.
fn eos_id(dir: &Path, tok: &tokenizers::Tokenizer) -> Option<i64> {
    for f in ["generation_config.json", "config.json"] {
        let v: Option<serde_json::Value> = std::fs::read_to_string(dir.join(f))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok());
        let e = v.as_ref().and_then(|v| v.get("eos_token_id"));
        match e {
            Some(serde_json::Value::Number(n)) => return n.as_i64(),
            Some(serde_json::Value::Array(a)) => return a.first().and_then(|n| n.as_i64()),
            _ => {}
        }
    }
    tokenize::eod_id(tok).ok().map(i64::from)
}

/// The prompts from `--prompt` and `--prompts`, each with its origin (FILE line N).
fn collect_prompts(given: &[String], file: Option<&Path>) -> Result<Vec<Prompt>> {
    let mut out: Vec<Prompt> = given
        .iter()
        .enumerate()
        .map(|(i, t)| Prompt {
            text: t.clone(),
            origin: format!("--prompt #{}", i + 1),
        })
        .collect();
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let jsonl = f.extension().is_some_and(|e| e == "jsonl");
        let before = out.len();
        for (n, line) in text.lines().enumerate() {
            let origin = format!("{} line {}", f.display(), n + 1);
            if line.trim().is_empty() {
                continue;
            }
            let text = if jsonl || line.trim_start().starts_with('{') {
                let v: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("{origin}: not a JSON object"))?;
                match v.get("prompt") {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(_) => bail!("{origin}: field \"prompt\" is not a string"),
                    None => bail!("{origin}: no \"prompt\" field"),
                }
            } else {
                line.to_string()
            };
            out.push(Prompt { text, origin });
        }
        if out.len() == before {
            bail!(
                "{}: no prompts (give one per line, or JSON lines with a \"prompt\" field)",
                f.display()
            );
        }
    }
    if out.is_empty() {
        bail!("no prompts: pass --prompt TEXT or --prompts FILE");
    }
    Ok(out)
}
