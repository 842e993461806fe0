//! The tokenizer as it travels with data and checkpoints: the padding token every rewarm
//! tokenizer holds (`<|padding|>`, as in Pythia's), the tokenizer's fingerprint (sha256 of its
//! canonical `tokenizer.json`) that token folders record, and the files that make a checkpoint
//! folder a complete Hugging Face model (`tokenizer.json`, `tokenizer_config.json`,
//! `special_tokens_map.json`, `generation_config.json`).

use super::{eod_id, load_tokenizer, EOD};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokenizers::{AddedToken, Tokenizer};

/// The padding token rewarm adds to a tokenizer that has none (Pythia's, id 1 there).
pub const PAD: &str = "<|padding|>";

/// Padding tokens of common tokenizers, recognised as they are.
const PAD_NAMES: [&str; 4] = [PAD, "<pad>", "[PAD]", "<|pad|>"];

/// Model vocabularies are padded to a multiple of this (Pythia: 50,277 tokens, 50,304 rows).
pub const VOCAB_MULTIPLE: i64 = 128;

/// `vocab` rounded up to a multiple of [`VOCAB_MULTIPLE`].
pub fn padded_vocab(vocab: i64) -> i64 {
    (vocab.max(1) as u64).div_ceil(VOCAB_MULTIPLE as u64) as i64 * VOCAB_MULTIPLE
}

/// The tokenizer's padding token and its id, if it has one.
pub fn pad_token(tok: &Tokenizer) -> Option<(&'static str, u32)> {
    PAD_NAMES
        .iter()
        .find_map(|&t| tok.token_to_id(t).map(|id| (t, id)))
}

/// Adds [`PAD`] as a special token after the vocabulary when the tokenizer has no padding
/// token; true when it was added.
pub fn ensure_pad(tok: &mut Tokenizer) -> bool {
    if pad_token(tok).is_some() {
        return false;
    }
    tok.add_special_tokens(&[AddedToken::from(PAD, true)]);
    true
}

/// The canonical `tokenizer.json` text (what the tokenizers library writes, compact).
pub fn canonical_json(tok: &Tokenizer) -> Result<String> {
    tok.to_string(false)
        .map_err(|e| anyhow::anyhow!("serialising the tokenizer: {e}"))
}

/// sha256 (hex) of the tokenizer's canonical JSON: equal for equal tokenizers however their
/// files are formatted.
pub fn fingerprint(tok: &Tokenizer) -> Result<String> {
    let digest = Sha256::digest(canonical_json(tok)?.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// A `tokenizer.json` on disk and its fingerprint.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenizerFile {
    pub path: PathBuf,
    pub sha256: String,
}

impl TokenizerFile {
    /// Reads `path` and computes its fingerprint.
    pub fn read(path: &Path) -> Result<(Self, Tokenizer)> {
        let tok = load_tokenizer(path)?;
        let sha256 = fingerprint(&tok)?;
        Ok((
            Self {
                path: path.to_path_buf(),
                sha256,
            },
            tok,
        ))
    }

    /// The `tokenizer.json` of a checkpoint folder, if it has one.
    pub fn of_checkpoint(dir: &Path) -> Result<Option<(Self, Tokenizer)>> {
        let p = dir.join("tokenizer.json");
        if !p.is_file() {
            return Ok(None);
        }
        Self::read(&p).map(Some)
    }
}

/// A tokenizer named by what it belongs to (`train data "up"`, `checkpoint run/final`).
#[derive(Clone, Debug)]
pub struct Origin {
    pub what: String,
    pub file: TokenizerFile,
}

/// Checks that every origin has the tokenizer of the first, naming both where one differs.
/// With `allow` a difference is a warning on stderr instead; `how_to_allow` names the flag or
/// key that allows it.
pub fn check_same(origins: &[Origin], allow: bool, how_to_allow: &str) -> Result<()> {
    let Some(first) = origins.first() else {
        return Ok(());
    };
    for o in &origins[1..] {
        if o.file.sha256 == first.file.sha256 {
            continue;
        }
        let msg = format!(
            "{} was made by another tokenizer than {}: {} (sha256 {}) against {} (sha256 {})",
            o.what,
            first.what,
            o.file.path.display(),
            o.file.sha256,
            first.file.path.display(),
            first.file.sha256
        );
        if allow {
            eprintln!("warning: {msg}");
        } else {
            anyhow::bail!(
                "{msg}; tokenize the data with the same tokenizer.json (`rewarm tokenize --tokenizer FILE`), or {how_to_allow}"
            );
        }
    }
    Ok(())
}

/// The special tokens of a checkpoint: end of text (also its beginning, as in Pythia) and
/// padding, each with its id.
struct Specials {
    eos: (String, u32),
    pad: (String, u32),
}

fn specials(tok: &Tokenizer) -> Result<Specials> {
    let eos_id = eod_id(tok)?;
    let eos = tok.id_to_token(eos_id).unwrap_or_else(|| EOD.into());
    // Without a padding token, padding uses the end-of-text token (GPT-2's convention).
    let pad = pad_token(tok).map_or_else(|| (eos.clone(), eos_id), |(t, id)| (t.into(), id));
    Ok(Specials {
        eos: (eos, eos_id),
        pad,
    })
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Sets `config.json`'s token ids (`bos_token_id`, `eos_token_id`, `pad_token_id`) to the
/// tokenizer's.
pub fn set_token_ids(config: &mut serde_json::Value, tok: &Tokenizer) -> Result<()> {
    let s = specials(tok)?;
    if let Some(m) = config.as_object_mut() {
        m.insert("bos_token_id".into(), s.eos.1.into());
        m.insert("eos_token_id".into(), s.eos.1.into());
        m.insert("pad_token_id".into(), s.pad.1.into());
    }
    Ok(())
}

/// Writes the tokenizer files of a checkpoint folder: `tokenizer.json`, `tokenizer_config.json`
/// (the class `AutoTokenizer` loads it with, left padding for batched generation),
/// `special_tokens_map.json` and `generation_config.json`. `max_len` is the model's context.
pub fn write_checkpoint_files(dir: &Path, tok: &Tokenizer, max_len: i64) -> Result<()> {
    let s = specials(tok)?;
    let json = canonical_json(tok)?;
    let p = dir.join("tokenizer.json");
    std::fs::write(&p, json).with_context(|| format!("writing {}", p.display()))?;
    let map = serde_json::json!({
        "bos_token": s.eos.0,
        "eos_token": s.eos.0,
        "unk_token": s.eos.0,
        "pad_token": s.pad.0,
    });
    let mut config = map.clone();
    for (k, v) in [
        ("tokenizer_class", "PreTrainedTokenizerFast".into()),
        ("add_bos_token", false.into()),
        ("add_eos_token", false.into()),
        ("clean_up_tokenization_spaces", false.into()),
        ("model_max_length", max_len.into()),
        ("padding_side", "left".into()),
    ] {
        config[k] = v;
    }
    write_json(&dir.join("tokenizer_config.json"), &config)?;
    write_json(&dir.join("special_tokens_map.json"), &map)?;
    write_json(
        &dir.join("generation_config.json"),
        &serde_json::json!({
            "bos_token_id": s.eos.1,
            "eos_token_id": s.eos.1,
            "pad_token_id": s.pad.1,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_pad_to_multiples_of_128() {
        assert_eq!(padded_vocab(50_277), 50_304);
        assert_eq!(padded_vocab(2048), 2048);
        assert_eq!(padded_vocab(301), 384);
        assert_eq!(padded_vocab(1), 128);
    }
}
