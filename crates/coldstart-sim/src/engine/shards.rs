//! Replaying under several policies at once, and cutting one policy's functions into shards
//! that run on separate cores when the policy decides per function.

use super::*;

/// Replays `workload` under each policy (in parallel, each on the same invocations, a day at
/// a time) and returns their metrics in the order given. `progress` is told each day's
/// invocations.
pub fn simulate(
    workload: &mut dyn Workload,
    costs: &dyn CostModel,
    policies: Vec<Box<dyn Policy>>,
    progress: impl FnMut(u32, u64),
) -> Result<Vec<Metrics>> {
    simulate_from(workload, costs, policies, 0, Routing::default(), progress)
}

/// Copies of a per-function policy per core it may use.
pub(super) const SHARDS_PER_CORE: usize = 4;

/// Shares `n` functions out between `shards` engines so that each gets about as many of
/// `sample`'s requests (the busiest function first, each to the engine with the fewest so
/// far); the functions with none are dealt round. Each function's shard.
pub(super) fn share_out(sample: &[Invocation], n: usize, shards: usize) -> Vec<usize> {
    let mut count = vec![0u64; n];
    for i in sample {
        count[i.func as usize] += 1;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|f| (std::cmp::Reverse(count[*f]), *f));
    let mut load = vec![0u64; shards];
    let mut owner = vec![0; n];
    for (k, f) in order.into_iter().enumerate() {
        let s = if count[f] > 0 {
            (0..shards)
                .min_by_key(|s| (load[*s], *s))
                .expect("shards > 0")
        } else {
            k % shards
        };
        load[s] += count[f];
        owner[f] = s;
    }
    owner
}

/// One engine of a run: a policy's copy for some of the functions. Aligned to cache lines
/// (two, as pairs are fetched together), so that engines on different cores never write to
/// one line (their per-request counters sit side by side in the list otherwise).
#[repr(align(128))]
pub(super) struct Shard<'a> {
    engine: Engine<'a>,
    policy: usize,
    /// Which share of the functions it serves (`None`: all of them).
    part: Option<usize>,
    /// Its time on the day being replayed.
    seconds: f64,
    /// Its metrics when measuring started (after the warm-up days).
    before: Option<Metrics>,
}

/// [`simulate`], measuring only from the `warmup_days`-th day of the workload on (the days
/// before let the policies learn, and fill pods and pools, without being counted), with
/// requests routed to pods as `routing` says.
///
/// Policies that decide per function ([`Policy::per_function`]) are split over the cores the
/// other policies leave free: each copy serves a share of the functions (shared out by the
/// first day's requests, so that the copies are about as busy), each day's requests are dealt
/// to the shares in time-ordered pieces (one per core, dealt at once), and the copies'
/// metrics are added up, which gives the same numbers as one engine. A policy's
/// `wall_seconds` is the time its replay held the run up: each day, the dealing and the time
/// until every engine was done for a split policy, its engine's own time for one that is not.
pub fn simulate_from(
    workload: &mut dyn Workload,
    costs: &dyn CostModel,
    mut policies: Vec<Box<dyn Policy>>,
    warmup_days: u32,
    routing: Routing,
    mut progress: impl FnMut(u32, u64),
) -> Result<Vec<Metrics>> {
    use rayon::prelude::*;
    let days = workload.days();
    let measured = days.start + warmup_days;
    if warmup_days > 0 && measured >= days.end {
        anyhow::bail!(
            "{warmup_days} warm-up days leave none of days {}..{} to measure",
            days.start,
            days.end
        );
    }
    let functions = workload.functions().to_vec();
    let n = functions.len();
    // Never-idle functions minute by minute when every policy keeps idle pods a fixed time
    // (the fluid model knows nothing else), request by request otherwise.
    let fluid = policies.iter().all(|p| p.fixed_keep_alive().is_some());
    let fluid = workload.set_fluid(fluid) && fluid;
    // Every policy deciding per function, and none provisioning minute by minute (its clock
    // runs on every function's requests): each function's requests in time order is enough
    // (a function's pods see only its own requests), so the workload may group them.
    let by_function = policies
        .iter_mut()
        .all(|p| p.per_function() && p.provisioning().is_none());
    let (count, threads) = (policies.len(), rayon::current_num_threads());
    // Every per-function policy gets the same number of copies, so one sharing-out serves all:
    // several per free core, so that a core that falls behind (another program, a busy host)
    // leaves copies to the others instead of holding up the day.
    let shards = if count < threads && n > 1 {
        (SHARDS_PER_CORE * threads / count).min(n)
    } else {
        1
    };
    // The first day is drawn before the engines are made: its requests per function share
    // the functions out between the copies of a per-function policy.
    let draw = |w: &mut dyn Workload, day| match by_function {
        true => w.day_per_function(day),
        false => w.day(day),
    };
    let mut first = match days.is_empty() {
        true => None,
        false => Some(draw(workload, days.start)?),
    };
    let owner = (shards > 1 && policies.iter().any(|p| p.per_function()))
        .then(|| share_out(first.as_deref().unwrap_or_default(), n, shards));
    let mut engines: Vec<Shard> = Vec::new();
    for (i, p) in policies.into_iter().enumerate() {
        let copies = if p.per_function() { shards } else { 1 };
        let name = p.name();
        let mut all = vec![p];
        for _ in 1..copies {
            all.push(crate::policy::parse(&name, n)?);
        }
        for (part, p) in all.into_iter().enumerate() {
            engines.push(Shard {
                engine: Engine::new(&functions, costs, p, days.end).with_routing(routing),
                policy: i,
                part: (copies > 1).then_some(part),
                seconds: 0.0,
                before: None,
            });
        }
    }
    let mut wall = vec![0.0f64; count];
    // parts[piece][share]: a day's requests dealt out.
    let mut parts: Vec<Vec<Vec<Invocation>>> = Vec::new();
    for day in days {
        if warmup_days > 0 && day == measured {
            for e in &mut engines {
                e.before = Some(e.engine.metrics.clone());
            }
        }
        let inv = match first.take() {
            Some(inv) => inv,
            None => draw(workload, day)?,
        };
        let fluid_days = if fluid {
            workload.fluid_day(day)
        } else {
            Vec::new()
        };
        let mut dealing = 0.0;
        if let Some(owner) = &owner {
            // Dealt in time-ordered pieces on every core: a copy replays its share of each
            // piece in turn.
            let t0 = Instant::now();
            let piece = inv.len().div_ceil(threads).max(1);
            parts.resize_with(inv.len().div_ceil(piece), || vec![Vec::new(); shards]);
            parts
                .par_iter_mut()
                .zip(inv.par_chunks(piece))
                .for_each(|(parts, inv)| {
                    for p in parts.iter_mut() {
                        p.clear();
                    }
                    for i in inv {
                        parts[owner[i.func as usize]].push(*i);
                    }
                });
            dealing = t0.elapsed().as_secs_f64();
        }
        let t0 = Instant::now();
        engines.par_iter_mut().with_max_len(1).for_each(|e| {
            let t0 = Instant::now();
            match e.part {
                None => {
                    for i in &inv {
                        e.engine.invoke(*i);
                    }
                }
                Some(k) => {
                    for piece in &parts {
                        for i in &piece[k] {
                            e.engine.invoke(*i);
                        }
                    }
                }
            }
            // Each function's own pods: its minutes after the other functions' requests
            // change nothing under a fixed keep-alive.
            for d in &fluid_days {
                let mine = match (e.part, &owner) {
                    (Some(k), Some(owner)) => owner[d.func as usize] == k,
                    _ => true,
                };
                if mine {
                    e.engine.fluid_day(d);
                }
            }
            e.seconds = t0.elapsed().as_secs_f64();
        });
        let day_wall = t0.elapsed().as_secs_f64();
        for e in &engines {
            wall[e.policy] += match e.part {
                None => e.seconds,
                // A split policy's copies share the cores with each other (and any other split
                // policy): the day counts once, with its first copy.
                Some(0) => dealing + day_wall,
                Some(_) => 0.0,
            };
        }
        let fluid_requests: u64 = fluid_days
            .iter()
            .flat_map(|d| &d.requests)
            .map(|n| u64::from(*n))
            .sum();
        progress(day, inv.len() as u64 + fluid_requests);
        workload.recycle(inv);
    }
    let mut out: Vec<Option<Metrics>> = (0..count).map(|_| None).collect();
    for e in engines {
        let t0 = Instant::now();
        let mut m = e.engine.finish();
        if let Some(b) = e.before {
            m = m.since(&b, measured as usize * 1440);
        }
        wall[e.policy] += t0.elapsed().as_secs_f64();
        m.wall_seconds = 0.0;
        match &mut out[e.policy] {
            Some(first) => first.merge(m),
            slot => *slot = Some(m),
        }
    }
    for (m, w) in out.iter_mut().zip(wall) {
        if let Some(m) = m {
            m.wall_seconds = w;
        }
    }
    Ok(out
        .into_iter()
        .map(|m| m.expect("one engine per policy at least"))
        .collect())
}
