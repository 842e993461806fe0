//! Complete checkpoints: token folders record their tokenizer (with a padding token inside the
//! vocabulary) and its fingerprint, checkpoint folders of `train` and `init` hold the tokenizer
//! files Hugging Face loads, and `train` / `eval` refuse data made by another tokenizer.

use crate::common;

use common::{config, fixture, rewarm_bin, stderr, train_new, TINY};
use rewarm::tokenize::{self, hf, ReadOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const CONSTANT: &str = "kind = \"constant\"\nmax_lr = 1e-3";

#[test]
fn token_folders_record_their_tokenizer_with_a_padding_token() {
    let d = common::with_data();
    let up = d.path().join("up");
    // The fixture tokenizer (300 tokens, no padding token) gains <|padding|> as id 300.
    let tok = tokenize::load_tokenizer(&up.join("tokenizer.json")).unwrap();
    assert_eq!(tok.get_vocab_size(true), 301);
    assert_eq!(hf::pad_token(&tok), Some((hf::PAD, 300)));
    let bytes = std::fs::read(up.join("tokenizer.json")).unwrap();
    for split in ["train", "val"] {
        let idx = json(&up.join(split).join("index.json"));
        assert_eq!(idx["vocab_size"], 301);
        assert_eq!(idx["tokenizer_sha256"], sha256_hex(&bytes).as_str());
    }
    // The fingerprint is the canonical JSON's: the same for the file pretty-printed.
    let pretty = d.path().join("pretty.json");
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    std::fs::write(&pretty, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (file, _) = hf::TokenizerFile::read(&pretty).unwrap();
    assert_eq!(file.sha256, sha256_hex(&bytes));
    // Other text encodes as before the padding token was added.
    let orig = tokenize::load_tokenizer(&fixture("tokenizer.json")).unwrap();
    let text = "The quick brown fox, 42 times.";
    assert_eq!(
        tok.encode(text, false).unwrap().get_ids(),
        orig.encode(text, false).unwrap().get_ids()
    );
}

#[test]
fn trained_bpe_holds_the_padding_token_inside_its_vocabulary() {
    let d = tempfile::tempdir().unwrap();
    let (up, _) = rewarm::demo::write_corpus(&d.path().join("corpus"), 300, 5).unwrap();
    let tok = tokenize::train_bpe(&[up], &ReadOptions::default(), 320).unwrap();
    assert_eq!(tok.get_vocab_size(true), 320);
    assert_eq!(tok.token_to_id(tokenize::EOD), Some(0));
    assert_eq!(hf::pad_token(&tok), Some((hf::PAD, 1)));
    assert_eq!(hf::padded_vocab(320), 384);
}

/// The token folders of [`common::data`] and a tiny run `run` of `steps` steps on them.
fn trained_run(steps: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = common::with_data();
    let run = format!("steps = {steps}\ndevice = \"cpu\"");
    let cfg = config(d.path(), "run", TINY, CONSTANT, &run);
    train_new(&cfg);
    (d, cfg)
}

#[test]
fn train_writes_complete_checkpoints_with_a_padded_embedding() {
    let (d, _) = trained_run(2);
    let fin = d.path().join("run/final");
    assert_eq!(
        std::fs::read(fin.join("tokenizer.json")).unwrap(),
        std::fs::read(d.path().join("up/tokenizer.json")).unwrap()
    );
    let tc = json(&fin.join("tokenizer_config.json"));
    assert_eq!(tc["tokenizer_class"], "PreTrainedTokenizerFast");
    assert_eq!(tc["eos_token"], "<|endoftext|>");
    assert_eq!(tc["bos_token"], "<|endoftext|>");
    assert_eq!(tc["pad_token"], "<|padding|>");
    assert_eq!(tc["padding_side"], "left");
    let sm = json(&fin.join("special_tokens_map.json"));
    assert_eq!(sm["pad_token"], "<|padding|>");
    let gc = json(&fin.join("generation_config.json"));
    assert_eq!(
        (
            &gc["bos_token_id"],
            &gc["eos_token_id"],
            &gc["pad_token_id"]
        ),
        (&Value::from(0), &Value::from(0), &Value::from(300))
    );
    // 301 tokens padded to 384 rows; the padding token's id is inside the embedding.
    let c = json(&fin.join("config.json"));
    assert_eq!(c["vocab_size"], 384);
    assert_eq!(c["pad_token_id"], 300);
    let model = rewarm::checkpoint::load(&fin, tch::Device::Cpu).unwrap();
    assert_eq!(model.cfg.vocab_size, 384);
    // Intermediate checkpoints are complete too.
    let mid = d.path().join("run");
    let any_ck = std::fs::read_dir(&mid)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("config.json").exists())
        .collect::<Vec<_>>();
    assert!(!any_ck.is_empty());
    for ck in any_ck {
        assert!(
            ck.join("generation_config.json").exists(),
            "{}",
            ck.display()
        );
    }
}

/// A token folder of the same text made by another tokenizer (a BPE trained on it, as large
/// as the fixture tokenizer with its padding token).
fn other_tokens(dir: &Path) -> std::path::PathBuf {
    let (up, _) = rewarm::demo::write_corpus(&dir.join("corpus2"), 300, 5).unwrap();
    let tok = tokenize::train_bpe(std::slice::from_ref(&up), &ReadOptions::default(), 301).unwrap();
    let out = dir.join("other");
    common::tokenize_into(&tok, up, &out);
    out
}

#[test]
fn train_and_eval_refuse_data_of_another_tokenizer_unless_told() {
    let (d, cfg) = trained_run(1);
    let fin = d.path().join("run/final");
    let other = other_tokens(d.path());
    let ours = json(&d.path().join("up/train/index.json"))["tokenizer_sha256"].clone();
    let theirs = json(&other.join("val/index.json"))["tokenizer_sha256"].clone();
    assert_ne!(ours, theirs);

    let eval = |data: String, extra: &[&str]| {
        rewarm_bin()
            .args(["eval", "--device", "cpu", "--seq-len", "8"])
            .args(["--sequences", "2", "--data", &data, "--checkpoint"])
            .arg(&fin)
            .args(extra)
            .output()
            .unwrap()
    };
    let other_data = format!("other={}", other.display());
    let o = eval(other_data.clone(), &[]);
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    for part in [
        ours.as_str().unwrap(),
        theirs.as_str().unwrap(),
        "--allow-tokenizer-mismatch",
        "--data other",
    ] {
        assert!(e.contains(part), "{part} missing: {e}");
    }
    assert!(
        e.contains(&fin.join("tokenizer.json").display().to_string()),
        "{e}"
    );
    assert!(
        e.contains(&other.join("tokenizer.json").display().to_string()),
        "{e}"
    );
    let o = eval(other_data, &["--allow-tokenizer-mismatch"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("other"));
    // Data of the checkpoint's own tokenizer evaluates without a word.
    let o = eval(format!("up={}", d.path().join("up").display()), &[]);
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );

    // Continuing the checkpoint on the other data is refused, then allowed by the key.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let up = d.path().join("up").display().to_string();
    let cont = text
        .replace(&up, &other.display().to_string())
        .replace(
            "[model]\n",
            &format!("[model]\ncheckpoint = {:?}\n", fin.display().to_string()),
        )
        .replace(TINY, "")
        .replace("out = \"run\"", "out = \"run2\"");
    let p = d.path().join("cont.toml");
    std::fs::write(&p, &cont).unwrap();
    let c = rewarm::run_config::RunConfig::load(&p).unwrap();
    let e = format!("{:#}", rewarm::train::train(&c, false, false).unwrap_err());
    assert!(
        e.contains("allow_tokenizer_mismatch") && e.contains(theirs.as_str().unwrap()),
        "{e}"
    );
    std::fs::write(
        &p,
        cont.replace("[data]\n", "[data]\nallow_tokenizer_mismatch = true\n"),
    )
    .unwrap();
    let c = rewarm::run_config::RunConfig::load(&p).unwrap();
    rewarm::train::train(&c, false, false).unwrap();
}

#[test]
fn init_writes_the_tokenizer_files_or_says_there_are_none() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("ck");
    let o = rewarm_bin()
        .args(["init", "--preset", "14m", "--tokenizer"])
        .arg(fixture("tokenizer.json"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("<|padding|>"), "{}", stderr(&o));
    assert_eq!(json(&out.join("config.json"))["vocab_size"], 384);
    assert_eq!(
        json(&out.join("generation_config.json"))["pad_token_id"],
        300
    );
    let tok = tokenize::load_tokenizer(&out.join("tokenizer.json")).unwrap();
    assert_eq!(tok.token_to_id(hf::PAD), Some(300));
    assert!(out.join("special_tokens_map.json").exists());

    let bare = d.path().join("bare");
    let o = rewarm_bin()
        .args(["init", "--preset", "14m", "--vocab-size", "128", "--out"])
        .arg(&bare)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no tokenizer"));
    assert!(!bare.join("tokenizer.json").exists() && !bare.join("generation_config.json").exists());
}
