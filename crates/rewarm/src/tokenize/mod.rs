//! `rewarm tokenize`: documents from text, JSON lines (optionally zstd, the Pile / SlimPajama
//! format) or Parquet, tokenised in parallel into packed token shards with an index.

use crate::dataset::{splitmix64, Index, ShardEntry, INDEX_FORMAT};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

pub mod hf;
mod read;
pub use read::*;

/// What `tokenize` writes in the ownership marker of its output folder.
pub const OWNER: &str = "rewarm tokenize";

/// Loads a `tokenizer.json`, with an error that names the file.
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer> {
    if !path.is_file() {
        bail!("tokenizer {}: no such file", path.display());
    }
    Tokenizer::from_file(path).map_err(|e| {
        anyhow::anyhow!(
            "tokenizer {}: not a Hugging Face tokenizer.json ({e})",
            path.display()
        )
    })
}

/// The id appended after each document.
pub fn eod_id(tok: &Tokenizer) -> Result<u32> {
    for t in ["<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>"] {
        if let Some(id) = tok.token_to_id(t) {
            return Ok(id);
        }
    }
    bail!("the tokenizer has no end-of-document token (<|endoftext|>, </s>, <eos>)")
}

pub const EOD: &str = "<|endoftext|>";

/// The smallest vocabulary a byte-level BPE can have: its 256 byte tokens and [`EOD`].
pub const MIN_BPE_VOCAB: usize = 257;

/// The largest vocabulary rewarm makes or builds a model for: 2^20, four times the largest
/// vocabulary of published language models (256,000). Beyond it a model is mostly its
/// embedding and output layers (at hidden size 2048 each is 8 GiB in f32), and the BPE trainer
/// holds a pair count for every candidate merge.
pub const MAX_VOCAB: usize = 1 << 20;

/// Checks a BPE vocabulary size against [`MIN_BPE_VOCAB`] and [`MAX_VOCAB`], with the reason.
pub fn check_bpe_vocab(vocab_size: usize) -> std::result::Result<(), String> {
    if vocab_size < MIN_BPE_VOCAB {
        return Err(format!(
            "a byte-level BPE vocabulary holds at least {MIN_BPE_VOCAB} tokens (the 256 bytes and {EOD}), not {vocab_size}"
        ));
    }
    if vocab_size > MAX_VOCAB {
        return Err(format!(
            "{vocab_size} tokens is more than the limit of {MAX_VOCAB} (2^20, four times the largest vocabulary of published language models); the model's embedding and output layers grow with the vocabulary (8 GiB each at hidden size 2048 and 2^20 tokens)"
        ));
    }
    Ok(())
}

/// Trains a byte-level BPE tokenizer (GPT-2 / Pythia style) with `<|endoftext|>` as id 0 and
/// the padding token [`hf::PAD`] as id 1 (both within `vocab_size`), as in Pythia's.
pub fn train_bpe(files: &[PathBuf], opts: &ReadOptions, vocab_size: usize) -> Result<Tokenizer> {
    use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
    use tokenizers::pre_tokenizers::byte_level::ByteLevel;
    use tokenizers::{AddedToken, NormalizerWrapper, TokenizerBuilder};
    check_bpe_vocab(vocab_size).map_err(|e| anyhow::anyhow!("BPE vocabulary: {e}"))?;
    let mut docs = Vec::new();
    let mut stats = ReadStats::default();
    read_documents(files, opts, &mut stats, &mut |d| {
        docs.push(d);
        Ok(())
    })?;
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(vec![
            AddedToken::from(EOD, true),
            AddedToken::from(hf::PAD, true),
        ])
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let mut tok =
        TokenizerBuilder::<BPE, NormalizerWrapper, ByteLevel, ByteLevel, ByteLevel>::new()
            .with_model(BPE::default())
            .with_pre_tokenizer(Some(ByteLevel::default().add_prefix_space(false)))
            .with_post_processor(Some(ByteLevel::default().trim_offsets(false)))
            .with_decoder(Some(ByteLevel::default()))
            .build()
            .map_err(|e| anyhow::anyhow!("building the BPE tokenizer: {e}"))?;
    tok.train(&mut trainer, docs.iter())
        .map_err(|e| anyhow::anyhow!("training BPE: {e}"))?;
    Ok(Tokenizer::from(tok))
}

/// What `tokenize` produced.
#[derive(Debug)]
pub struct TokenizeSummary {
    pub train: Index,
    pub val: Option<Index>,
    pub stats: ReadStats,
    pub seconds: f64,
}

/// Writes packed shards of one split.
struct ShardWriter {
    dir: PathBuf,
    wide: bool,
    shard_tokens: u64,
    cur: Option<(std::io::BufWriter<std::fs::File>, u64)>,
    index: Index,
}

impl ShardWriter {
    fn new(dir: PathBuf, vocab: u32, eod: u32, shard_tokens: u64) -> Result<Self> {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let wide = vocab > u16::MAX as u32 + 1;
        Ok(Self {
            dir,
            wide,
            shard_tokens,
            cur: None,
            index: Index {
                format: INDEX_FORMAT.into(),
                dtype: if wide { "u32" } else { "u16" }.into(),
                vocab_size: vocab,
                eod_id: eod,
                tokens: 0,
                documents: 0,
                shards: vec![],
                tokenizer_sha256: None,
            },
        })
    }

    fn push_doc(&mut self, ids: &[u32]) -> Result<()> {
        for chunk_start in (0..ids.len()).step_by(1 << 20) {
            let chunk = &ids[chunk_start..(chunk_start + (1 << 20)).min(ids.len())];
            self.push(chunk)?;
        }
        self.index.documents += 1;
        Ok(())
    }

    fn push(&mut self, mut ids: &[u32]) -> Result<()> {
        while !ids.is_empty() {
            if self.cur.is_none() {
                let name = format!("shard-{:05}.bin", self.index.shards.len());
                let path = self.dir.join(&name);
                let f = std::fs::File::create(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                self.index.shards.push(ShardEntry {
                    file: name,
                    tokens: 0,
                });
                self.cur = Some((std::io::BufWriter::with_capacity(1 << 20, f), 0));
            }
            let path = self.shard_path();
            let (w, n) = self.cur.as_mut().expect("open shard");
            let room = (self.shard_tokens - *n) as usize;
            let take = room.min(ids.len());
            let mut buf = Vec::with_capacity(take * 4);
            for &id in &ids[..take] {
                if self.wide {
                    buf.extend_from_slice(&id.to_le_bytes());
                } else {
                    buf.extend_from_slice(&(id as u16).to_le_bytes());
                }
            }
            w.write_all(&buf)
                .with_context(|| format!("writing {}", path.display()))?;
            *n += take as u64;
            self.index.tokens += take as u64;
            self.index.shards.last_mut().expect("shard").tokens += take as u64;
            ids = &ids[take..];
            if *n == self.shard_tokens {
                self.close()?;
            }
        }
        Ok(())
    }

    /// The shard being written (the last one started).
    fn shard_path(&self) -> PathBuf {
        let name = self.index.shards.last().map_or("", |s| s.file.as_str());
        self.dir.join(name)
    }

    fn close(&mut self) -> Result<()> {
        if let Some((w, _)) = self.cur.take() {
            let path = self.shard_path();
            w.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Index> {
        self.close()?;
        let text = serde_json::to_string_pretty(&self.index)?;
        write_named(&self.dir.join("index.json"), text.as_bytes())?;
        Ok(self.index)
    }
}

/// Writes a whole file, naming it in any error (a full disk among them).
fn write_named(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

pub struct TokenizeJob<'a> {
    pub files: &'a [PathBuf],
    pub opts: &'a ReadOptions,
    pub tokenizer: &'a Tokenizer,
    pub out: &'a Path,
    pub val_fraction: f64,
    pub seed: u64,
    pub shard_tokens: u64,
    pub progress: bool,
    /// Replace `out` even if `rewarm tokenize` did not make it.
    pub force: bool,
    /// Files found in the input folders but not read (listed in `skipped.tsv`, line 0).
    pub unused: &'a [Skipped],
}

/// Longest text handed to the tokenizer at once. Byte-level BPE on one huge pre-token (a
/// megabytes-long line without spaces) needs memory far beyond its size, so longer documents
/// are cut into pieces, at a space that starts a word where there is one (a pre-token boundary
/// of the GPT-2 pattern, so the ids are the same as for the whole text), else at a character
/// boundary; the pieces' ids are joined back into one document.
const MAX_PIECE: usize = 1 << 16;

/// Most text encoded in one call (many pieces at once keep every core busy).
const MAX_GROUP: usize = 2 << 20;

fn pieces(doc: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = doc;
    while rest.len() > MAX_PIECE {
        let mut cut = MAX_PIECE;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let b = rest.as_bytes();
        // A space with a non-space before and after it, looking back at most half a piece.
        let word_start = (MAX_PIECE / 2..cut).rev().find(|&i| {
            b[i] == b' ' && !b[i - 1].is_ascii_whitespace() && !b[i + 1].is_ascii_whitespace()
        });
        let cut = word_start.unwrap_or(cut);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    out
}

/// Tokenises everything into `out/train` (and `out/val`), atomically: `out` appears complete
/// or not at all. The tokenizer is copied to `out/tokenizer.json`, with the padding token
/// [`hf::PAD`] added after its vocabulary when it has none, and its fingerprint
/// ([`hf::fingerprint`]) is recorded in each split's `index.json`.
pub fn tokenize(job: &TokenizeJob) -> Result<TokenizeSummary> {
    let t0 = std::time::Instant::now();
    let mut padded = job.tokenizer.clone();
    hf::ensure_pad(&mut padded);
    let tok = &padded;
    let sha256 = hf::fingerprint(tok)?;
    let eod = eod_id(tok)?;
    let vocab = tok.get_vocab_size(true) as u32;
    if !(0.0..1.0).contains(&job.val_fraction) {
        bail!("val_fraction {} is not in [0, 1)", job.val_fraction);
    }
    if job.shard_tokens == 0 {
        bail!("shard_tokens must be at least 1");
    }
    let total_bytes: u64 = job
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = if job.progress {
        ProgressBar::new(total_bytes)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} tokenize [{elapsed_precise}] {bar:30} {percent}% of input files, {msg} ETA {eta}",
        )
        .expect("template"),
    );
    let mut result = None;
    outdir::replace_dir(job.out, OWNER, job.force, |tmp| {
        let mut train = ShardWriter::new(tmp.join("train"), vocab, eod, job.shard_tokens)?;
        train.index.tokenizer_sha256 = Some(sha256.clone());
        let mut val = if job.val_fraction > 0.0 {
            Some(ShardWriter::new(
                tmp.join("val"),
                vocab,
                eod,
                job.shard_tokens,
            )?)
        } else {
            None
        };
        if let Some(v) = val.as_mut() {
            v.index.tokenizer_sha256 = Some(sha256.clone());
        }
        let mut stats = ReadStats::default();
        let mut pending: Vec<String> = Vec::new();
        let mut doc_no = 0u64;
        let threshold = (job.val_fraction * u64::MAX as f64) as u64;
        let mut flush = |pending: &mut Vec<String>,
                         train: &mut ShardWriter,
                         val: &mut Option<ShardWriter>|
         -> Result<()> {
            let batch = std::mem::take(pending);
            let mut owner = Vec::with_capacity(batch.len());
            let mut parts: Vec<&str> = Vec::with_capacity(batch.len());
            for (d, doc) in batch.iter().enumerate() {
                for p in pieces(doc) {
                    owner.push(d);
                    parts.push(p);
                }
            }
            // Encoded in groups of at most MAX_GROUP bytes of text, keeping only the ids: an
            // Encoding holds some 70 bytes per token (strings, offsets, masks), so one huge
            // document encoded at once took gigabytes.
            let mut docs: Vec<Vec<u32>> = vec![Vec::new(); batch.len()];
            let mut start = 0;
            while start < parts.len() {
                let mut end = start;
                let mut bytes = 0;
                while end < parts.len() && (end == start || bytes + parts[end].len() <= MAX_GROUP) {
                    bytes += parts[end].len();
                    end += 1;
                }
                let enc = tok
                    .encode_batch_fast(parts[start..end].to_vec(), false)
                    .map_err(|e| anyhow::anyhow!("tokenizing: {e}"))?;
                for (&d, e) in owner[start..end].iter().zip(enc) {
                    docs[d].extend_from_slice(e.get_ids());
                }
                start = end;
            }
            for mut ids in docs {
                ids.push(eod);
                // A fixed hash of the document number: the same split on every machine and run.
                let to_val = val.is_some() && splitmix64(doc_no ^ job.seed) < threshold;
                doc_no += 1;
                match (to_val, val.as_mut()) {
                    (true, Some(v)) => v.push_doc(&ids)?,
                    _ => train.push_doc(&ids)?,
                }
            }
            let tokens = train.index.tokens + val.as_ref().map_or(0, |v| v.index.tokens);
            let secs = t0.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{tokens} tokens, {:.0} tokens/s",
                tokens as f64 / secs
            ));
            Ok(())
        };
        let mut read_so_far = 0u64;
        for file in job.files {
            read_documents(std::slice::from_ref(file), job.opts, &mut stats, &mut |d| {
                pending.push(d);
                if pending.len() >= 4096 {
                    flush(&mut pending, &mut train, &mut val)?;
                }
                Ok(())
            })?;
            flush(&mut pending, &mut train, &mut val)?;
            read_so_far += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            bar.set_position(read_so_far);
        }
        if train.index.tokens == 0 {
            bail!(
                "no documents found in the inputs ({} skipped)",
                stats.skipped.len()
            );
        }
        let tok_path = tmp.join("tokenizer.json");
        let tok_json = hf::canonical_json(tok)?;
        write_named(&tok_path, tok_json.as_bytes())?;
        let train = train.finish()?;
        let val = val.map(|v| v.finish()).transpose()?;
        if !stats.skipped.is_empty() || !job.unused.is_empty() {
            let mut tsv = String::from("file\tline\treason\n");
            for s in job.unused.iter().chain(&stats.skipped) {
                tsv.push_str(&format!("{}\t{}\t{}\n", s.file.display(), s.line, s.reason));
            }
            write_named(&tmp.join("skipped.tsv"), tsv.as_bytes())?;
        }
        result = Some((train, val, stats));
        Ok(())
    })?;
    bar.finish_and_clear();
    let (train, val, stats) = result.expect("tokenize ran");
    Ok(TokenizeSummary {
        train,
        val,
        stats,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk, for real: `/dev/full` fails every write with ENOSPC. Each file the shard
    /// writer makes is pointed at it through a symbolic link of the same name, and the error
    /// must name that file.
    #[cfg(target_os = "linux")]
    #[test]
    fn write_errors_on_a_full_disk_name_the_file() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let d = tempfile::tempdir().unwrap();
        for name in ["shard-00000.bin", "index.json"] {
            let dir = d.path().join(name.replace('.', "-"));
            std::fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::symlink(full, dir.join(name)).unwrap();
            let mut w = ShardWriter::new(dir.clone(), 64, 0, 1 << 20).unwrap();
            let e = format!(
                "{:#}",
                w.push_doc(&[1, 2, 3])
                    .and_then(|_| w.finish().map(drop))
                    .unwrap_err()
            );
            assert!(e.contains(&dir.join(name).display().to_string()), "{e}");
            assert!(e.contains("No space left on device"), "{e}");
        }
        let e = format!(
            "{:#}",
            write_named(&d.path().join("index-json/index.json"), b"{}").unwrap_err()
        );
        assert!(e.contains("index.json") && e.contains("No space"), "{e}");
    }

    #[test]
    fn bpe_vocabulary_sizes_are_bounded_with_the_reason() {
        assert!(check_bpe_vocab(MIN_BPE_VOCAB).is_ok() && check_bpe_vocab(MAX_VOCAB).is_ok());
        let e = check_bpe_vocab(1_000_000_000).unwrap_err();
        assert!(e.contains("1048576") && e.contains("embedding"), "{e}");
        let e = check_bpe_vocab(10).unwrap_err();
        assert!(e.contains("257"), "{e}");
        // The library refuses before reading any input.
        let e = train_bpe(
            &[PathBuf::from("/nonexistent.txt")],
            &ReadOptions::default(),
            1 << 30,
        )
        .err()
        .unwrap();
        assert!(format!("{e:#}").contains("1048576"), "{e:#}");
    }
}
