//! Ready studies that need no data of the user's: `micro` (seconds: the tests run it) on the
//! two generated domains of `rewarm demo`, with a tiny GPT-NeoX and the whole grid.

use super::config::{
    Corpus, Downstream, Grid, Settings, StudyConfig, StudyData, StudyRun, Upstream,
};
use crate::optim::AdamWConfig;
use crate::run_config::ModelSection;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub const NAMES: &[&str] = &["micro"];

/// Writes the preset's data under `dir/data` (once; kept for later invocations) and returns
/// its study config.
pub fn build(name: &str, dir: &Path, progress: bool) -> Result<StudyConfig> {
    write_data(name, dir, progress)?;
    config(name, dir)
}

/// The preset's study config, reading its data from `dir/data` (written by [`write_data`]).
pub fn config(name: &str, dir: &Path) -> Result<StudyConfig> {
    let dir = &std::path::absolute(dir)?;
    match name {
        "micro" => Ok(micro(dir)),
        _ => bail!("no study preset {name:?}; there are: {}", NAMES.join(", ")),
    }
}

/// Writes the preset's data under `dir/data`, unless it is there already.
pub fn write_data(name: &str, dir: &Path, progress: bool) -> Result<()> {
    let dir = &std::path::absolute(dir)?;
    match name {
        "micro" => write_tokens(dir, MICRO_DOCS, MICRO_VOCAB, progress),
        _ => bail!("no study preset {name:?}; there are: {}", NAMES.join(", ")),
    }
}

/// The token folders of the two domains under `dir/data`.
fn token_dirs(dir: &Path) -> (PathBuf, PathBuf) {
    let data = dir.join("data");
    (data.join("tokens/upstream"), data.join("tokens/downstream"))
}

fn write_tokens(dir: &Path, docs: usize, vocab: usize, progress: bool) -> Result<()> {
    let (up, down) = token_dirs(dir);
    if up.join("train/index.json").exists() && down.join("train/index.json").exists() {
        return Ok(());
    }
    crate::demo::write_tokens(&dir.join("data"), docs, vocab, progress)?;
    Ok(())
}

/// The micro preset's corpus: documents per domain and BPE vocabulary.
const MICRO_DOCS: usize = 1500;
const MICRO_VOCAB: usize = 384;

fn micro(dir: &Path) -> StudyConfig {
    let (up, down) = token_dirs(dir);
    let corpus = |p: &Path| Corpus {
        train: p.join("train"),
        val: p.join("val"),
    };
    StudyConfig {
        eval: Default::default(),
        model: Some(ModelSection {
            hidden_size: Some(32),
            num_hidden_layers: Some(2),
            num_attention_heads: Some(2),
            intermediate_size: Some(128),
            ..ModelSection::default()
        }),
        data: StudyData {
            seq_len: 32,
            batch_size: 8,
            grad_accum: 1,
            seed: 1,
            eval_sequences: 16,
            allow_tokenizer_mismatch: false,
            upstream: corpus(&up),
            downstream: corpus(&down),
        },
        upstream: Upstream {
            steps: 60,
            max_lr: 3e-3,
            warmup_fraction: 0.05,
            min_ratio: 0.1,
            branch: vec![0.5, 1.0],
            checkpoints: Default::default(),
            final_lr: None,
        },
        downstream: Downstream {
            steps: 30,
            evals: 5,
            checkpoint_every: 0,
            keep_last: None,
            keep_every: None,
        },
        // At 30 steps, 0.5-2 % warmups are all 0 or 1 step: the micro grid scales them up.
        grid: Grid {
            warmup: vec![0.0, 0.05, 0.1, 0.2],
            reference: Settings {
                warmup: 0.1,
                ..Settings::default()
            },
            ..Grid::default()
        },
        optim: AdamWConfig::default(),
        run: StudyRun {
            threads: 1,
            ..StudyRun::default()
        },
    }
}
