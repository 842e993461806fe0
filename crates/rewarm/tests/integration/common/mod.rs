//! Shared by the training test binaries: two small token folders and a run config over them.
#![allow(dead_code)]

use rewarm::tokenize::{self, ReadOptions, TokenizeJob};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A finished command's standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The rewarm binary, one intra-op thread per process (tests and ranks share the cores).
pub fn rewarm_bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rewarm"));
    c.env("OMP_NUM_THREADS", "1");
    c
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Two small token folders (upstream, downstream) tokenised with the fixture tokenizer.
pub fn data(dir: &Path) -> (PathBuf, PathBuf) {
    let (up, down) = rewarm::demo::write_corpus(&dir.join("corpus"), 300, 5).unwrap();
    let tok = tokenize::load_tokenizer(&fixture("tokenizer.json")).unwrap();
    let mut out = vec![];
    for (src, name) in [(up, "up"), (down, "down")] {
        let o = dir.join(name);
        tokenize_into(&tok, src, &o);
        out.push(o);
    }
    (out[0].clone(), out[1].clone())
}

/// Tokenises the text file `src` into the token folder `out` (a tenth held out into `val/`).
pub fn tokenize_into(tok: &tokenizers::Tokenizer, src: PathBuf, out: &Path) {
    tokenize::tokenize(&TokenizeJob {
        files: &[src],
        opts: &ReadOptions::default(),
        tokenizer: tok,
        out,
        val_fraction: 0.1,
        seed: 0,
        shard_tokens: 1 << 20,
        progress: false,
        force: false,
        unused: &[],
    })
    .unwrap();
}

/// A temporary folder holding [`data`]'s two token folders.
pub fn with_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    data(dir.path());
    dir
}

/// Two run folders whose final weights and logs are the same to the byte.
pub fn assert_identical_runs(a: &Path, b: &Path) {
    for file in ["final/model.safetensors", "log.jsonl"] {
        let read = |run: &Path| std::fs::read(run.join(file)).unwrap();
        assert!(
            read(a) == read(b),
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Trains the run config at `path` from the start.
pub fn train_new(path: &Path) -> rewarm::train::RunSummary {
    let cfg = rewarm::run_config::RunConfig::load(path).unwrap();
    rewarm::train::train(&cfg, false, false).unwrap()
}

pub fn config(dir: &Path, out: &str, extra_model: &str, schedule: &str, run: &str) -> PathBuf {
    let (up, down) = (dir.join("up"), dir.join("down"));
    let text = format!(
        r#"
[model]
{extra_model}

[data]
seq_len = 16
batch_size = 4
grad_accum = 2
seed = 9
train = [{{ name = "up", path = "{up}" }}]
val = [{{ name = "upstream", path = "{up}" }}, {{ name = "downstream", path = "{down}" }}]
eval_sequences = 8

[optim]
weight_decay = 0.1

[schedule]
{schedule}

[run]
out = "{out}"
{run}
"#,
        up = up.display(),
        down = down.display(),
    );
    let p = dir.join(format!("{out}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

pub const TINY: &str = "hidden_size = 32\nnum_hidden_layers = 2\nnum_attention_heads = 2\nintermediate_size = 64\nseed = 3";
pub const COSINE: &str = "kind = \"cosine\"\nmax_lr = 3e-3\nwarmup_steps = 2";

/// A u16 token folder holding `ids`, whose index claims `vocab`.
pub fn token_folder(dir: &Path, ids: &[u16], vocab: u32) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let bytes: Vec<u8> = ids.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("shard-00000.bin"), bytes).unwrap();
    let idx = serde_json::json!({"format": "rewarm-tokens-v1", "dtype": "u16", "vocab_size": vocab,
        "eod_id": 0, "tokens": ids.len(), "documents": 1,
        "shards": [{"file": "shard-00000.bin", "tokens": ids.len()}]});
    std::fs::write(dir.join("index.json"), idx.to_string()).unwrap();
    dir.to_path_buf()
}
