//! Shared by the training test binaries: two small token folders and a run config over them.
#![allow(dead_code)]

use rewarm::tokenize::{self, ReadOptions, TokenizeJob};
use std::path::{Path, PathBuf};

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
        tokenize::tokenize(&TokenizeJob {
            files: &[src],
            opts: &ReadOptions::default(),
            tokenizer: &tok,
            out: &o,
            val_fraction: 0.1,
            seed: 0,
            shard_tokens: 1 << 20,
            progress: false,
            force: false,
            unused: &[],
        })
        .unwrap();
        out.push(o);
    }
    (out[0].clone(), out[1].clone())
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
