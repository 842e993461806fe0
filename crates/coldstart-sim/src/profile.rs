//! Per-region parameters of the synthetic trace, calibrated against the paper's published
//! numbers (spec section 4). Only R2's totals and runtime mix are published; the other
//! regions' sizes are our assumption, chosen so that the five regions hold the published
//! 11.9 million cold starts.

/// A LogNormal given by its median (seconds) and log-space standard deviation.
#[derive(Debug, Clone, Copy)]
pub struct LogNormal {
    pub median: f64,
    pub sigma: f64,
}

impl LogNormal {
    /// Its mean.
    pub fn mean(self) -> f64 {
        self.median * (0.5 * self.sigma * self.sigma).exp()
    }

    /// Its `p` quantile.
    pub fn quantile(self, p: f64) -> f64 {
        self.median * (self.sigma * standard_normal_quantile(p)).exp()
    }

    /// Its mean between its `a` and `b` quantiles (`0 <= a < b <= 1`):
    /// `mean * (Φ(z_b - σ) - Φ(z_a - σ)) / (b - a)`, z being the standard normal quantiles.
    /// Strata `[j/n, (j+1)/n)` of these sum to `n` times the mean.
    pub fn stratum_mean(self, a: f64, b: f64) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        let phi = Normal::new(0.0, 1.0).expect("standard");
        let shifted = |p: f64| match p {
            p if p <= 0.0 => 0.0,
            p if p >= 1.0 => 1.0,
            p => phi.cdf(standard_normal_quantile(p) - self.sigma),
        };
        self.mean() * (shifted(b) - shifted(a)) / (b - a)
    }
}

/// The `p` quantile of the standard normal law.
pub fn standard_normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0).expect("standard").inverse_cdf(p)
}

const fn ln(median: f64, sigma: f64) -> LogNormal {
    LogNormal { median, sigma }
}

/// One population of a region's functions by daily cycle: its functions peak around `hour`
/// (each at its own hour, `spread` hours apart in standard deviation) with a concentration
/// drawn from `kappa` (see [`crate::calendar::Cycle`]). Its `share` of the sparse, bursty and
/// busy event-driven functions is dealt by exact quota within each kind. A region's load
/// curve is the sum of its functions' cycles, so where and how sharply it peaks follows from
/// its populations: office hours, a nightly batch at a fixed minute (busy functions only: a
/// batch is volume), an evening crowd.
#[derive(Debug, Clone, Copy)]
pub struct DailyMode {
    pub hour: f64,
    /// Shares of the sparse, bursty and busy functions.
    pub share: [f64; 3],
    pub spread: f64,
    pub kappa: (f64, f64),
}

/// A population that takes `share` of every kind of event-driven function.
const fn mode(hour: f64, share: f64, spread: f64, kappa: (f64, f64)) -> DailyMode {
    batch(hour, [share; 3], spread, kappa)
}

/// A population with its own share of each kind (sparse, bursty, busy).
const fn batch(hour: f64, share: [f64; 3], spread: f64, kappa: (f64, f64)) -> DailyMode {
    DailyMode {
        hour,
        share,
        spread,
        kappa,
    }
}

/// R1: working hours: a swell from the early morning to a late-morning peak.
const R1_DAILY: [DailyMode; 2] = [
    mode(10.5, 0.8, 1.0, (0.6, 1.2)),
    mode(5.0, 0.2, 2.0, (0.3, 0.6)),
];

/// R2: a daytime swell, and a nightly batch of minutes that is the day's largest peak.
const R2_DAILY: [DailyMode; 2] = [
    batch(9.0, [1.0, 1.0, 0.85], 2.0, (0.4, 1.0)),
    batch(21.0, [0.0, 0.0, 0.15], 0.05, (40.0, 80.0)),
];

/// R3: nearly flat, a little higher in the evening.
const R3_DAILY: [DailyMode; 1] = [mode(20.5, 1.0, 2.5, (0.1, 0.3))];

/// R4: a moderate cycle around 04:00 (above its timers, which fire mostly at midnight).
const R4_DAILY: [DailyMode; 1] = [mode(4.0, 1.0, 3.0, (0.3, 0.7))];

/// R5: a sharp peak after midnight, a second one in the morning, flat otherwise.
const R5_DAILY: [DailyMode; 3] = [
    mode(1.0, 0.55, 0.7, (4.0, 10.0)),
    mode(7.0, 0.15, 0.7, (4.0, 10.0)),
    mode(12.0, 0.3, 6.0, (0.0, 0.1)),
];

/// A region's functions that are never idle: the few that take almost all its requests
/// (Fig 1's volume: R1 about 40 billion in 31 days, R3 29 billion with a tenth of the
/// functions), each a request every few milliseconds for milliseconds. They are replayed
/// minute by minute ([`crate::fluid`]).
#[derive(Debug, Clone, Copy)]
pub struct Steady {
    /// Their share of the region's functions (Fig 3a: the functions above a request a second,
    /// about 2.5 % of R1's and R2's, 1 % of R3's, fewer in R4).
    pub share: f64,
    /// The law of a function's mean rate (requests/s) over a weekday, cut into as many equal
    /// strata as the region has such functions, each function taking its stratum's mean
    /// ([`LogNormal::stratum_mean`]); the median is what gives the region Fig 1's requests at `--scale 1` with
    /// the other functions' (about 0.5 % of R1's).
    pub rate: LogNormal,
    /// The law of a function's median execution time (s): Fig 3b's per-region medians of
    /// the mean execution time per minute, 110 ms in R1 to 3.5 ms in R5.
    pub exec: LogNormal,
}

impl Steady {
    /// No function that is never idle (every region at `--volume light`).
    pub const NONE: Steady = Steady {
        share: 0.0,
        rate: ln(1.0, 0.0),
        exec: ln(0.0035, 0.8),
    };
}

/// Cold start component model of one region.
#[derive(Debug, Clone)]
pub struct RegionProfile {
    pub name: &'static str,
    /// Functions at `--scale 1`: Fig 1's.
    pub functions: u32,
    /// Pod allocation is searched in stages (pool hit, wider search, created from scratch):
    /// (probability, time) per stage, which makes it multimodal.
    pub alloc: [(f64, LogNormal); 3],
    pub code: LogNormal,
    /// Share of functions with dependency layers; the others deploy none (cost 0).
    pub dep_share: f64,
    pub dep: LogNormal,
    pub sched: LogNormal,
    /// Large pools (over 400 mCPU or 256 MB) multiply pool-search allocation by this, and
    /// scheduling by its square root.
    pub large_pool_factor: f64,
    /// Custom and http runtimes have no warm pool: their pod is built from scratch, which
    /// takes this many times the slowest allocation stage.
    pub scratch_factor: f64,
    /// Load multiplier during the holiday (R3 is busier, the others quieter).
    pub holiday_factor: f64,
    /// The populations of its event-driven functions by daily cycle.
    pub daily: &'static [DailyMode],
    /// How its cold starts slow down when their pool or cluster is busier than usual
    /// ([`crate::pressure`]): the chance of a pool miss and the time of a build from scratch
    /// go as the pool's `pressure ^ load_alloc`, the steps on the host (code and dependency
    /// deployment, scheduling) as the cluster's `pressure ^ load_host` (each over its mean
    /// across the cold starts it applies to).
    /// Regions differ in which part of the platform is the bottleneck: calibrated to Fig 12's
    /// correlations of each with the number of cold starts at `--scale 1` (R1 allocation and
    /// scheduling; R3 scheduling; R4 allocation; R2 neither, its correlations come from its
    /// mix; R5's allocation does not slow and its scheduling is a little faster when busy).
    pub load_alloc: f64,
    pub load_host: f64,
    pub steady: Steady,
    /// How often its users call their occasional functions: multiplies the event rates of the
    /// sparse and bursty functions (R2: 1). With `always_on`, what sets the region's cold
    /// starts per function (Fig 1: about 90 a day in R1, 28 in R2, 7 in R4).
    pub activity: f64,
    /// How many of its functions are never a minute without a request: multiplies the share
    /// of busy functions among the event-driven ones and of timers firing every minute (R2: 1;
    /// Fig 3a: about 20 % of R1's functions have a request a minute, 1 % of R4's).
    pub always_on: f64,
}

pub fn profile(region: &str) -> Option<RegionProfile> {
    // A region's size at `--scale 1` is its functions in the trace (Fig 1).
    let functions = coldstart_trace::paper::FIG1_REGIONS
        .iter()
        .find(|f| f.region == region)?
        .functions
        .round() as u32;
    let p = match region {
        // Slow: dependency deployment and scheduling dominate.
        "R1" => RegionProfile {
            name: "R1",
            functions,
            alloc: [
                (0.6, ln(0.04, 0.7)),
                (0.3, ln(0.25, 0.7)),
                (0.1, ln(1.2, 0.8)),
            ],
            code: ln(0.1, 0.8),
            dep_share: 0.75,
            dep: ln(0.55, 1.3),
            sched: ln(0.4, 1.1),
            large_pool_factor: 1.5,
            scratch_factor: 1.5,
            holiday_factor: 0.6,
            daily: &R1_DAILY,
            load_alloc: 3.0,
            load_host: 0.7,
            steady: Steady {
                share: 0.025,
                rate: ln(140.0, 1.2),
                exec: ln(0.11, 0.8),
            },
            activity: 3.4,
            always_on: 1.8,
        },
        // Pod allocation dominates.
        "R2" => RegionProfile {
            name: "R2",
            functions,
            alloc: [
                (0.35, ln(0.2, 0.7)),
                (0.45, ln(0.6, 0.7)),
                (0.2, ln(2.0, 0.8)),
            ],
            code: ln(0.05, 0.8),
            dep_share: 0.4,
            dep: ln(0.12, 1.2),
            sched: ln(0.175, 1.1),
            large_pool_factor: 2.0,
            scratch_factor: 5.3,
            holiday_factor: 0.6,
            daily: &R2_DAILY,
            load_alloc: 0.5,
            load_host: 0.0,
            steady: Steady {
                share: 0.025,
                rate: ln(45.0, 1.2),
                exec: ln(0.04, 0.8),
            },
            activity: 1.0,
            always_on: 1.0,
        },
        // Fast.
        "R3" => RegionProfile {
            name: "R3",
            functions,
            alloc: [
                (0.85, ln(0.01, 0.7)),
                (0.12, ln(0.04, 0.7)),
                (0.03, ln(0.2, 0.8)),
            ],
            code: ln(0.008, 0.7),
            dep_share: 0.2,
            dep: ln(0.018, 1.0),
            sched: ln(0.03, 0.9),
            large_pool_factor: 4.0,
            scratch_factor: 1.2,
            holiday_factor: 1.3,
            daily: &R3_DAILY,
            load_alloc: 4.0,
            load_host: 1.0,
            steady: Steady {
                share: 0.02,
                rate: ln(1000.0, 1.2),
                exec: ln(0.035, 0.8),
            },
            activity: 1.7,
            always_on: 1.3,
        },
        "R4" => RegionProfile {
            name: "R4",
            functions,
            alloc: [
                (0.5, ln(0.08, 0.7)),
                (0.35, ln(0.4, 0.7)),
                (0.15, ln(1.6, 0.8)),
            ],
            code: ln(0.08, 0.8),
            dep_share: 0.5,
            dep: ln(0.3, 1.2),
            sched: ln(0.3, 1.1),
            large_pool_factor: 2.0,
            scratch_factor: 2.0,
            holiday_factor: 0.7,
            daily: &R4_DAILY,
            load_alloc: 5.0,
            load_host: 0.25,
            steady: Steady {
                share: 0.003,
                rate: ln(36.0, 1.2),
                exec: ln(0.008, 0.8),
            },
            activity: 0.22,
            always_on: 0.1,
        },
        "R5" => RegionProfile {
            name: "R5",
            functions,
            alloc: [
                (0.55, ln(0.05, 0.7)),
                (0.35, ln(0.25, 0.7)),
                (0.1, ln(1.2, 0.8)),
            ],
            code: ln(0.04, 0.8),
            dep_share: 0.4,
            dep: ln(0.15, 1.2),
            sched: ln(0.2, 1.1),
            large_pool_factor: 1.0,
            scratch_factor: 2.0,
            holiday_factor: 0.7,
            daily: &R5_DAILY,
            load_alloc: 0.0,
            load_host: -0.5,
            steady: Steady {
                share: 0.005,
                rate: ln(5.3, 1.2),
                exec: ln(0.0035, 0.8),
            },
            activity: 1.7,
            always_on: 1.3,
        },
        _ => return None,
    };
    Some(p)
}

/// Resource configurations (CPU millicores, memory MB) and their pool numbers.
pub const SMALL_CONFIGS: [(u32, u32, f64); 3] =
    [(300, 128, 0.55), (400, 256, 0.35), (300, 256, 0.10)];
pub const LARGE_CONFIGS: [(u32, u32, f64); 12] = [
    (600, 512, 0.25),
    (800, 768, 0.12),
    (1000, 1024, 0.15),
    (1200, 1536, 0.06),
    (1400, 1536, 0.04),
    (1600, 2048, 0.10),
    (1800, 2048, 0.04),
    (2200, 3072, 0.04),
    (2600, 3072, 0.03),
    (3400, 4096, 0.08),
    (6600, 8192, 0.06),
    (13000, 16384, 0.03),
];

/// Pool number of a configuration, stable across regions.
pub fn pool_number(cpu: u32, mem: u32) -> u32 {
    let all = SMALL_CONFIGS.iter().chain(LARGE_CONFIGS.iter());
    20 + all
        .enumerate()
        .find(|(_, c)| c.0 == cpu && c.1 == mem)
        .map_or(0, |(i, _)| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stratum_mean_is_the_conditional_mean_of_the_lognormal() {
        // scipy: stats.lognorm(s=1.2, scale=650).expect(lambda x: x, lb=ppf(a), ub=ppf(b),
        // conditional=True).
        let law = ln(650.0, 1.2);
        for (a, b, want) in [
            (0.8, 1.0, 4273.021172323779),
            (0.0, 0.2, 137.50797234312049),
            (0.4, 0.6, 659.9732048433059),
        ] {
            let got = law.stratum_mean(a, b);
            assert!(
                (got - want).abs() < 1e-6 * want,
                "{a}..{b}: {got} against {want}"
            );
        }
        // Equal strata sum to their number times the mean.
        let n = 7;
        let sum: f64 = (0..n)
            .map(|j| law.stratum_mean(j as f64 / n as f64, (j + 1) as f64 / n as f64))
            .sum();
        assert!((sum - n as f64 * law.mean()).abs() < 1e-9 * sum);
    }
}
