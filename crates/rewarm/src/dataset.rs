//! Packed token shards, memory-mapped, read as fixed-length sequences in a seeded order,
//! optionally mixed from several datasets by weight (replay).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const INDEX_FORMAT: &str = "rewarm-tokens-v1";

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
        let text = std::fs::read_to_string(&ipath)
            .with_context(|| format!("{}: not a token folder (no index.json)", dir.display()))?;
        let index: Index = serde_json::from_str(&text)
            .with_context(|| format!("{}: malformed token index", ipath.display()))?;
        if index.format != INDEX_FORMAT {
            bail!(
                "{}: format {:?}, expected {INDEX_FORMAT:?}",
                ipath.display(),
                index.format
            );
        }
        let width = match index.dtype.as_str() {
            "u16" => 2,
            "u32" => 4,
            d => bail!("{}: key dtype {d:?} is not u16 or u32", ipath.display()),
        };
        let mut maps = Vec::new();
        let mut starts = vec![0u64];
        for s in &index.shards {
            if !outdir::is_plain_relative(Path::new(&s.file)) {
                bail!(
                    "{}: shard {:?} is not a file inside the token folder",
                    ipath.display(),
                    s.file
                );
            }
            let p = dir.join(&s.file);
            let f = std::fs::File::open(&p).with_context(|| {
                format!("{}: shard {} listed but missing", ipath.display(), s.file)
            })?;
            let len = f.metadata()?.len();
            if len != s.tokens * width as u64 {
                bail!(
                    "{}: shard {} should hold {} tokens ({} bytes) but has {len} bytes",
                    ipath.display(),
                    s.file,
                    s.tokens,
                    s.tokens * width as u64
                );
            }
            // SAFETY: shards are written once by `tokenize` and only read afterwards.
            maps.push(
                unsafe { memmap2::Mmap::map(&f) }
                    .with_context(|| format!("mapping {}", p.display()))?,
            );
            starts.push(starts.last().copied().unwrap_or(0) + s.tokens);
        }
        let total = *starts.last().expect("starts");
        if total != index.tokens {
            bail!(
                "{}: key tokens says {} but the shards hold {total}",
                ipath.display(),
                index.tokens
            );
        }
        Ok(Self {
            dir,
            index,
            maps,
            starts,
            width,
        })
    }

    pub fn tokens(&self) -> u64 {
        self.index.tokens
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
            bail!("no training data configured");
        }
        let total: f64 = parts.iter().map(|p| p.2).sum();
        let mut sources = Vec::new();
        for (k, (name, ds, w)) in parts.into_iter().enumerate() {
            if !(w.is_finite() && w > 0.0) {
                bail!("train data {name:?}: weight {w} must be positive");
            }
            if ds.num_sequences(seq_len) == 0 {
                bail!(
                    "train data {name:?} ({}): {} tokens is less than one sequence of {seq_len}",
                    ds.dir.display(),
                    ds.tokens()
                );
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

    pub fn cursors(&self) -> Vec<SourceCursor> {
        self.sources.iter().map(|s| s.cur.clone()).collect()
    }

    /// Continues from saved cursors (names must match the configured sources).
    pub fn restore(&mut self, cursors: &[SourceCursor]) -> Result<()> {
        if cursors.len() != self.sources.len() {
            bail!(
                "checkpoint has {} data sources, config has {}",
                cursors.len(),
                self.sources.len()
            );
        }
        for (k, (s, c)) in self.sources.iter_mut().zip(cursors).enumerate() {
            if s.name != c.name {
                bail!(
                    "checkpoint data source {:?} does not match config source {:?}",
                    c.name,
                    s.name
                );
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
