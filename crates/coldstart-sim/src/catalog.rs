//! The synthetic functions of a region: owners, resource pools, runtimes, triggers and the
//! workload each one follows.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal as LogNormalDist};

use crate::profile::{pool_number, LogNormal, RegionProfile, LARGE_CONFIGS, SMALL_CONFIGS};
use crate::rng::stream;
use coldstart_trace::paper::{R2_TIMER_FUNCTION_SHARE, RUNTIME_COLD_STARTS_R2};

/// How a function's requests arrive.
#[derive(Debug, Clone)]
pub enum Workload {
    /// Cron-like: fires every `period` seconds at `offset` into the period, a little late.
    Timer {
        period: f64,
        offset: f64,
        jitter: f64,
    },
    /// Poisson arrivals of "events" modulated by a daily and weekly cycle and the holiday;
    /// each event brings `1 + Geometric(burst_mean)` requests spread over `burst_spread` s.
    Poisson {
        rate: f64,
        peak_hour: f64,
        amplitude: f64,
        weekend: f64,
        burst_mean: f64,
        burst_spread: f64,
    },
}

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub index: u32,
    pub func_name: i64,
    pub user_id: i64,
    pub cpu_limit: u32,
    pub memory_limit: u32,
    pub pool_name: String,
    pub func_id: String,
    pub runtime: &'static str,
    /// `(triggerType, invocationType)`; the first drives the workload.
    pub triggers: Vec<(&'static str, &'static str)>,
    pub workload: Workload,
    /// Execution time of one request.
    pub exec: LogNormal,
    /// Requests one pod serves at once.
    pub concurrency: u32,
    pub home_cluster: u8,
    /// Multiplies code deployment time (package size).
    pub code_factor: f64,
    /// Multiplies dependency deployment time; 0 for functions without layers.
    pub dep_factor: f64,
    /// Mean CPU use as a share of the limit, and memory as a share of the limit.
    pub cpu_share: f64,
    pub mem_share: f64,
    pub body_median: f64,
    /// Requests go through the frontend (timers are invoked internally).
    pub via_frontend: bool,
}

impl FunctionSpec {
    pub fn is_small_pool(&self) -> bool {
        coldstart_trace::paper::is_small_pool(self.cpu_limit.into(), self.memory_limit.into())
    }

    /// `triggerType-invocationType` of the trigger that drives the workload.
    pub fn primary_trigger(&self) -> String {
        let (t, i) = self.triggers[0];
        format!("{t}-{i}")
    }

    pub fn trigger_field(&self) -> String {
        self.triggers
            .iter()
            .map(|(t, i)| format!("{t}-{i}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Trigger mix of R2's functions: timers are the published share.
const TRIGGERS: [((&str, &str), f64); 12] = [
    (("TIMER", "A"), R2_TIMER_FUNCTION_SHARE),
    (("APIG", "S"), 0.17),
    (("APIG", "A"), 0.03),
    (("workflow", "S"), 0.05),
    (("workflow", "A"), 0.03),
    (("OBS", "A"), 0.04),
    (("Kafka", "A"), 0.015),
    (("SMN", "A"), 0.01),
    (("DIS", "A"), 0.01),
    (("LTS", "A"), 0.01),
    (("CTS", "A"), 0.01),
    (("unknown", "unknown"), 0.025),
];

/// Timer periods in minutes and their shares: mostly hourly or daily jobs.
const TIMER_PERIODS: [(f64, f64); 12] = [
    (1.0, 0.08),
    (2.0, 0.001),
    (5.0, 0.005),
    (10.0, 0.005),
    (15.0, 0.015),
    (30.0, 0.04),
    (60.0, 0.15),
    (120.0, 0.08),
    (180.0, 0.06),
    (360.0, 0.07),
    (720.0, 0.10),
    (1440.0, 0.394),
];

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    LogNormalDist::new(median.ln(), sigma)
        .expect("valid parameters")
        .sample(rng)
}

/// Builds `n` functions for a region, deterministic in `seed`.
pub fn build(profile: &RegionProfile, n: u32, seed: u64, region_index: u64) -> Vec<FunctionSpec> {
    let mut rng = stream(seed, region_index, u64::MAX);
    let n_us = n as usize;

    // Owners: 60-90 % of users own a single function.
    let mut owners = Vec::with_capacity(n_us);
    let mut user = 0i64;
    while owners.len() < n_us {
        user += 1;
        let k = if rng.gen::<f64>() < 0.75 {
            1
        } else {
            2 + (lognormal(&mut rng, 2.0, 1.0) as usize).min(40)
        };
        for _ in 0..k.min(n_us - owners.len()) {
            owners.push(user * 7 + 100 + region_index as i64);
        }
    }
    owners.shuffle(&mut rng);

    // Triggers by exact quota, so the timer share does not wander with the seed.
    let mut triggers: Vec<(&'static str, &'static str)> = Vec::with_capacity(n_us);
    let mut acc = 0.0;
    for (t, share) in TRIGGERS {
        acc += share * n as f64;
        while (triggers.len() as f64) < acc.round() && triggers.len() < n_us {
            triggers.push(t);
        }
    }
    while triggers.len() < n_us {
        triggers.push(("APIG", "S"));
    }
    triggers.shuffle(&mut rng);

    let mut names: Vec<i64> = (0..n as i64).map(|i| 10 + i * 3).collect();
    names.shuffle(&mut rng);

    let mut funcs: Vec<FunctionSpec> = (0..n_us)
        .map(|i| {
            let trig = triggers[i];
            let (workload, exec_median, busy) = workload_for(&mut rng, trig.0);
            let mut all_triggers = vec![trig];
            if rng.gen::<f64>() < 0.04 {
                let extra = pick(&mut rng, &TRIGGERS.map(|(t, w)| (t, w)));
                if extra != trig {
                    all_triggers.push(extra);
                }
            }
            let concurrency = if rng.gen::<f64>() < if busy { 0.2 } else { 0.8 } {
                1
            } else {
                *[2u32, 4, 8, 16, 50, 100]
                    .choose(&mut rng)
                    .expect("non-empty")
            };
            let heavy = trig.0 == "OBS";
            FunctionSpec {
                index: i as u32,
                func_name: names[i],
                user_id: owners[i],
                cpu_limit: 0,
                memory_limit: 0,
                pool_name: String::new(),
                func_id: String::new(),
                runtime: "Python3",
                triggers: all_triggers,
                workload,
                exec: LogNormal {
                    median: exec_median,
                    sigma: 0.5,
                },
                concurrency,
                home_cluster: rng.gen_range(1..=4),
                code_factor: lognormal(&mut rng, if heavy { 4.0 } else { 1.0 }, 0.4),
                dep_factor: if rng.gen::<f64>() < profile.dep_share || heavy {
                    lognormal(&mut rng, if heavy { 3.0 } else { 1.0 }, 0.5)
                } else {
                    0.0
                },
                cpu_share: rng.gen_range(0.05..0.6),
                mem_share: rng.gen_range(0.1..0.7),
                body_median: lognormal(&mut rng, 800.0, 1.2),
                via_frontend: trig.0 != "TIMER",
            }
        })
        .collect();

    for f in &mut funcs {
        let (cpu, mem) = (SMALL_CONFIGS[0].0, SMALL_CONFIGS[0].1);
        set_pool(f, cpu, mem);
    }
    funcs
}

fn set_pool(f: &mut FunctionSpec, cpu: u32, mem: u32) {
    f.cpu_limit = cpu;
    f.memory_limit = mem;
    f.pool_name = format!("pool{}-{cpu}-{mem}", pool_number(cpu, mem));
    let mut id = String::new();
    coldstart_trace::pool::write_func_id(&mut id, f.func_name, f.user_id, &f.pool_name);
    f.func_id = id;
}

/// Gives functions their runtime and resource pool so that shares of *cold starts* (not of
/// functions) meet the published mix: functions are taken heaviest first (by `weights`,
/// their cold starts in a pilot run) and each goes to the runtime, and the pool size, that
/// is furthest below its target share.
pub fn assign(funcs: &mut [FunctionSpec], weights: &[f64], seed: u64, region_index: u64) {
    let mut rng = stream(seed, region_index, u64::MAX - 1);
    let n_us = funcs.len();
    let mut order: Vec<usize> = (0..n_us).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]).then(a.cmp(b)));
    let total_rt: f64 = RUNTIME_COLD_STARTS_R2.iter().map(|(_, c)| *c as f64).sum();
    let rt_target: Vec<f64> = RUNTIME_COLD_STARTS_R2
        .iter()
        .map(|(_, c)| *c as f64 / total_rt)
        .collect();
    let mut rt_assigned = vec![0.0; rt_target.len()];
    let size_target = [0.70, 0.30];
    let mut size_assigned = [0.0; 2];
    let mut assigned_total = 0.0;
    for &i in &order {
        let w = weights[i];
        let after = assigned_total + w;
        let r = argmax(
            rt_target
                .iter()
                .zip(&rt_assigned)
                .map(|(t, a)| t * after - a),
        );
        rt_assigned[r] += w;
        let s = argmax(
            size_target
                .iter()
                .zip(&size_assigned)
                .map(|(t, a)| t * after - a),
        );
        size_assigned[s] += w;
        assigned_total = after;
        let f = &mut funcs[i];
        f.runtime = RUNTIME_COLD_STARTS_R2[r].0;
        let (cpu, mem) = if s == 0 {
            pick(&mut rng, &SMALL_CONFIGS.map(|(c, m, w)| ((c, m), w)))
        } else {
            pick(&mut rng, &LARGE_CONFIGS.map(|(c, m, w)| ((c, m), w)))
        };
        set_pool(f, cpu, mem);
        if f.runtime == "Java" {
            f.exec.median *= 1.5;
        }
    }
}

fn argmax(it: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in it.enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Event-driven functions are either sparse (a few requests a day, nearly each one cold)
/// or busy (a request every few seconds, pods kept warm); few sit in between, which is
/// why the trace has billions of requests but millions of cold starts.
fn workload_for(rng: &mut ChaCha8Rng, trigger: &str) -> (Workload, f64, bool) {
    let poisson = |rng: &mut ChaCha8Rng, median: f64, sigma: f64, burst: f64, spread: f64| {
        Workload::Poisson {
            rate: lognormal(rng, median, sigma).min(20.0),
            peak_hour: 14.0 + 2.5 * (rng.gen::<f64>() - 0.5) * 2.0,
            amplitude: rng.gen_range(0.3..0.8),
            weekend: rng.gen_range(0.55..0.85),
            burst_mean: burst,
            burst_spread: spread,
        }
    };
    let busy_share = match trigger {
        "TIMER" | "OBS" => 0.0,
        "workflow" => 0.3,
        "Kafka" | "DIS" | "LTS" => 0.5,
        _ => 0.25,
    };
    let busy = rng.gen::<f64>() < busy_share;
    let (w, exec) = match (trigger, busy) {
        ("TIMER", _) => {
            let period = pick(rng, &TIMER_PERIODS) * 60.0;
            let offset = if rng.gen::<f64>() < 0.7 {
                0.0
            } else {
                (rng.gen_range(0.0..period) * 1000.0).round() / 1000.0
            };
            let w = Workload::Timer {
                period,
                offset,
                jitter: rng.gen_range(0.001..0.05),
            };
            (w, lognormal(rng, 0.4, 1.0).min(120.0))
        }
        ("OBS", _) => (
            poisson(rng, 0.00005, 1.5, 8.0, 30.0),
            lognormal(rng, 1.5, 0.8).min(120.0),
        ),
        ("workflow", false) => (
            poisson(rng, 0.0003, 1.5, 1.0, 2.0),
            lognormal(rng, 0.2, 1.0).min(60.0),
        ),
        ("workflow", true) => (
            poisson(rng, 0.1, 1.3, 1.0, 2.0),
            lognormal(rng, 0.1, 1.0).min(10.0),
        ),
        (_, false) => (
            poisson(rng, 0.00008, 1.5, 0.2, 1.0),
            lognormal(rng, 0.08, 1.2).min(60.0),
        ),
        (_, true) => (
            poisson(rng, 0.15, 1.3, 0.0, 0.0),
            lognormal(rng, 0.05, 1.0).min(5.0),
        ),
    };
    (w, exec, busy)
}
