//! The paired bootstrap over the evaluation sequences a one-seed study's runs share: every run
//! is evaluated on the same validation sequences, so a replicate draws one multiset of
//! sequences per validation set (with replacement, as many as there are), recomputes every
//! evaluation point of every run from the losses of the sequences drawn, and measures the
//! findings again. The 2.5th and 97.5th percentiles of a test over the replicates are its
//! 95 % interval. The draw is shared by all runs (paired), so a difference between two runs
//! varies only with how differently they do on the same sequences. This is the evaluation
//! set's sampling noise; the seed-to-seed noise of training needs seeds.

use super::metrics::RunMetrics;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// Replicates per study: enough for stable 2.5th and 97.5th percentiles.
pub const REPLICATES: usize = 2000;
/// The draws are seeded, so a report reads the same every time it is written.
const SEED: u64 = 0x0b00_7570;

/// The sizes of the two validation sets when every finished run's every evaluation point
/// logged its per-sequence losses, all of the same sizes (None otherwise).
pub fn shared_sequences(runs: &BTreeMap<String, RunMetrics>) -> Option<(usize, usize)> {
    let mut sizes = runs
        .values()
        .filter(|m| m.complete)
        .map(|m| m.sequence_counts());
    let first = sizes.next()??;
    sizes.all(|s| s == Some(first)).then_some(first)
}

/// Calls `each` with the finished runs of `runs` resampled, [`REPLICATES`] times, and returns
/// the validation sets' sizes; None (and no call) when [`shared_sequences`] finds none.
pub fn replicates(
    runs: &BTreeMap<String, RunMetrics>,
    mut each: impl FnMut(&BTreeMap<String, RunMetrics>),
) -> Option<(usize, usize)> {
    let (nu, nd) = shared_sequences(runs)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
    let (mut up, mut down) = (vec![0; nu], vec![0; nd]);
    for _ in 0..REPLICATES {
        up.iter_mut().for_each(|i| *i = rng.gen_range(0..nu));
        down.iter_mut().for_each(|i| *i = rng.gen_range(0..nd));
        let drawn: BTreeMap<String, RunMetrics> = runs
            .iter()
            .filter(|(_, m)| m.complete)
            .map(|(name, m)| (name.clone(), m.resampled(&up, &down)))
            .collect();
        each(&drawn);
    }
    Some((nu, nd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::metrics::{Point, Sequences};

    fn run(points: &[(&[f32], &[f32])], complete: bool) -> RunMetrics {
        let mean = |xs: &[f32]| xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64;
        RunMetrics {
            points: points
                .iter()
                .enumerate()
                .map(|(i, (u, d))| Point {
                    step: i as u64,
                    tokens: i as u64 * 10,
                    upstream: mean(u),
                    downstream: mean(d),
                })
                .collect(),
            sequences: points
                .iter()
                .map(|(u, d)| Sequences {
                    upstream: u.to_vec(),
                    downstream: d.to_vec(),
                })
                .collect(),
            lr: vec![],
            tokens: 10,
            seconds: 1.0,
            complete,
            tasks: vec![],
            tasks_step: 0,
        }
    }

    #[test]
    fn a_replicate_resamples_every_run_with_the_same_draw() {
        let a = run(&[(&[1.0, 2.0, 3.0], &[4.0, 6.0])], true);
        // b is a plus 0.5 on every upstream sequence: any paired draw keeps the difference.
        let b = run(&[(&[1.5, 2.5, 3.5], &[4.0, 8.0])], true);
        let runs = BTreeMap::from([("a".to_string(), a.clone()), ("b".to_string(), b)]);
        assert_eq!(shared_sequences(&runs), Some((3, 2)));
        let mut diffs = Vec::new();
        let mut downs = Vec::new();
        let n = replicates(&runs, |m| {
            let (pa, pb) = (&m["a"].points[0], &m["b"].points[0]);
            diffs.push(pb.upstream - pa.upstream);
            downs.push(pa.downstream);
        });
        assert_eq!(n, Some((3, 2)));
        assert_eq!(diffs.len(), REPLICATES);
        assert!(diffs.iter().all(|d| (d - 0.5).abs() < 1e-12));
        // a's downstream replicate means are 4, 5 or 6 (two draws of {4, 6}), about 1:2:1.
        let count = |v: f64| downs.iter().filter(|&&x| x == v).count() as f64;
        assert_eq!(count(4.0) + count(5.0) + count(6.0), REPLICATES as f64);
        assert!((count(5.0) / REPLICATES as f64 - 0.5).abs() < 0.05);
        // By hand: drawing sequences 0, 0, 2 of the upstream set gives (1 + 1 + 3) / 3.
        let r = a.resampled(&[0, 0, 2], &[1, 1]);
        assert!((r.points[0].upstream - 5.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.points[0].downstream, 6.0);
    }

    #[test]
    fn no_bootstrap_without_shared_sequences() {
        let a = run(&[(&[1.0, 2.0], &[4.0])], true);
        let other = run(&[(&[1.0, 2.0, 3.0], &[4.0])], true);
        let unfinished = run(&[(&[1.0], &[4.0])], false);
        let none = run(&[(&[], &[])], true);
        let pair = |x: &RunMetrics, y: &RunMetrics| {
            BTreeMap::from([("x".to_string(), x.clone()), ("y".to_string(), y.clone())])
        };
        assert_eq!(shared_sequences(&pair(&a, &other)), None);
        assert_eq!(shared_sequences(&pair(&a, &none)), None);
        // An unfinished run is left out of the study's findings, so out of the check too.
        assert_eq!(shared_sequences(&pair(&a, &unfinished)), Some((2, 1)));
        let mut calls = 0;
        assert_eq!(replicates(&pair(&a, &none), |_| calls += 1), None);
        assert_eq!(calls, 0);
    }
}
