//! The synthetic functions of a region: owners, resource pools, runtimes, triggers and the
//! workload each one follows.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal as LogNormalDist};

use crate::calendar::Cycle;
use crate::profile::{
    pool_number, DailyMode, LogNormal, RegionProfile, LARGE_CONFIGS, SMALL_CONFIGS,
};
use crate::rng::stream;
use coldstart_trace::paper::RUNTIME_COLD_STARTS_R2;

/// How a function's requests arrive.
#[derive(Debug, Clone)]
pub enum Workload {
    /// Cron-like: fires every `period` seconds at `offset` into the period, up to `jitter`
    /// seconds late, and with chance `late_chance` a further 1 to `late_max` seconds late (a
    /// busy scheduler), which is what gives a timer firing every minute its cold starts.
    Timer {
        period: f64,
        offset: f64,
        jitter: f64,
        late_chance: f64,
        late_max: f64,
    },
    /// Poisson arrivals of "events" modulated by a daily cycle, the week and the holiday;
    /// each event brings `burst_min + Geometric(burst_mean)` requests (at least one), the
    /// ones after the first spread uniformly over the next `burst_spread` s.
    Poisson {
        rate: f64,
        cycle: Cycle,
        weekend: f64,
        burst_min: u32,
        burst_mean: f64,
        burst_spread: f64,
    },
    /// Sessions of polling: a session starts every `every` seconds, `phase` into that cycle,
    /// and for `length` seconds brings a request every `period` seconds, each up to `jitter`
    /// seconds late (a client polling every few seconds while it is open).
    Sessions {
        period: f64,
        length: f64,
        every: f64,
        phase: f64,
        jitter: f64,
    },
}

/// What kind of load an event-driven function carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A few requests a day, nearly each one cold.
    Sparse,
    /// Now and then a burst of requests over some seconds: its pods serve a few of them.
    Bursty,
    /// Requests all day long, several in flight at once: its pods live for hours.
    Busy,
    /// Fires on a schedule.
    Timer,
    /// Never idle: requests every few milliseconds all day, each for milliseconds. The few
    /// functions that take almost all of a region's requests; replayed minute by minute.
    Steady,
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
    /// `(triggerType, invocationType)` as the release lists them; a function counts under the
    /// first. A timer beside events (see `also`) is listed first; otherwise the first drives
    /// the workload.
    pub triggers: Vec<(&'static str, &'static str)>,
    pub workload: Workload,
    /// A second arrival process: the timer of a function that an event also triggers
    /// (`APIG-S` with `TIMER-A`), firing on its own schedule beside the events.
    pub also: Option<Workload>,
    pub kind: Kind,
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

    /// `triggerType-invocationType` of the first trigger listed.
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

/// R2's functions by their set of triggers (section 3.3): timer-only 42 %, APIG-S only 23 %,
/// APIG-S with TIMER-A 13 %, every other trigger or combination under 5 %; the first trigger
/// drives the events, `true` adds a timer beside them. About 60 % of the functions have a
/// timer (the published share).
const TRIGGER_SETS: [((&str, &str, bool), f64); 13] = [
    (("TIMER", "A", false), 0.43),
    (("APIG", "S", false), 0.22),
    (("APIG", "S", true), 0.15),
    (("APIG", "A", false), 0.02),
    (("workflow", "S", false), 0.05),
    (("workflow", "A", false), 0.03),
    (("OBS", "A", false), 0.04),
    (("Kafka", "A", false), 0.015),
    (("SMN", "A", false), 0.01),
    (("DIS", "A", false), 0.01),
    (("LTS", "A", false), 0.01),
    (("CTS", "A", false), 0.01),
    (("unknown", "unknown", false), 0.005),
];

/// The range of a never-idle function's mean rate (requests/s): at least a request a second
/// (never idle a 60 s keep-alive long), at most Fig 3a's largest function (about a billion
/// requests a day).
const STEADY_RATE: (f64, f64) = (1.0, 12_000.0);

/// The daily cycle of an OBS upload pipeline (von Mises concentration).
const OBS_PIPELINE_KAPPA: f64 = 0.6;

/// Requests a pod of a never-idle function takes at once (one of these, evenly).
const STEADY_CONCURRENCY: [u32; 3] = [10, 50, 100];

/// Timer periods in minutes and their shares, dealt by exact quota: mostly daily or hourly
/// jobs, a few every minute (each keeps a pod loaded all day), few in between (each firing
/// of those is a cold start of a pod that serves only it).
const TIMER_PERIODS: [(f64, f64); 11] = [
    (1.0, 0.05),
    (5.0, 0.002),
    (10.0, 0.003),
    (15.0, 0.005),
    (30.0, 0.005),
    (60.0, 0.015),
    (120.0, 0.02),
    (180.0, 0.02),
    (360.0, 0.05),
    (720.0, 0.08),
    (1440.0, 0.75),
];

/// Shares of busy and bursty functions among the event-driven functions of a trigger (the
/// rest are sparse), dealt by exact quota; the region's `always_on` multiplies the busy share
/// (at most all of the functions that are not bursty).
fn kind_shares(trigger: &str, always_on: f64) -> [(Kind, f64); 3] {
    let (busy, bursty) = match trigger {
        // Object storage events: half are pipelines that process the day's uploads as they
        // arrive (long runs, many at once at the daily peak), half see a batch now and then.
        "OBS" => (0.3, 0.7),
        "workflow" => (0.10, 0.45),
        "Kafka" | "DIS" | "LTS" => (0.30, 0.30),
        _ => (0.10, 0.25),
    };
    let busy = (busy * always_on).min(1.0 - bursty);
    [
        (Kind::Busy, busy),
        (Kind::Bursty, bursty),
        (Kind::Sparse, 1.0 - busy - bursty),
    ]
}

/// `n` items dealt by exact quota of their shares (the last takes any rounding left), in a
/// random order.
fn quota<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)], n: usize) -> Vec<T> {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut out = Vec::with_capacity(n);
    let mut acc = 0.0;
    for (item, share) in items {
        acc += share / total * n as f64;
        while (out.len() as f64) < acc.round() && out.len() < n {
            out.push(*item);
        }
    }
    while out.len() < n {
        out.push(items[items.len() - 1].0);
    }
    out.shuffle(rng);
    out
}

/// Each function's daily cycle: within each kind of event-driven function, the region's
/// populations ([`DailyMode`]) are dealt by exact quota of their shares of that kind, and each function draws its own peak
/// hour and concentration from its population's, its hour's spread times its `crowd` factor.
/// Timers keep their schedule (a flat cycle).
fn daily_cycles(
    rng: &mut ChaCha8Rng,
    modes: &[DailyMode],
    kinds: &[Kind],
    crowd: &[f64],
) -> Vec<Cycle> {
    let mut out = vec![Cycle::new(0.0, 0.0); kinds.len()];
    for (k, kind) in [Kind::Sparse, Kind::Bursty, Kind::Busy]
        .into_iter()
        .enumerate()
    {
        let items: Vec<(usize, f64)> = modes
            .iter()
            .enumerate()
            .map(|(i, m)| (i, m.share[k]))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        let members: Vec<usize> = (0..kinds.len()).filter(|i| kinds[*i] == kind).collect();
        let dealt = quota(rng, &items, members.len());
        for (i, m) in members.into_iter().zip(dealt) {
            let m = modes[m];
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            let kappa = if m.kappa.1 > m.kappa.0 {
                rng.gen_range(m.kappa.0..m.kappa.1)
            } else {
                m.kappa.0
            };
            out[i] = Cycle::new(m.hour + m.spread * crowd[i] * z, kappa);
        }
    }
    out
}

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

/// A draw of the LogNormal of `median` and log-space `sigma`.
pub(crate) fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    LogNormalDist::new(median.ln(), sigma)
        .expect("valid parameters")
        .sample(rng)
}

/// Builds `n` functions for a region, deterministic in `seed`.
pub fn build(profile: &RegionProfile, n: u32, seed: u64, region_index: u64) -> Vec<FunctionSpec> {
    let mut rng = stream(seed, region_index, u64::MAX);
    let n_us = n as usize;

    // Owners: 60-90 % of users own a single function; which ones is dealt at the end, by
    // traffic ([`crate::owners`]).
    let owners = crate::owners::slots(&mut rng, n_us, region_index);

    // Trigger sets by exact quota, so the shares do not wander with the seed.
    let sets = quota(&mut rng, &TRIGGER_SETS, n_us);
    let triggers: Vec<(&str, &str)> = sets.iter().map(|(t, i, _)| (*t, *i)).collect();
    // Kinds of load by exact quota within each trigger, and timer periods among timers.
    // A function an event triggers beside its timer gets events now and then: a manual run,
    // a retry (mostly sparse, so its pods stay few, as timers' are).
    let mut kinds: std::collections::HashMap<(&str, bool), Vec<Kind>> = Default::default();
    for ((t, _, also), _) in TRIGGER_SETS.iter().filter(|(t, _)| t.0 != "TIMER") {
        let count = sets.iter().filter(|u| u.0 == *t && u.2 == *also).count();
        let shares = if *also {
            [(Kind::Busy, 0.0), (Kind::Bursty, 0.1), (Kind::Sparse, 0.9)]
        } else {
            kind_shares(t, profile.always_on)
        };
        kinds
            .entry((t, *also))
            .or_insert_with(|| quota(&mut rng, &shares, count));
    }
    let timers = sets
        .iter()
        .filter(|(t, _, also)| *t == "TIMER" || *also)
        .count();
    // The region's `always_on` multiplies the share of timers firing every minute.
    let mut timer_periods = TIMER_PERIODS;
    timer_periods[0].1 *= profile.always_on;
    let mut periods = quota(&mut rng, &timer_periods, timers);

    let mut names: Vec<i64> = (0..n as i64).map(|i| 10 + i * 3).collect();
    names.shuffle(&mut rng);

    let kind_of: Vec<Kind> = sets
        .iter()
        .map(|(t, _, also)| match *t {
            "TIMER" => Kind::Timer,
            t => kinds
                .get_mut(&(t, *also))
                .and_then(Vec::pop)
                .unwrap_or(Kind::Sparse),
        })
        .collect();
    // The region's never-idle functions, from the sparse ones an event triggers alone (an API,
    // a stream). Their rates split their law into equal strata, each function taking its
    // stratum's mean: the region's volume is `n` times the law's mean whatever the seed,
    // not the luck of the draw in the top stratum (R3 at `--scale 1` has 5 such functions,
    // the largest carrying most of its requests).
    let mut kind_of = kind_of;
    let mut candidates: Vec<usize> = (0..n_us)
        .filter(|i| {
            kind_of[*i] == Kind::Sparse && !sets[*i].2 && !matches!(triggers[*i].0, "TIMER" | "OBS")
        })
        .collect();
    let steady_n = ((profile.steady.share * n as f64).round() as usize).min(candidates.len());
    if steady_n > 0 {
        candidates.shuffle(&mut rng);
    }
    for &i in &candidates[..steady_n] {
        kind_of[i] = Kind::Steady;
    }
    let mut steady_rate = vec![0.0; n_us];
    for (j, &i) in candidates[..steady_n].iter().enumerate() {
        let (a, b) = (j as f64 / steady_n as f64, (j + 1) as f64 / steady_n as f64);
        steady_rate[i] = profile
            .steady
            .rate
            .stratum_mean(a, b)
            .clamp(STEADY_RATE.0, STEADY_RATE.1);
    }
    // A never-idle function serves a crowd, whose habits average out: its peak hour strays
    // from its population's by the population's spread over the square root of its rate
    // (requests/s; the floor of one a second keeps a busy function's whole spread).
    let crowd: Vec<f64> = steady_rate
        .iter()
        .map(|r| {
            if *r > 0.0 {
                (STEADY_RATE.0 / r).sqrt()
            } else {
                1.0
            }
        })
        .collect();
    // Pipelines are left out of the dealing (a flat placeholder), so the other busy functions
    // keep their populations' shares; never-idle functions are dealt with the busy ones.
    let pipeline: Vec<bool> = (0..n_us)
        .map(|i| kind_of[i] == Kind::Busy && triggers[i].0 == "OBS")
        .collect();
    let dealt: Vec<Kind> = (0..n_us)
        .map(|i| match kind_of[i] {
            _ if pipeline[i] => Kind::Timer,
            Kind::Steady => Kind::Busy,
            k => k,
        })
        .collect();
    let mut cycles = daily_cycles(&mut rng, profile.daily, &dealt, &crowd);
    // An upload pipeline processes what lands in the region's batch window (its sharpest
    // population: R2's nightly batch, R5's after midnight) but never stops: its trough keeps a
    // request every few seconds, so its pods live through the night (peak over trough e^2,
    // about 7).
    let window = profile
        .daily
        .iter()
        .max_by(|a, b| a.kappa.1.total_cmp(&b.kappa.1))
        .expect("every region has a daily mode");
    for (i, c) in cycles.iter_mut().enumerate() {
        if pipeline[i] {
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            *c = Cycle::new(window.hour + window.spread * z, OBS_PIPELINE_KAPPA);
        }
    }

    let mut funcs: Vec<FunctionSpec> = (0..n_us)
        .map(|i| {
            let trig = triggers[i];
            let kind = kind_of[i];
            let period = if kind == Kind::Timer {
                periods.pop().unwrap_or(1440.0) * 60.0
            } else {
                0.0
            };
            let (workload, exec_median) = if kind == Kind::Steady {
                let w = Workload::Poisson {
                    rate: steady_rate[i],
                    cycle: cycles[i],
                    weekend: rng.gen_range(0.55..0.85),
                    burst_min: 1,
                    burst_mean: 0.0,
                    burst_spread: 0.0,
                };
                let e = profile.steady.exec;
                (w, lognormal(&mut rng, e.median, e.sigma).min(10.0))
            } else {
                workload_for(&mut rng, trig.0, kind, period, cycles[i], profile.activity)
            };
            let busy = matches!(kind, Kind::Busy | Kind::Steady);
            let mut all_triggers = vec![trig];
            let also = sets[i].2.then(|| {
                // Listed first, as the paper's shares count a function under its first
                // trigger: timers are about 60 % of the functions with these 13 % in.
                all_triggers.insert(0, ("TIMER", "A"));
                timer(&mut rng, periods.pop().unwrap_or(1440.0) * 60.0)
            });
            // Busy functions mostly serve one request per pod, so they hold many pods. A
            // function that is never idle is built for volume: its pods take many requests
            // at once (the platform's per-instance concurrency), so its thousands of
            // requests a second hold tens of pods, not one per request in flight.
            let concurrency = if kind == Kind::Steady {
                *STEADY_CONCURRENCY.choose(&mut rng).expect("non-empty")
            } else if rng.gen::<f64>() < 0.8 {
                1
            } else if busy {
                *[2u32, 4].choose(&mut rng).expect("non-empty")
            } else {
                *[2u32, 4, 8, 16, 50, 100]
                    .choose(&mut rng)
                    .expect("non-empty")
            };
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
                also,
                kind,
                exec: LogNormal {
                    median: exec_median,
                    sigma: 0.5,
                },
                concurrency,
                home_cluster: rng.gen_range(1..=4),
                code_factor: lognormal(&mut rng, 1.0, 0.4),
                dep_factor: if rng.gen::<f64>() < profile.dep_share {
                    lognormal(&mut rng, 1.0, 0.5)
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
    crate::owners::deal(
        &mut funcs,
        &owners,
        profile,
        (seed, region_index),
        crate::owners::OWNER_SPREAD,
    );

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
    let all: f64 = weights.iter().sum();
    // First, each runtime drawn to a kind of function takes such functions, in a random
    // order (so it gets typical ones, not only the heaviest), while its share for that kind
    // has room.
    let mut runtime: Vec<Option<usize>> = vec![None; n_us];
    let mut shuffled: Vec<usize> = (0..n_us).collect();
    shuffled.shuffle(&mut rng);
    for (rt, fits, share) in AFFINITY {
        let Some(r) = RUNTIME_COLD_STARTS_R2.iter().position(|(n, _)| *n == rt) else {
            continue;
        };
        let room = share * rt_target[r] * all;
        let mut taken = 0.0;
        for &i in &shuffled {
            let w = weights[i];
            if runtime[i].is_none()
                && fits(&funcs[i])
                && scratch_fits(rt, &funcs[i])
                && taken + w <= room
            {
                taken += w;
                runtime[i] = Some(r);
            }
        }
        rt_assigned[r] += taken;
    }
    // Then every other function, heaviest first, goes to the runtime furthest below its
    // target (of the runtimes that may serve it).
    let mut assigned_total: f64 = rt_assigned.iter().sum();
    for &i in &order {
        if runtime[i].is_some() {
            continue;
        }
        let w = weights[i];
        assigned_total += w;
        let f = &funcs[i];
        let r = argmax(
            RUNTIME_COLD_STARTS_R2
                .iter()
                .zip(rt_target.iter().zip(&rt_assigned))
                .map(|((rt, _), (t, a))| {
                    if scratch_fits(rt, f) {
                        t * assigned_total - a
                    } else {
                        f64::NEG_INFINITY
                    }
                }),
        );
        rt_assigned[r] += w;
        runtime[i] = Some(r);
    }
    // Pool sizes by their shares of cold starts the same way.
    let size_target = [0.70, 0.30];
    let mut size_assigned = [0.0; 2];
    let mut assigned_total = 0.0;
    for &i in &order {
        let w = weights[i];
        let after = assigned_total + w;
        let r = runtime[i].expect("every function has a runtime");
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
    }
}

/// Runtimes drawn to a kind of function for a share of their cold starts (spec sections 4 and
/// 7): Custom takes the OBS functions first (custom images that process stored objects, the
/// paper's Fig 9: OBS is the trigger Custom functions have most), http and Java take APIG-S
/// functions for most of theirs (Fig 9); Go1.x takes 45 % of its cold starts from functions
/// whose pods live long (busy ones, timers firing every minute) and the rest from others,
/// Node.js a quarter from sparse functions, which gives their pods the published utility
/// ratios.
type Affinity = (&'static str, fn(&FunctionSpec) -> bool, f64);
const AFFINITY: [Affinity; 6] = [
    ("Custom", |f| f.triggers.iter().any(|t| t.0 == "OBS"), 1.0),
    ("http", |f| f.triggers == [("APIG", "S")], 0.7),
    ("Java", |f| f.triggers == [("APIG", "S")], 0.5),
    ("Go1.x", long_lived, 0.45),
    ("Go1.x", |f| !long_lived(f), 0.55),
    ("Node.js", |f| f.kind == Kind::Sparse, 0.4),
];

/// Whether runtime `rt` may serve function `f`: the runtimes built from scratch (Custom, http;
/// cold starts of 10 s and more) serve OBS functions, which the paper has on Custom images, and
/// otherwise functions whose cold starts do not multiply with their length (a burst arriving
/// during a 10-second cold start would start a pod per request, which the pilot, blind to
/// runtimes, cannot foresee): sparse ones without a timer. Timers run on the default runtimes,
/// from their pools: the paper's timers have some of the shortest cold starts.
fn scratch_fits(rt: &str, f: &FunctionSpec) -> bool {
    let obs = f.triggers.iter().any(|t| t.0 == "OBS");
    !matches!(rt, "Custom" | "http") || obs || (f.kind == Kind::Sparse && f.also.is_none())
}

/// Whether a function's pods live long: busy, or a timer firing every minute.
fn long_lived(f: &FunctionSpec) -> bool {
    match f.workload {
        Workload::Timer { period, .. } => period <= 60.0,
        Workload::Sessions { length, every, .. } => length >= every,
        _ => matches!(f.kind, Kind::Busy | Kind::Steady),
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

/// A timer firing every `period` seconds: at the start of the period or at an offset into
/// it, a little late, and now and then (8 to 16 % of firings) 1 to 15 s late.
fn timer(rng: &mut ChaCha8Rng, period: f64) -> Workload {
    let offset = if rng.gen::<f64>() < 0.7 {
        0.0
    } else {
        (rng.gen_range(0.0..period) * 1000.0).round() / 1000.0
    };
    Workload::Timer {
        period,
        offset,
        jitter: rng.gen_range(0.001..0.05),
        late_chance: rng.gen_range(0.08..0.16),
        late_max: 15.0,
    }
}

/// The arrival process and median execution time of a function of `kind`: sparse ones get a
/// few requests a day, bursty ones a burst of several over some seconds now and then, busy
/// ones a request every second or two that runs for seconds (so several are in flight),
/// timers fire every `period` seconds. That is why the trace has billions of requests but
/// millions of cold starts.
fn workload_for(
    rng: &mut ChaCha8Rng,
    trigger: &str,
    kind: Kind,
    period: f64,
    cycle: Cycle,
    activity: f64,
) -> (Workload, f64) {
    let poisson =
        |rng: &mut ChaCha8Rng, rate: f64, min: u32, burst: f64, spread: f64| Workload::Poisson {
            rate,
            cycle,
            weekend: rng.gen_range(0.55..0.85),
            burst_min: min,
            burst_mean: burst,
            burst_spread: spread,
        };
    let workflow = trigger == "workflow";
    match kind {
        Kind::Timer => {
            let w = timer(rng, period);
            (w, lognormal(rng, 0.4, 1.0).min(120.0))
        }
        // A batch of uploads now and then (about ninety a day), two objects or more over two
        // minutes.
        Kind::Bursty if trigger == "OBS" => {
            let rate = lognormal(rng, 0.001, 0.4).min(0.01) * activity;
            (
                poisson(rng, rate, 2, 2.0, 120.0),
                lognormal(rng, 1.5, 0.8).min(120.0),
            )
        }
        Kind::Bursty => {
            let rate = lognormal(rng, 0.0006, 0.25).min(0.004) * activity;
            let spread = rng.gen_range(3.0..10.0);
            (
                poisson(rng, rate, 4, 6.0, spread),
                lognormal(rng, 0.1, 0.8).min(10.0),
            )
        }
        Kind::Sparse => {
            let median = if workflow { 0.0001 } else { 0.00004 };
            let rate = lognormal(rng, median, 1.0).min(0.002) * activity;
            (
                poisson(rng, rate, 1, 0.5, 30.0),
                lognormal(rng, 0.15, 1.2).min(60.0),
            )
        }
        // Processing the day's uploads: an object a second, each taking ten seconds (a
        // resize, an import), so ten or so run at once all day and more at the daily peak:
        // pods that live for hours, with few cold starts beyond the daily rise.
        Kind::Busy if trigger == "OBS" => {
            let rate = lognormal(rng, 0.8, 0.4).clamp(0.2, 5.0);
            (
                poisson(rng, rate, 1, 0.0, 0.0),
                lognormal(rng, 10.0, 0.4).min(120.0),
            )
        }
        Kind::Busy | Kind::Steady => {
            let rate = lognormal(rng, 0.6, 0.4).clamp(0.4, 20.0);
            (poisson(rng, rate, 1, 0.0, 0.0), 10.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The most frequent primary trigger among the functions of `runtime`.
    fn top_trigger(funcs: &[FunctionSpec], runtime: &str) -> String {
        let mut n: HashMap<String, usize> = HashMap::new();
        for f in funcs.iter().filter(|f| f.runtime == runtime) {
            let (t, i) = f
                .triggers
                .iter()
                .find(|t| t.0 != "TIMER")
                .unwrap_or(&f.triggers[0]);
            *n.entry(format!("{t}-{i}")).or_default() += 1;
        }
        let mut v: Vec<_> = n.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.first().map(|x| x.0.clone()).unwrap_or_default()
    }

    #[test]
    fn runtimes_go_with_their_triggers_as_in_fig_9() {
        let (_, funcs) =
            crate::synth::region_functions("R2", None, 0.2, 1, 1, Default::default()).unwrap();
        // Custom's most frequent trigger is OBS, Java's and http's APIG-S (the paper's Fig 9).
        assert_eq!(top_trigger(&funcs, "Custom"), "OBS-A");
        assert_eq!(top_trigger(&funcs, "Java"), "APIG-S");
        assert_eq!(top_trigger(&funcs, "http"), "APIG-S");
        // OBS functions are mostly on Custom images (as many as Custom's share of cold starts
        // has room for).
        let obs: Vec<_> = funcs.iter().filter(|f| f.triggers[0].0 == "OBS").collect();
        assert!(obs.len() >= 10, "{}", obs.len());
        let custom = obs.iter().filter(|f| f.runtime == "Custom").count();
        assert!(2 * custom > obs.len(), "{custom} of {}", obs.len());
        // No timer runs on a runtime built from scratch.
        assert!(funcs
            .iter()
            .filter(|f| f.triggers.iter().any(|t| t.0 == "TIMER"))
            .all(|f| !matches!(f.runtime, "Custom" | "http")));
        // OBS pipelines follow R2's nightly batch window (21:00, spread 0.05 h) with the
        // pipeline's concentration; the batches are bursty.
        let pipelines: Vec<_> = obs.iter().filter(|f| f.kind == Kind::Busy).collect();
        assert!(!pipelines.is_empty());
        for f in &pipelines {
            let Workload::Poisson { cycle, .. } = &f.workload else {
                panic!("a pipeline is Poisson");
            };
            assert!((cycle.peak_hour - 21.0).abs() < 0.5, "{}", cycle.peak_hour);
            assert_eq!(cycle.kappa, OBS_PIPELINE_KAPPA);
        }
        assert!(obs
            .iter()
            .all(|f| matches!(f.kind, Kind::Busy | Kind::Bursty)));
    }

    #[test]
    fn never_idle_functions_take_their_strata_means_and_peak_with_their_crowd() {
        let prof = crate::profile::profile("R3").expect("R3");
        let law = prof.steady.rate;
        for seed in 1..=3 {
            let funcs = build(&prof, prof.functions, seed, 2);
            let steady: Vec<(f64, f64)> = funcs
                .iter()
                .filter(|f| f.kind == Kind::Steady)
                .map(|f| match &f.workload {
                    Workload::Poisson { rate, cycle, .. } => (*rate, cycle.peak_hour),
                    _ => panic!("a never-idle function is Poisson"),
                })
                .collect();
            let n = steady.len();
            assert_eq!(
                n,
                (prof.steady.share * prof.functions as f64).round() as usize
            );
            assert!(n >= 3, "{n}");
            // The same rates on every seed: the strata's means, which sum to n times the mean.
            let mut rates: Vec<f64> = steady.iter().map(|s| s.0).collect();
            rates.sort_by(f64::total_cmp);
            for (j, r) in rates.iter().enumerate() {
                let want = law.stratum_mean(j as f64 / n as f64, (j + 1) as f64 / n as f64);
                assert!(
                    (r - want).abs() < 1e-9 * want,
                    "stratum {j}: {r} against {want}"
                );
            }
            let total: f64 = rates.iter().sum();
            assert!((total - n as f64 * law.mean()).abs() < 1e-9 * total);
            // Each peaks within 4 of its spreads (2.5 h / sqrt(rate)) of R3's evening hour.
            for (rate, hour) in &steady {
                let off = (hour - 20.5 + 12.0).rem_euclid(24.0) - 12.0;
                assert!(off.abs() < 4.0 * 2.5 / rate.sqrt(), "{rate}/s at {hour} h");
            }
        }
    }
}
