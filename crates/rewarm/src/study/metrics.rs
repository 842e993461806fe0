//! What the report says of each run, read from its `log.jsonl` and `throughput.jsonl`: the
//! validation curves, final and best losses, forgetting and the early loss bump.

use crate::run_dir::read_log;
use anyhow::Result;
use std::path::Path;

/// One evaluation: tokens seen by the run, LR of that step, loss per validation set.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub step: u64,
    pub tokens: u64,
    pub upstream: f64,
    pub downstream: f64,
}

/// The early rise of a validation loss after a run starts from a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bump {
    /// Peak loss minus the loss at the branch point (0 when the loss never rose).
    pub height: f64,
    /// Tokens at the peak.
    pub peak_tokens: u64,
    /// Tokens at the first evaluation after the peak back at or below the branch-point loss
    /// (None: it never came back).
    pub gone_tokens: Option<u64>,
}

/// The per-sequence losses behind one evaluation point (empty where the log kept none).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sequences {
    pub upstream: Vec<f32>,
    pub downstream: Vec<f32>,
}

#[derive(Clone, Debug)]
pub struct RunMetrics {
    pub points: Vec<Point>,
    /// Each point's per-sequence losses, in the order of `points`.
    pub sequences: Vec<Sequences>,
    /// (tokens, lr) of every logged step.
    pub lr: Vec<(u64, f64)>,
    pub tokens: u64,
    pub seconds: f64,
    /// Whether the run ended (its last step is logged with evaluations).
    pub complete: bool,
    /// The downstream task scores of its last evaluation that scored tasks (`[eval] tasks`),
    /// and that evaluation's step.
    pub tasks: Vec<crate::tasks::TaskScore>,
    pub tasks_step: u64,
}

impl RunMetrics {
    pub fn read(dir: &Path, steps: u64) -> Result<Self> {
        let log = read_log(dir)?;
        let mut points = Vec::new();
        let mut sequences = Vec::new();
        let mut lr = Vec::new();
        for l in &log {
            if let Some(v) = l.lr {
                lr.push((l.tokens, v));
            }
            let get = |n: &str| l.eval.iter().find(|e| e.name == n);
            if let (Some(u), Some(d)) = (get("upstream"), get("downstream")) {
                points.push(Point {
                    step: l.step,
                    tokens: l.tokens,
                    upstream: u.loss,
                    downstream: d.loss,
                });
                sequences.push(Sequences {
                    upstream: u.sequences.clone(),
                    downstream: d.sequences.clone(),
                });
            }
        }
        let seconds = std::fs::read_to_string(dir.join(crate::run_dir::THROUGHPUT))
            .ok()
            .and_then(|t| {
                t.lines()
                    .rev()
                    .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .find_map(|v| v["seconds"].as_f64())
            })
            .unwrap_or(f64::NAN);
        let complete = points.last().is_some_and(|p| p.step == steps);
        let scored = log.iter().rev().find(|l| !l.tasks.is_empty());
        Ok(Self {
            tasks: scored.map(|l| l.tasks.clone()).unwrap_or_default(),
            tasks_step: scored.map_or(0, |l| l.step),
            tokens: log.last().map_or(0, |l| l.tokens),
            points,
            sequences,
            lr,
            seconds,
            complete,
        })
    }

    /// The sizes of the two validation sets when every point kept the same number of
    /// per-sequence losses of each (None when one kept none or the sizes differ).
    pub fn sequence_counts(&self) -> Option<(usize, usize)> {
        let first = self.sequences.first()?;
        let n = (first.upstream.len(), first.downstream.len());
        let same = self.sequences.len() == self.points.len()
            && self
                .sequences
                .iter()
                .all(|s| (s.upstream.len(), s.downstream.len()) == n);
        (same && n.0 > 0 && n.1 > 0).then_some(n)
    }

    /// This run with each point's losses recomputed from the sequences drawn: the mean of
    /// the upstream losses at `upstream` and of the downstream losses at `downstream` (indices
    /// into each point's sequences, repeats allowed: one bootstrap replicate). Every
    /// sequence has the same number of tokens, so the mean over sequences is the token mean.
    /// Needs [`RunMetrics::sequence_counts`].
    pub fn resampled(&self, upstream: &[usize], downstream: &[usize]) -> RunMetrics {
        let mean = |xs: &[f32], at: &[usize]| {
            at.iter().map(|&i| f64::from(xs[i])).sum::<f64>() / at.len() as f64
        };
        let points = self
            .points
            .iter()
            .zip(&self.sequences)
            .map(|(p, s)| Point {
                upstream: mean(&s.upstream, upstream),
                downstream: mean(&s.downstream, downstream),
                ..p.clone()
            })
            .collect();
        RunMetrics {
            points,
            sequences: Vec::new(),
            lr: Vec::new(),
            tokens: self.tokens,
            seconds: self.seconds,
            complete: self.complete,
            tasks: Vec::new(),
            tasks_step: self.tasks_step,
        }
    }

    pub fn initial(&self) -> Option<&Point> {
        self.points.first().filter(|p| p.step == 0)
    }

    pub fn last(&self) -> Option<&Point> {
        self.points.last()
    }

    pub fn best(&self, f: impl Fn(&Point) -> f64) -> f64 {
        self.points.iter().map(f).fold(f64::INFINITY, f64::min)
    }

    /// Final upstream loss minus the upstream loss at the branch point.
    pub fn forgetting(&self) -> Option<f64> {
        Some(self.last()?.upstream - self.initial()?.upstream)
    }

    /// The average of the final upstream and downstream losses (Ibrahim et al.'s summary).
    pub fn average(&self) -> Option<f64> {
        self.last().map(|p| (p.upstream + p.downstream) / 2.0)
    }

    /// The bump of one validation loss in the first half of the run.
    pub fn bump(&self, f: impl Fn(&Point) -> f64) -> Option<Bump> {
        let start = f(self.initial()?);
        let half = self.points.last()?.step / 2;
        let early: Vec<&Point> = self
            .points
            .iter()
            .filter(|p| p.step <= half.max(1))
            .collect();
        let peak = early.iter().copied().max_by(|a, b| f(a).total_cmp(&f(b)))?;
        let height = (f(peak) - start).max(0.0);
        let gone_tokens = if height == 0.0 {
            Some(0)
        } else {
            self.points
                .iter()
                .find(|p| p.step > peak.step && f(p) <= start)
                .map(|p| p.tokens)
        };
        Some(Bump {
            height,
            peak_tokens: peak.tokens,
            gone_tokens,
        })
    }

    /// The loss at the evaluation closest to `tokens` (for comparing runs at equal tokens).
    pub fn at_tokens(&self, tokens: u64) -> Option<&Point> {
        self.points.iter().min_by_key(|p| p.tokens.abs_diff(tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ups: &[f64], downs: &[f64]) -> RunMetrics {
        RunMetrics {
            points: ups
                .iter()
                .zip(downs)
                .enumerate()
                .map(|(i, (u, d))| Point {
                    step: i as u64 * 10,
                    tokens: i as u64 * 1000,
                    upstream: *u,
                    downstream: *d,
                })
                .collect(),
            sequences: vec![],
            lr: vec![],
            tasks: vec![],
            tasks_step: 0,
            tokens: (ups.len() as u64 - 1) * 1000,
            seconds: 1.0,
            complete: true,
        }
    }

    #[test]
    fn bump_forgetting_and_average_by_hand() {
        // Steps 0..80 every 10; the downstream loss rises 0.3 by step 20, is back under its
        // start at step 40; the upstream loss rises and stays up.
        let m = run(
            &[2.0, 2.2, 2.5, 2.6, 2.6, 2.55, 2.5, 2.5, 2.45],
            &[4.0, 4.2, 4.3, 4.1, 3.9, 3.5, 3.2, 3.0, 2.9],
        );
        let b = m.bump(|p| p.downstream).unwrap();
        assert!((b.height - 0.3).abs() < 1e-12);
        assert_eq!(b.peak_tokens, 2000);
        assert_eq!(b.gone_tokens, Some(4000));
        let b = m.bump(|p| p.upstream).unwrap();
        assert!((b.height - 0.6).abs() < 1e-12); // peak within the first half (step <= 40)
        assert_eq!(b.gone_tokens, None);
        assert!((m.forgetting().unwrap() - 0.45).abs() < 1e-12);
        assert!((m.average().unwrap() - (2.45 + 2.9) / 2.0).abs() < 1e-12);
        assert_eq!(m.best(|p| p.downstream), 2.9);
        assert_eq!(m.at_tokens(3400).unwrap().step, 30);
        // A loss that only falls has no bump, gone at once.
        let m = run(&[2.0, 1.9, 1.8], &[3.0, 2.0, 1.0]);
        let b = m.bump(|p| p.downstream).unwrap();
        assert_eq!((b.height, b.gone_tokens), (0.0, Some(0)));
    }
}
