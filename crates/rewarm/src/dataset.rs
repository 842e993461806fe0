//! Packed token shards, memory-mapped, read as fixed-length sequences in a seeded order,
//! optionally mixed from several datasets by weight (replay).

use crate::tokenize::hf::TokenizerFile;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const INDEX_FORMAT: &str = "rewarm-tokens-v1";

/// What went wrong opening a token folder or mixing datasets, naming the file or source.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// No `index.json`: the folder is missing or not a token folder.
    #[error("{}: not a token folder (no index.json)", dir.display())]
    NotTokenFolder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: malformed token index", path.display())]
    MalformedIndex {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// An index of another format, or of a token width other than u16 and u32.
    #[error("{}: {key} {found:?}, expected {expected}", path.display())]
    Format {
        path: PathBuf,
        key: &'static str,
        found: String,
        expected: String,
    },
    #[error("{}: shard {shard:?} is not a file inside the token folder", path.display())]
    ShardOutside { path: PathBuf, shard: String },
    #[error("{}: shard {shard} listed but missing", path.display())]
    MissingShard {
        path: PathBuf,
        shard: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: shard {shard} should hold {tokens} tokens ({expected} bytes) but has {found} bytes", path.display())]
    ShardSize {
        path: PathBuf,
        shard: String,
        tokens: u64,
        expected: u64,
        found: u64,
    },
    #[error("{}: key tokens says {index} but the shards hold {shards}", path.display())]
    TokenCount {
        path: PathBuf,
        index: u64,
        shards: u64,
    },
    /// A listed shard that cannot be sized or mapped.
    #[error("{}: {action} shard {shard}", path.display())]
    ShardIo {
        path: PathBuf,
        shard: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("no training data configured")]
    NoData,
    #[error("train data {name:?}: weight {weight} must be positive")]
    Weight { name: String, weight: f64 },
    #[error("train data {name:?} ({}): {tokens} tokens is less than one sequence of {seq_len}", dir.display())]
    TooShort {
        name: String,
        dir: PathBuf,
        tokens: u64,
        seq_len: usize,
    },
    /// A resumed run's data sources are not the checkpoint's.
    #[error("checkpoint has {checkpoint} data sources, config has {config}")]
    SourceCount { checkpoint: usize, config: usize },
    #[error("checkpoint data source {checkpoint:?} does not match config source {config:?}")]
    SourceName { checkpoint: String, config: String },
}

type Result<T, E = DatasetError> = std::result::Result<T, E>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardEntry {
    pub file: String,
    pub tokens: u64,
}

/// `index.json` of a token folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Index {
    pub format: String,
    /// `u16` or `u32`, little-endian.
    pub dtype: String,
    pub vocab_size: u32,
    pub eod_id: u32,
    pub tokens: u64,
    pub documents: u64,
    pub shards: Vec<ShardEntry>,
    /// sha256 of the canonical `tokenizer.json` the tokens were made with
    /// ([`crate::tokenize::hf::fingerprint`]); absent in folders of earlier builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer_sha256: Option<String>,
}

/// One tokenised dataset: its shards mapped read-only.
pub struct TokenDataset {
    pub dir: PathBuf,
    pub index: Index,
    maps: Vec<memmap2::Mmap>,
    /// Token offset where each shard starts, plus the total at the end.
    starts: Vec<u64>,
    width: usize,
}

impl TokenDataset {
    /// Opens a token folder: either one with `index.json`, or a `tokenize` output whose
    /// `train/` split is then used.
    pub fn open(dir: &Path) -> Result<Self> {
        let dir = if !dir.join("index.json").exists() && dir.join("train/index.json").exists() {
            dir.join("train")
        } else {
            dir.to_path_buf()
        };
        let ipath = dir.join("index.json");
        let text =
            std::fs::read_to_string(&ipath).map_err(|source| DatasetError::NotTokenFolder {
                dir: dir.clone(),
                source,
            })?;
        let index: Index =
            serde_json::from_str(&text).map_err(|source| DatasetError::MalformedIndex {
                path: ipath.clone(),
                source,
            })?;
        let format = |key, found: &str, expected: &str| DatasetError::Format {
            path: ipath.clone(),
            key,
            found: found.into(),
            expected: expected.into(),
        };
        if index.format != INDEX_FORMAT {
            return Err(format(
                "format",
                &index.format,
                &format!("{INDEX_FORMAT:?}"),
            ));
        }
        let width = match index.dtype.as_str() {
            "u16" => 2,
            "u32" => 4,
            d => return Err(format("key dtype", d, "u16 or u32")),
        };
        let mut maps = Vec::new();
        let mut starts = vec![0u64];
        for s in &index.shards {
            let shard = || s.file.clone();
            if !outdir::is_plain_relative(Path::new(&s.file)) {
                return Err(DatasetError::ShardOutside {
                    path: ipath,
                    shard: shard(),
                });
            }
            let p = dir.join(&s.file);
            let f = std::fs::File::open(&p).map_err(|source| DatasetError::MissingShard {
                path: ipath.clone(),
                shard: shard(),
                source,
            })?;
            let io = |action| {
                let path = ipath.clone();
                move |source| DatasetError::ShardIo {
                    path,
                    shard: shard(),
                    action,
                    source,
                }
            };
            let len = f.metadata().map_err(io("reading the size of"))?.len();
            if len != s.tokens * width as u64 {
                return Err(DatasetError::ShardSize {
                    path: ipath,
                    shard: shard(),
                    tokens: s.tokens,
                    expected: s.tokens * width as u64,
                    found: len,
                });
            }
            // SAFETY: shards are written once by `tokenize` and only read afterwards.
            maps.push(unsafe { memmap2::Mmap::map(&f) }.map_err(io("mapping"))?);
            starts.push(starts.last().copied().unwrap_or(0) + s.tokens);
        }
        let total = *starts.last().expect("starts");
        if total != index.tokens {
            return Err(DatasetError::TokenCount {
                path: ipath,
                index: index.tokens,
                shards: total,
            });
        }
        Ok(Self {
            dir,
            index,
            maps,
            starts,
            width,
        })
    }

    /// Opens a validation folder: a `tokenize` output's `val/` split when given the output
    /// folder.
    pub fn open_val(path: &Path) -> Result<Self> {
        if !path.join("index.json").exists() && path.join("val/index.json").exists() {
            return Self::open(&path.join("val"));
        }
        Self::open(path)
    }

    pub fn tokens(&self) -> u64 {
        self.index.tokens
    }

    /// The tokenizer the tokens were made with: `tokenizer.json` beside `index.json` or in the
    /// folder above (a `tokenize` output's), with the fingerprint the index records (computed
    /// from the file for folders of earlier builds). A recorded fingerprint without the file
    /// names `index.json` as its path; None when the folder says nothing of its tokenizer.
    pub fn tokenizer(&self) -> anyhow::Result<Option<TokenizerFile>> {
        let near = [Some(self.dir.as_path()), self.dir.parent()];
        let json = near
            .into_iter()
            .flatten()
            .map(|d| d.join("tokenizer.json"))
            .find(|p| p.is_file());
        Ok(match (&self.index.tokenizer_sha256, json) {
            (Some(sha256), Some(path)) => Some(TokenizerFile {
                path,
                sha256: sha256.clone(),
            }),
            (Some(sha256), None) => Some(TokenizerFile {
                path: self.dir.join("index.json"),
                sha256: sha256.clone(),
            }),
            (None, Some(path)) => Some(TokenizerFile::read(&path)?.0),
            (None, None) => None,
        })
    }

    /// Copies tokens [start, start + out.len()) into `out`, across shard boundaries.
    pub fn read(&self, start: u64, out: &mut [i64]) {
        let mut pos = start;
        let mut filled = 0;
        while filled < out.len() {
            let s = self.starts.partition_point(|&b| b <= pos) - 1;
            let local = (pos - self.starts[s]) as usize;
            let avail = (self.starts[s + 1] - pos) as usize;
            let take = avail.min(out.len() - filled);
            let bytes = &self.maps[s][local * self.width..(local + take) * self.width];
            let dst = &mut out[filled..filled + take];
            if self.width == 2 {
                for (d, c) in dst.iter_mut().zip(bytes.chunks_exact(2)) {
                    *d = u16::from_le_bytes([c[0], c[1]]) as i64;
                }
            } else {
                for (d, c) in dst.iter_mut().zip(bytes.chunks_exact(4)) {
                    *d = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64;
                }
            }
            filled += take;
            pos += take as u64;
        }
    }

    /// Number of non-overlapping training sequences of `seq_len` (+1 target token).
    pub fn num_sequences(&self, seq_len: usize) -> u64 {
        self.tokens().saturating_sub(1) / seq_len as u64
    }

    /// Sequence `i` as seq_len + 1 tokens (inputs and shifted targets).
    pub fn sequence(&self, i: u64, seq_len: usize, out: &mut [i64]) {
        debug_assert_eq!(out.len(), seq_len + 1);
        self.read(i * seq_len as u64, out)
    }
}

/// Where one source of a mixture stands: enough to continue exactly after a resume.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SourceCursor {
    pub name: String,
    pub epoch: u64,
    pub pos: u64,
    pub taken: u64,
}

struct Source {
    name: String,
    ds: TokenDataset,
    weight: f64,
    perm: Permutation,
    cur: SourceCursor,
}

/// Training batches drawn from weighted sources. Each source is read in a shuffled order
/// that depends only on (seed, source index, epoch); the source of each sequence slot is the
/// one furthest behind its weighted share (smooth weighted round robin), so a 95/5 mixture
/// holds those proportions in every window of batches, not only on average.
pub struct Mixture {
    sources: Vec<Source>,
    seq_len: usize,
    seed: u64,
    slots: u64,
}

impl Mixture {
    pub fn new(parts: Vec<(String, TokenDataset, f64)>, seq_len: usize, seed: u64) -> Result<Self> {
        if parts.is_empty() {
            return Err(DatasetError::NoData);
        }
        let total: f64 = parts.iter().map(|p| p.2).sum();
        let mut sources = Vec::new();
        for (k, (name, ds, w)) in parts.into_iter().enumerate() {
            if !(w.is_finite() && w > 0.0) {
                return Err(DatasetError::Weight { name, weight: w });
            }
            if ds.num_sequences(seq_len) == 0 {
                return Err(DatasetError::TooShort {
                    name,
                    tokens: ds.tokens(),
                    dir: ds.dir,
                    seq_len,
                });
            }
            let cur = SourceCursor {
                name: name.clone(),
                epoch: 0,
                pos: 0,
                taken: 0,
            };
            let perm = permutation(ds.num_sequences(seq_len), seed, k as u64, 0);
            sources.push(Source {
                name,
                ds,
                weight: w / total,
                perm,
                cur,
            });
        }
        Ok(Self {
            sources,
            seq_len,
            seed,
            slots: 0,
        })
    }

    /// The sources' names and datasets, in the configured order.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &TokenDataset)> {
        self.sources.iter().map(|s| (s.name.as_str(), &s.ds))
    }

    pub fn cursors(&self) -> Vec<SourceCursor> {
        self.sources.iter().map(|s| s.cur.clone()).collect()
    }

    /// Continues from saved cursors (names must match the configured sources).
    pub fn restore(&mut self, cursors: &[SourceCursor]) -> Result<()> {
        if cursors.len() != self.sources.len() {
            return Err(DatasetError::SourceCount {
                checkpoint: cursors.len(),
                config: self.sources.len(),
            });
        }
        for (k, (s, c)) in self.sources.iter_mut().zip(cursors).enumerate() {
            if s.name != c.name {
                return Err(DatasetError::SourceName {
                    checkpoint: c.name.clone(),
                    config: s.name.clone(),
                });
            }
            s.perm = permutation(
                s.ds.num_sequences(self.seq_len),
                self.seed,
                k as u64,
                c.epoch,
            );
            s.cur = c.clone();
        }
        self.slots = cursors.iter().map(|c| c.taken).sum();
        Ok(())
    }

    /// Fills `out` (batch * (seq_len + 1)) with the next `batch` sequences.
    pub fn next_batch(&mut self, batch: usize, out: &mut [i64]) {
        let n = self.seq_len + 1;
        for b in 0..batch {
            self.slots += 1;
            let k = (0..self.sources.len())
                .max_by(|&a, &c| {
                    let da = self.sources[a].weight * self.slots as f64
                        - self.sources[a].cur.taken as f64;
                    let dc = self.sources[c].weight * self.slots as f64
                        - self.sources[c].cur.taken as f64;
                    da.partial_cmp(&dc).expect("finite").then(c.cmp(&a))
                })
                .expect("sources");
            let seed = self.seed;
            let seq_len = self.seq_len;
            let s = &mut self.sources[k];
            if s.cur.pos >= s.perm.len() {
                s.cur.epoch += 1;
                s.cur.pos = 0;
                s.perm = permutation(s.ds.num_sequences(seq_len), seed, k as u64, s.cur.epoch);
            }
            let i = s.perm.get(s.cur.pos);
            s.cur.pos += 1;
            s.cur.taken += 1;
            s.ds.sequence(i, seq_len, &mut out[b * n..(b + 1) * n]);
        }
    }
}

/// A seeded bijection of [0, n) evaluated one index at a time (a 4-round Feistel network on
/// the next even power of two, cycle-walking back into range), so an epoch over hundreds of
/// millions of sequences needs no shuffled index array in memory.
#[derive(Clone, Debug)]
pub struct Permutation {
    n: u64,
    half: u32,
    keys: [u64; 4],
}

impl Permutation {
    pub fn new(n: u64, key: u64) -> Self {
        let bits = (64 - n.saturating_sub(1).leading_zeros()).max(2);
        let half = bits.div_ceil(2);
        let mut k = key;
        let keys = std::array::from_fn(|_| {
            k = splitmix64(k);
            k
        });
        Self { n, half, keys }
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The `i`-th element of the permutation (i < n).
    pub fn get(&self, i: u64) -> u64 {
        debug_assert!(i < self.n);
        let mask = (1u64 << self.half) - 1;
        let mut x = i;
        loop {
            let (mut l, mut r) = (x >> self.half, x & mask);
            for k in self.keys {
                let f = splitmix64(r ^ k) & mask;
                (l, r) = (r, l ^ f);
            }
            x = (l << self.half) | r;
            if x < self.n {
                return x;
            }
        }
    }
}

/// SplitMix64's first output from state `x`: a fixed 64-bit mixer (also picks tokenize's
/// validation split), from rand_xoshiro's reference implementation.
pub(crate) fn splitmix64(x: u64) -> u64 {
    use rand::{RngCore, SeedableRng};
    rand_xoshiro::SplitMix64::seed_from_u64(x).next_u64()
}

fn permutation(n: u64, seed: u64, source: u64, epoch: u64) -> Permutation {
    let key = seed
        ^ source.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ epoch.wrapping_mul(0xd1b5_4a32_d192_ed03);
    Permutation::new(n, key)
}

#[cfg(test)]
mod tests {
    use super::Permutation;

    #[test]
    fn permutation_is_a_bijection_for_awkward_sizes() {
        for n in [1u64, 2, 3, 5, 17, 100, 1000, 4097] {
            let p = Permutation::new(n, 7);
            let mut seen: Vec<u64> = (0..n).map(|i| p.get(i)).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
        let a: Vec<u64> = (0..50).map(|i| Permutation::new(50, 1).get(i)).collect();
        let b: Vec<u64> = (0..50).map(|i| Permutation::new(50, 2).get(i)).collect();
        assert_ne!(a, b);
        assert_ne!(a, (0..50).collect::<Vec<_>>());
    }
}
