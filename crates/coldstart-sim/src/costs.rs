//! What a cold start costs: its total time and four components, by region, runtime and pool
//! size. A [`CostModel`] answers for the k-th invocation of a function, the same answer under
//! every policy, so policies differ only in which invocations start cold.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::catalog::FunctionSpec;
use crate::profile::{LogNormal, RegionProfile};
use crate::rng::mix;

/// Log-space spread of the host contention shared by the steps of one cold start.
const CONTENTION_SIGMA: f64 = 0.85;

/// A LogNormal draw scaled by `factor`.
pub fn ln_sample<R: Rng>(rng: &mut R, d: LogNormal, factor: f64) -> f64 {
    let z: f64 = StandardNormal.sample(rng);
    d.median * factor * (d.sigma * z).exp()
}

/// Rounds to microseconds, as the release prints times and costs.
pub fn micros(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Cold-start costs of each function's invocations.
pub trait CostModel: Sync {
    /// Total, podAllocation, deployCode, deployDependency, scheduling (seconds) of a cold start
    /// of function `func` on its `k`-th invocation.
    fn cold_start(&self, func: u32, k: u64) -> [f64; 5];
}

/// The calibrated model of the synthetic release (spec section 4), per function.
pub struct ModelCosts {
    pub specs: Vec<FunctionSpec>,
    pub profile: RegionProfile,
    pub seed: u64,
}

impl CostModel for ModelCosts {
    fn cold_start(&self, func: u32, k: u64) -> [f64; 5] {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed ^ mix(u64::from(func)) ^ k));
        cold_start_costs(&mut rng, &self.specs[func as usize], &self.profile)
    }
}

/// Costs drawn from observed cold starts: a function's own where it has any, else its
/// region's (every function's costs pooled).
pub struct EmpiricalCosts {
    pub per_function: Vec<Vec<[f64; 5]>>,
    pub pooled: Vec<[f64; 5]>,
    pub seed: u64,
}

impl CostModel for EmpiricalCosts {
    fn cold_start(&self, func: u32, k: u64) -> [f64; 5] {
        let own = self
            .per_function
            .get(func as usize)
            .filter(|v| !v.is_empty());
        let v = own.unwrap_or(&self.pooled);
        if v.is_empty() {
            return [0.0; 5];
        }
        let i = mix(self.seed ^ mix(u64::from(func)) ^ k) % v.len() as u64;
        v[i as usize]
    }
}

/// Every cold start costs the same (hand-built tests).
pub struct FixedCosts(pub f64);

impl CostModel for FixedCosts {
    fn cold_start(&self, _: u32, _: u64) -> [f64; 5] {
        [self.0, self.0, 0.0, 0.0, 0.0]
    }
}

/// One cold start of `spec` in the calibrated model: total, podAllocation, deployCode,
/// deployDependency, scheduling (seconds, rounded to microseconds).
pub fn cold_start_costs<R: Rng>(
    rng: &mut R,
    spec: &FunctionSpec,
    profile: &RegionProfile,
) -> [f64; 5] {
    let large = if spec.is_small_pool() {
        1.0
    } else {
        profile.large_pool_factor
    };
    // Custom images and http functions have no warm pool: always built from scratch.
    let scratch = matches!(spec.runtime, "Custom" | "http");
    let stage = if scratch {
        2
    } else {
        let u: f64 = rng.gen();
        let (p0, p1) = (profile.alloc[0].0, profile.alloc[1].0);
        if u < p0 {
            0
        } else if u < p0 + p1 {
            1
        } else {
            2
        }
    };
    let alloc_factor = if scratch {
        profile.scratch_factor
    } else {
        large
    };
    // Host contention slows every step of one cold start alike.
    let busy = (CONTENTION_SIGMA * rng.sample::<f64, _>(StandardNormal)).exp();
    let alloc = micros(ln_sample(rng, profile.alloc[stage].1, alloc_factor * busy));
    let code = micros(ln_sample(rng, profile.code, spec.code_factor * busy));
    let dep = if spec.dep_factor > 0.0 {
        micros(ln_sample(rng, profile.dep, spec.dep_factor * busy))
    } else {
        0.0
    };
    let sched = micros(ln_sample(rng, profile.sched, large.sqrt() * busy));
    // Runtime start-up is part of the total but not one of the four components.
    let init_median = match spec.runtime {
        "Java" | "C#" => 0.15,
        "Python3" | "Python2" | "PHP7.3" => 0.02,
        _ => 0.01,
    };
    let init = ln_sample(
        rng,
        LogNormal {
            median: init_median,
            sigma: 0.4,
        },
        1.0,
    );
    let total = micros(alloc + code + dep + sched + init);
    [total, alloc, code, dep, sched]
}
