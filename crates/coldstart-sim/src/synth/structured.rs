//! The validation world (`synth --arrivals structured`): the paper world's functions, owners,
//! pools, runtimes and triggers, with arrivals whose structure inside the minute is what real
//! platforms show and what spreading a minute's count uniformly gets wrong:
//!
//! - timers fire at a fixed second of their period with millisecond jitter and are never late;
//! - bursts bring their requests within milliseconds, not seconds;
//! - half the sparse functions and a third of the busy ones poll in sessions, a request every
//!   few seconds while a session is open (sub-minute periods).
//!
//! A release made so, with per-request rows for every day (`--request-days all`), is the known
//! truth against which a replay of its per-minute tables is checked: the expansion learns from
//! the last day's rows and is measured on all of them.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::catalog::{FunctionSpec, Kind, Workload};
use crate::rng::stream;

/// Salt of the stream that restructures the arrivals, apart from every stream of the model.
const STRUCTURE_SALT: u64 = 0x5742_0C7E;

/// Sub-minute polling periods, seconds.
const POLL_PERIODS: [f64; 5] = [5.0, 10.0, 15.0, 20.0, 30.0];
/// How often a sparse function's polling session opens, seconds.
const SESSION_EVERY: [f64; 4] = [3600.0, 7200.0, 21600.0, 86400.0];

/// Gives every function of `specs` the validation world's arrivals (deterministic in `seed`
/// and the region).
pub fn restructure(specs: &mut [FunctionSpec], seed: u64, region_index: u64) {
    let mut rng = stream(seed ^ STRUCTURE_SALT, region_index, u64::MAX - 1);
    for f in specs.iter_mut() {
        let w = match (&f.workload, f.kind) {
            (Workload::Timer { period, .. }, _) => fixed_second(&mut rng, *period),
            (Workload::Poisson { .. }, Kind::Sparse) if rng.gen::<f64>() < 0.5 => {
                let every = *SESSION_EVERY.choose(&mut rng).expect("non-empty");
                Workload::Sessions {
                    period: *POLL_PERIODS.choose(&mut rng).expect("non-empty"),
                    length: rng.gen_range(60.0..1800.0),
                    every,
                    phase: rng.gen_range(0.0..every),
                    jitter: rng.gen_range(0.001..0.02),
                }
            }
            (Workload::Poisson { .. }, Kind::Busy) if rng.gen::<f64>() < 1.0 / 3.0 => {
                // Always open: a request every 1 to 3 s, all day.
                Workload::Sessions {
                    period: rng.gen_range(1.0..3.0),
                    length: 86400.0,
                    every: 86400.0,
                    phase: 0.0,
                    jitter: rng.gen_range(0.001..0.02),
                }
            }
            (
                Workload::Poisson {
                    rate,
                    cycle,
                    weekend,
                    burst_min,
                    burst_mean,
                    ..
                },
                Kind::Bursty,
            ) => Workload::Poisson {
                rate: *rate,
                cycle: *cycle,
                weekend: *weekend,
                burst_min: *burst_min,
                burst_mean: *burst_mean,
                // Milliseconds: the burst lands on the platform at once.
                burst_spread: rng.gen_range(0.002..0.1),
            },
            (w, _) => w.clone(),
        };
        f.workload = w;
        if let Some(Workload::Timer { period, .. }) = &f.also {
            f.also = Some(fixed_second(&mut rng, *period));
        }
    }
}

/// A timer of `period` seconds firing at a whole second of its period, 1 to 10 ms late.
fn fixed_second<R: Rng>(rng: &mut R, period: f64) -> Workload {
    let seconds = period.max(1.0).floor() as u64;
    Workload::Timer {
        period,
        offset: rng.gen_range(0..seconds) as f64,
        jitter: rng.gen_range(0.001..0.01),
        late_chance: 0.0,
        late_max: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::profile;
    use crate::workload::synthetic::{arrivals, expected_per_day};

    #[test]
    fn polling_sessions_fire_every_period_while_open_across_midnight() {
        let prof = profile("R2").unwrap();
        let mut spec = crate::catalog::build(&prof, 1, 1, 1).remove(0);
        spec.also = None;
        // Hourly sessions of 60 s, a request every 10 s, opening 100 s into each hour.
        spec.workload = Workload::Sessions {
            period: 10.0,
            length: 60.0,
            every: 3600.0,
            phase: 100.0,
            jitter: 0.0,
        };
        let mut rng = stream(1, 1, 1);
        let t = arrivals(&mut rng, &spec, &prof, 0);
        assert_eq!(t.len(), 24 * 6);
        assert_eq!(&t[..7], &[100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 3700.0]);
        assert_eq!(expected_per_day(&spec, &prof, 0), 144.0);
        // A daily session opening 10 s before midnight: one request that day, five after.
        spec.workload = Workload::Sessions {
            period: 10.0,
            length: 60.0,
            every: 86400.0,
            phase: 86390.0,
            jitter: 0.0,
        };
        let d1 = arrivals(&mut rng, &spec, &prof, 1);
        assert_eq!(
            d1,
            vec![86400.0, 86410.0, 86420.0, 86430.0, 86440.0, 172790.0]
        );
    }

    #[test]
    fn the_validation_world_fires_at_fixed_seconds_and_bursts_within_milliseconds() {
        let prof = profile("R2").unwrap();
        let paper = crate::catalog::build(&prof, 300, 1, 1);
        let mut specs = paper.clone();
        restructure(&mut specs, 1, 1);
        let (mut timers, mut bursts, mut sessions) = (0, 0, 0);
        for (a, b) in paper.iter().zip(&specs) {
            assert_eq!((a.func_id.as_str(), a.kind), (b.func_id.as_str(), b.kind));
            for w in std::iter::once(&b.workload).chain(&b.also) {
                match w {
                    Workload::Timer {
                        offset,
                        jitter,
                        late_chance,
                        ..
                    } => {
                        timers += 1;
                        assert_eq!(offset.fract(), 0.0);
                        assert!(*jitter < 0.01 && *late_chance == 0.0);
                    }
                    Workload::Poisson { burst_spread, .. } if b.kind == Kind::Bursty => {
                        bursts += 1;
                        assert!(*burst_spread < 0.1);
                    }
                    Workload::Sessions { period, .. } => {
                        sessions += 1;
                        assert!(*period < 60.0);
                    }
                    _ => {}
                }
            }
        }
        assert!(
            timers > 50 && bursts > 5 && sessions > 5,
            "{timers} {bursts} {sessions}"
        );
        // Deterministic in the seed.
        let mut again = paper.clone();
        restructure(&mut again, 1, 1);
        assert_eq!(format!("{again:?}"), format!("{specs:?}"));
    }
}
