//! `rewarm demo`: the paper's question at toy scale, with no downloads. Two generated text
//! domains (nature prose upstream, server-log / recipe style text downstream) share a BPE
//! tokenizer; a tiny GPT-NeoX is pre-trained upstream with warmup + cosine, then continued
//! downstream (a) re-warmed to the upstream max LR and re-decayed, and (b) at the constant final
//! upstream LR (no re-warm). Upstream and downstream perplexity are tracked all along.

use crate::optim::AdamWConfig;
use crate::run_config::{
    DataSection, DataSource, DeviceChoice, ModelSection, Precision, RunConfig, RunSection,
};
use crate::schedule::{ScheduleConfig, ScheduleKind};
use crate::tokenize::{self, ReadOptions, TokenizeJob};
use crate::train::{self, RunSummary};
use anyhow::Result;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const NOUNS: &[&str] = &[
    "river", "forest", "mountain", "valley", "meadow", "owl", "fox", "deer", "heron", "oak",
    "willow", "stream", "cloud", "storm", "moss", "fern", "hawk", "badger", "lake", "hill",
];
const VERBS: &[&str] = &[
    "watches",
    "follows",
    "crosses",
    "shelters",
    "climbs",
    "circles",
    "feeds",
    "hides near",
    "rests beside",
    "calls to",
    "drifts over",
    "grows along",
];
const ADJS: &[&str] = &[
    "quiet", "ancient", "misty", "golden", "cold", "green", "silver", "wild", "gentle", "dark",
];
const TIMES: &[&str] = &[
    "at dawn",
    "in the evening",
    "after the rain",
    "in early spring",
    "under the moon",
    "before winter",
];

const SERVICES: &[&str] = &[
    "auth",
    "billing",
    "gateway",
    "storage",
    "scheduler",
    "cache",
    "search",
    "queue",
];
const LEVELS: &[&str] = &["INFO", "WARN", "ERROR", "DEBUG"];
const EVENTS: &[&str] = &[
    "request completed",
    "connection reset by peer",
    "retrying upstream call",
    "cache miss for key",
    "pod started",
    "cold start detected",
    "timeout waiting for lock",
    "config reloaded",
    "memory limit exceeded",
    "health check passed",
];
const INGREDIENTS: &[&str] = &[
    "flour", "butter", "sugar", "salt", "onion", "garlic", "tomato", "rice", "basil", "lemon",
];
const STEPS: &[&str] = &[
    "whisk",
    "chop",
    "simmer",
    "bake",
    "stir in",
    "season with",
    "fold in",
    "roast",
];

fn pick<'a>(r: &mut impl Rng, v: &[&'a str]) -> &'a str {
    v[r.gen_range(0..v.len())]
}

/// Nature prose: the upstream domain.
pub fn upstream_doc(r: &mut impl Rng) -> String {
    let mut s = String::new();
    for _ in 0..r.gen_range(3..8) {
        let _ = write!(
            s,
            "The {} {} {} the {} {} {}. ",
            pick(r, ADJS),
            pick(r, NOUNS),
            pick(r, VERBS),
            pick(r, ADJS),
            pick(r, NOUNS),
            pick(r, TIMES)
        );
    }
    s.trim_end().to_string()
}

/// Service logs and recipes: the downstream domain. A third of its documents open with a
/// sentence of upstream prose, as new corpora overlap old ones (SlimPajama and the Pile do).
pub fn downstream_doc(r: &mut impl Rng) -> String {
    let mut s = String::new();
    if r.gen_bool(0.33) {
        let _ = writeln!(
            s,
            "{}",
            upstream_doc(r).split(". ").next().unwrap_or_default()
        );
    }
    if r.gen_bool(0.6) {
        for _ in 0..r.gen_range(4..10) {
            let _ = writeln!(
                s,
                "{:02}:{:02}:{:02} {} {}-{} {} latency={}ms",
                r.gen_range(0..24),
                r.gen_range(0..60),
                r.gen_range(0..60),
                pick(r, LEVELS),
                pick(r, SERVICES),
                r.gen_range(1..9),
                pick(r, EVENTS),
                r.gen_range(1..900)
            );
        }
    } else {
        let _ = writeln!(
            s,
            "Recipe: {} and {} bake",
            pick(r, INGREDIENTS),
            pick(r, INGREDIENTS)
        );
        for i in 1..r.gen_range(4..8) {
            let _ = writeln!(
                s,
                "Step {i}: {} {} grams of {}.",
                pick(r, STEPS),
                r.gen_range(1..50) * 10,
                pick(r, INGREDIENTS)
            );
        }
    }
    s.trim_end().to_string()
}

/// Writes `docs` documents of each domain as JSON lines.
pub fn write_corpus(dir: &Path, docs: usize, seed: u64) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut write =
        |name: &str, f: &dyn Fn(&mut rand_chacha::ChaCha8Rng) -> String| -> Result<PathBuf> {
            let p = dir.join(name);
            let mut text = String::new();
            for _ in 0..docs {
                text.push_str(&serde_json::json!({ "text": f(&mut r) }).to_string());
                text.push('\n');
            }
            std::fs::write(&p, text)?;
            Ok(p)
        };
    let up = write("upstream.jsonl", &|r| upstream_doc(r))?;
    let down = write("downstream.jsonl", &|r| downstream_doc(r))?;
    Ok((up, down))
}

/// Writes `docs` documents of each domain under `dir/corpus`, trains a BPE tokenizer of
/// `vocab` tokens on both and tokenises each into `dir/tokens/upstream` and
/// `dir/tokens/downstream` (train and val splits); returns the two token folders.
pub fn write_tokens(
    dir: &Path,
    docs: usize,
    vocab: usize,
    progress: bool,
) -> Result<(PathBuf, PathBuf)> {
    let (up_text, down_text) = write_corpus(&dir.join("corpus"), docs, 7)?;
    let opts = ReadOptions::default();
    let tok = tokenize::train_bpe(&[up_text.clone(), down_text.clone()], &opts, vocab)?;
    let tokens = dir.join("tokens");
    let (up, down) = (tokens.join("upstream"), tokens.join("downstream"));
    for (src, out) in [(&up_text, &up), (&down_text, &down)] {
        tokenize::tokenize(&TokenizeJob {
            files: std::slice::from_ref(src),
            opts: &opts,
            tokenizer: &tok,
            out,
            val_fraction: 0.05,
            seed: 0,
            shard_tokens: 1 << 24,
            progress,
            force: false,
            unused: &[],
        })?;
    }
    Ok((up, down))
}

pub struct DemoOptions {
    pub out: PathBuf,
    pub upstream_steps: u64,
    pub downstream_steps: u64,
    pub threads: i32,
    pub progress: bool,
    /// Use `out` even if it is a non-empty folder that the demo did not make.
    pub force: bool,
}

/// What the demo writes in the ownership marker of its output folder.
pub const OWNER: &str = "rewarm demo";

pub struct DemoResult {
    pub upstream: RunSummary,
    pub rewarm: RunSummary,
    pub constant: RunSummary,
    pub chart: PathBuf,
}

/// Runs the whole demo; returns the three runs' summaries.
pub fn run(o: &DemoOptions) -> Result<DemoResult> {
    // The demo owns its folder: it may clear what it made there before, nothing else.
    let _lock = outdir::claim_dir(&o.out, OWNER, o.force)?;
    let (up_tok, down_tok) = write_tokens(&o.out, 6000, 1024, o.progress)?;
    let runs = o.out.join("runs");
    let _ = std::fs::remove_dir_all(&runs);
    let val = vec![
        DataSource {
            name: "upstream".into(),
            path: up_tok.join("val"),
            weight: 1.0,
        },
        DataSource {
            name: "downstream".into(),
            path: down_tok.join("val"),
            weight: 1.0,
        },
    ];
    let base = |train: PathBuf,
                tname: &str,
                steps: u64,
                schedule: ScheduleConfig,
                out: PathBuf,
                ck: Option<PathBuf>| RunConfig {
        model: ModelSection {
            checkpoint: ck.clone(),
            load_optimizer: false,
            preset: None,
            config: None,
            hidden_size: ck.is_none().then_some(128),
            num_hidden_layers: ck.is_none().then_some(4),
            num_attention_heads: ck.is_none().then_some(4),
            intermediate_size: ck.is_none().then_some(512),
            vocab_size: None,
            seed: 0,
        },
        data: DataSection {
            seq_len: 128,
            batch_size: 16,
            grad_accum: 1,
            seed: 1,
            train: vec![DataSource {
                name: tname.into(),
                path: train,
                weight: 1.0,
            }],
            val: val.clone(),
            eval_sequences: 32,
            allow_tokenizer_mismatch: false,
        },
        optim: AdamWConfig::default(),
        schedule,
        run: RunSection {
            steps,
            out,
            eval_every: (steps / 20).max(1),
            checkpoint_every: 0,
            checkpoint_at: vec![],
            keep_last: None,
            keep_every: None,
            eval_at: vec![],
            log_every: 1,
            device: DeviceChoice::Auto,
            precision: Precision::Auto,
            activation_checkpointing: 0,
            threads: o.threads,
            stop_after: None,
            dist_timeout_s: crate::run_config::default_dist_timeout(),
        },
        eval: Default::default(),
    };
    let sched = |kind: ScheduleKind, max_lr: f64, warmup: Option<f64>| ScheduleConfig {
        warmup_fraction: warmup,
        ..ScheduleConfig::new(kind, max_lr)
    };
    let max_lr = 3e-3;
    let step = |title: &str| {
        if o.progress {
            eprintln!("demo: {title}");
        }
    };
    step("pre-training on the upstream domain");
    let up_run = train::train(
        &base(
            up_tok.clone(),
            "upstream",
            o.upstream_steps,
            sched(ScheduleKind::named("cosine"), max_lr, Some(0.01)),
            runs.join("upstream"),
            None,
        ),
        false,
        o.progress,
    )?;
    let ck = runs.join("upstream/final");
    step("continuing downstream, re-warmed (1 % warmup to the upstream max LR, cosine to 10 %)");
    let rewarm = train::train(
        &base(
            down_tok.clone(),
            "downstream",
            o.downstream_steps,
            sched(ScheduleKind::named("cosine"), max_lr, Some(0.01)),
            runs.join("rewarm"),
            Some(ck.clone()),
        ),
        false,
        o.progress,
    )?;
    step("continuing downstream at the constant final upstream LR (no re-warm)");
    let constant = train::train(
        &base(
            down_tok,
            "downstream",
            o.downstream_steps,
            sched(ScheduleKind::named("constant"), max_lr * 0.1, None),
            runs.join("constant"),
            Some(ck),
        ),
        false,
        o.progress,
    )?;
    let chart = o.out.join("demo.svg");
    crate::report::draw_runs(
        &[
            ("re-warm".into(), runs.join("rewarm")),
            ("constant (no re-warm)".into(), runs.join("constant")),
        ],
        &chart,
    )?;
    Ok(DemoResult {
        upstream: up_run,
        rewarm,
        constant,
        chart,
    })
}
