//! Where `simulate`'s workload comes from: the synthetic model, a store's per-request rows or
//! per-minute counts (the store adapter lives here, since the simulator crate has no query
//! engine), or the Azure traces; with its cost model and, from a store, the trace's own cold
//! starts for the faithfulness check.

use super::*;

/// A workload cut to some of its days.
pub(super) struct Days {
    inner: Box<dyn Workload>,
    days: Range<u32>,
}

impl Workload for Days {
    fn functions(&self) -> &[Function] {
        self.inner.functions()
    }

    fn days(&self) -> Range<u32> {
        let d = self.inner.days();
        d.start.max(self.days.start)..d.end.min(self.days.end).max(d.start.max(self.days.start))
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        self.inner.day(day)
    }

    fn day_per_function(&mut self, day: u32) -> Result<Vec<Invocation>> {
        self.inner.day_per_function(day)
    }

    fn recycle(&mut self, day: Vec<Invocation>) {
        self.inner.recycle(day)
    }

    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        self.inner.size_hint(day)
    }

    fn set_fluid(&mut self, on: bool) -> bool {
        self.inner.set_fluid(on)
    }

    fn fluid_day(&mut self, day: u32) -> Vec<coldstart_sim::engine::FluidDay> {
        self.inner.fluid_day(day)
    }
}

/// A workload whose every function's pods take up to `n` requests at once (`--concurrency`).
pub(super) struct Concurrency {
    inner: Box<dyn Workload>,
    functions: Vec<Function>,
}

impl Concurrency {
    pub(super) fn new(inner: Box<dyn Workload>, n: u32) -> Self {
        let functions = inner
            .functions()
            .iter()
            .map(|f| Function {
                concurrency: n,
                ..f.clone()
            })
            .collect();
        Self { inner, functions }
    }
}

impl Workload for Concurrency {
    fn functions(&self) -> &[Function] {
        &self.functions
    }

    fn days(&self) -> Range<u32> {
        self.inner.days()
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        self.inner.day(day)
    }

    fn day_per_function(&mut self, day: u32) -> Result<Vec<Invocation>> {
        self.inner.day_per_function(day)
    }

    fn recycle(&mut self, day: Vec<Invocation>) {
        self.inner.recycle(day)
    }

    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        self.inner.size_hint(day)
    }

    fn set_fluid(&mut self, on: bool) -> bool {
        self.inner.set_fluid(on)
    }

    fn fluid_day(&mut self, day: u32) -> Vec<coldstart_sim::engine::FluidDay> {
        self.inner.fluid_day(day)
    }
}

/// `w` cut to `days` where given.
pub(super) fn cut(w: Box<dyn Workload>, days: &Option<Range<u32>>) -> Result<Box<dyn Workload>> {
    let Some(days) = days else { return Ok(w) };
    let all = w.days();
    let d = Days {
        inner: w,
        days: days.clone(),
    };
    if d.days().is_empty() {
        bail!(
            "--days {}..{}: the workload covers days {}..{}",
            days.start,
            days.end,
            all.start,
            all.end
        );
    }
    Ok(Box::new(d))
}

/// A workload, its cost model, a line saying what it is, and (from a store) the trace's own
/// cold starts per function.
pub(super) struct Loaded {
    pub(super) workload: Box<dyn Workload>,
    pub(super) costs: Box<dyn CostModel>,
    pub(super) desc: String,
    pub(super) observed: Option<Vec<u64>>,
    pub(super) observed_utility: Option<Utility>,
}

/// A workload and its cost model, read from `input`; `remote`: with the other regions' costs
/// (for cross-region policies); `warmup`: the warm-up days asked for and whether a policy
/// learns from the past ([`super::warmup_days`]).
pub(super) fn load(input: &Input, remote: bool, warmup: (Option<u32>, bool)) -> Result<Loaded> {
    match input {
        Input::Synth {
            region,
            functions,
            scale,
            volume,
            days,
            seed,
        } => {
            let ri = region_index(region)
                .with_context(|| format!("unknown region '{region}' for --synth (R1 to R5)"))?;
            if i64::from(days.end) > TRACE_DAYS {
                bail!(
                    "--days: the synthetic model has days 0 to {}",
                    TRACE_DAYS - 1
                );
            }
            // region_functions checks --scale and --functions.
            let (profile, specs) =
                region_functions(region, *functions, *scale, *seed, ri, *volume)?;
            let n = specs.len();
            // Costs under the platform's load over the days from 0, as the release was made;
            // for a cross-region policy, the other regions' models and every region's own load.
            let costs = if remote {
                model_costs_across_regions(
                    &specs,
                    &profile,
                    (*functions, *scale, *seed, *volume),
                    ri,
                    days.end,
                )?
            } else {
                model_costs_under_load(&specs, &profile, *seed, ri, days.end)?
            };
            let w = Synthetic::new(region, specs, profile, *seed, ri, days.clone());
            let days = format!("days {}..{}", days.start, days.end);
            Ok(Loaded {
                workload: Box::new(w),
                costs: Box::new(costs),
                desc: format!(
                    "synthetic workload model, region {region}, {n} functions, {days}, seed {seed}"
                ),
                observed: None,
                observed_utility: None,
            })
        }
        Input::Store {
            path,
            region,
            source,
            days,
            seed,
            within,
            learn_days,
        } => {
            let cx = Cx::open(path, Options::region(Some(region.clone())))?;
            let per_request = cx.regions("requests").iter().any(|r| r == region);
            let use_minutes = match source {
                Source::PerRequest => false,
                Source::PerMinute => true,
                Source::Auto => !per_request,
            };
            let mut last_request = None;
            let (workload, functions, index, what): (Box<dyn Workload>, _, _, _) = if use_minutes {
                if !cx.minute_regions(&["requests"]).iter().any(|r| r == region) {
                    bail!("the store has no per-minute request counts for {region}");
                }
                let (mut w, index) = minute_workload(&cx, region, *seed)?;
                if *within == Within::Learned && per_request {
                    learn_within(&cx, region, &mut w, &index, learn_days.clone())?;
                } else if *within == Within::Learned {
                    w.notes.push(format!(
                        "the store has no per-request rows of {region} to learn arrivals \
                         within the minute from: they are spread uniformly"
                    ));
                }
                let f = w.functions.clone();
                let what = format!("{} function-minutes (per-minute counts)", w.counts.len());
                (Box::new(w), f, index, what)
            } else {
                let (t, index, last) = request_workload(&cx, region, None)?;
                last_request = Some(last);
                let f = t.functions.clone();
                let what = format!("{} requests (per-request rows)", t.invocations.len());
                (Box::new(t), f, index, what)
            };
            let workload = cut(workload, days)?;
            // The trace's own numbers on the days that are measured.
            let all = workload.days();
            let warmup_days = super::warmup_days(warmup.0, warmup.1, &all);
            let measured = (all.start + warmup_days).min(all.end)..all.end;
            let desc = format!(
                "store {}, region {region}: {} functions, {what}",
                path.display(),
                functions.len(),
            );
            let Some((costs, observed)) = store_costs(
                &cx,
                region,
                &functions,
                &index,
                measured.clone(),
                remote,
                *seed,
            )?
            else {
                // Nothing to cost cold starts from, and nothing to compare with.
                let warning = format!(
                    "the store has no cold starts of {region}: cold-start times are drawn from \
                     the paper's LogNormal fit instead, and there is no faithfulness check"
                );
                eprintln!("warning: {warning}");
                let desc = format!("{desc}; {warning}");
                return Ok(Loaded {
                    workload,
                    costs: Box::new(LogNormalCosts::paper(*seed)),
                    desc,
                    observed: None,
                    observed_utility: None,
                });
            };
            let observed_utility = match &last_request {
                Some(last) => Some(trace_utility(&cx, region, last, measured)?),
                None => None,
            };
            Ok(Loaded {
                workload,
                costs: Box::new(costs),
                desc,
                observed: Some(observed),
                observed_utility,
            })
        }
        Input::Azure2019 { dir, days, seed } => {
            let w = Azure2019::open(dir, days.clone(), *seed)?;
            let desc = format!(
                "Azure Functions 2019 trace {}: {} functions, days {}..{}",
                dir.display(),
                w.functions().len(),
                w.days().start,
                w.days().end
            );
            Ok(Loaded {
                workload: Box::new(w),
                costs: Box::new(LogNormalCosts::paper(*seed)),
                desc,
                observed: None,
                observed_utility: None,
            })
        }
        Input::Azure2021 {
            file,
            days,
            seed,
            source,
            within,
            learn_days,
        } => {
            let t = coldstart_sim::workload::azure2021::read(file, *seed)?;
            let mut desc = format!(
                "Azure Functions 2021 trace {}: {} functions, {} invocations",
                file.display(),
                t.functions.len(),
                t.invocations.len()
            );
            let workload: Box<dyn Workload> = if *source == Source::PerMinute {
                let mut w = MinuteCounts::aggregate(&t, *seed);
                desc.push_str(", aggregated to per-minute counts (--source per-minute)");
                if *within == Within::Learned {
                    let days = learn_days_in(learn_days.clone(), t.days(), "the trace covers")?;
                    let (a, b) = (
                        f64::from(days.start) * SECONDS_PER_DAY,
                        f64::from(days.end) * SECONDS_PER_DAY,
                    );
                    let rows: Vec<Invocation> = t
                        .invocations
                        .iter()
                        .filter(|i| i.t >= a && i.t < b)
                        .copied()
                        .collect();
                    let note = format!(
                        "arrivals within the minute learned from the invocations of days {}..{} \
                         ({} invocations)",
                        days.start,
                        days.end,
                        rows.len()
                    );
                    w.learn_within(&rows, note);
                }
                w.notes.extend(t.notes.iter().cloned());
                Box::new(w)
            } else {
                Box::new(t)
            };
            Ok(Loaded {
                workload: cut(workload, days)?,
                costs: Box::new(LogNormalCosts::paper(*seed)),
                desc,
                observed: None,
                observed_utility: None,
            })
        }
        Input::Huawei2023 {
            dir,
            days,
            seed,
            functions,
        } => {
            let select = huawei2023::Select {
                days: days.clone(),
                functions: functions.clone(),
            };
            let w = huawei2023::open(dir, &select, *seed)?;
            let desc = format!(
                "Huawei Cloud 2023 trace {}: {} functions, {} function-minutes (per-minute \
                 counts)",
                dir.display(),
                w.functions.len(),
                w.counts.len()
            );
            Ok(Loaded {
                workload: cut(Box::new(w), days)?,
                costs: Box::new(LogNormalCosts::paper(*seed)),
                desc,
                observed: None,
                observed_utility: None,
            })
        }
    }
}

/// How the cold starts of the Azure and Huawei 2023 traces are costed unless `--cold-start`
/// says otherwise (their load gives `LogNormalCosts::paper`; [`super::run`] says so in the
/// description).
pub(super) const LOGNORMAL_COSTS: &str =
    "cold starts drawn from the paper's LogNormal fit to Huawei's \
     cold-start times (mean 3.24 s, sd 7.10 s), as the trace has none";

/// The pod utility ratios of the trace's pods that served requests in `last` (podID -> its
/// last request's arrival), from their cold starts on `days`.
pub(super) fn trace_utility(
    cx: &Cx,
    region: &str,
    last: &HashMap<String, f64>,
    days: Range<u32>,
) -> Result<Utility> {
    let mut u = Vec::new();
    cx.for_each(
        &format!(
            "SELECT podID, time, totalCost_cold_start, day FROM cold_starts WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            let pods = strings(b.column(0))?;
            let (time, cost, day) = (
                floats(b.column(1))?,
                floats(b.column(2))?,
                floats(b.column(3))?,
            );
            for i in 0..pods.len() {
                if cost[i] > 0.0 && days.contains(&(day[i] as u32)) {
                    if let Some(l) = last.get(&pods[i]) {
                        u.push((l - time[i]) / cost[i]);
                    }
                }
            }
            Ok(())
        },
    )?;
    Ok(Utility::of(u))
}

/// Bytes a per-request row takes while a store's trace is built (the invocation, its podID
/// and end, the pod's spans and last request).
pub(super) const ROW_BYTES: u64 = 256;

/// Each pod's last request (arrival time), by podID.
pub(super) type LastRequests = HashMap<String, f64>;

/// The store's per-request rows of `region` as a trace, each funcID's index, and each pod's
/// last request.
pub(super) fn request_workload(
    cx: &Cx,
    region: &str,
    days: Option<Range<u32>>,
) -> Result<(Trace, HashMap<String, u32>, LastRequests)> {
    let on_days = match &days {
        Some(d) => format!(" AND day >= {} AND day < {}", d.start, d.end),
        None => String::new(),
    };
    if !cx.regions("requests").iter().any(|r| r == region) {
        bail!(
            "the store has no per-request rows for {region} (regions with them: {}); \
             use --source per-minute",
            cx.regions("requests").join(", ")
        );
    }
    // Every row is held with its podID while the trace is built: refuse before reading if
    // that cannot fit.
    let mut count = 0u64;
    cx.for_each(
        &format!(
            "SELECT count(*) FROM requests WHERE region = '{}'{on_days}",
            quote(region)
        ),
        |b| {
            count += floats(b.column(0))?.first().copied().unwrap_or(0.0) as u64;
            Ok(())
        },
    )?;
    if let Some(avail) = memory::available_bytes() {
        let need = count.saturating_mul(ROW_BYTES);
        if need > avail {
            bail!(
                "{region}'s {count} per-request rows need about {:.1} GiB to load and {:.1} GiB \
                 is available (set {} to override); replay its per-minute counts \
                 (--source per-minute) or another region (--region)",
                need as f64 / 1073741824.0,
                avail as f64 / 1073741824.0,
                memory::MEMORY_ENV
            );
        }
    }
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut functions: Vec<Function> = Vec::new();
    let mut fast = FastIndex::default();
    // Each row's invocation, pod (numbered in `pods`) and busy time.
    let mut pods = FastIndex::default();
    let mut rows: Vec<(Invocation, u32, f64)> = Vec::new();
    cx.for_each(
        &format!(
            "SELECT funcID, time_worker, totalCost_worker, podID, runtimeCost FROM requests \
             WHERE region = '{}'{on_days}",
            quote(region)
        ),
        |b| {
            let ids = utf8(b.column(0))?;
            let t = floats(b.column(1))?;
            let exec = floats(b.column(2))?;
            let pod_ids = utf8(b.column(3))?;
            let runtime = floats(b.column(4))?;
            for i in 0..b.num_rows() {
                let f = fast.index(&mut index, &mut functions, str_at(&ids, i), region);
                let e = exec[i].max(0.0);
                let inv = Invocation {
                    t: t[i],
                    func: f,
                    exec: e,
                };
                // The pod is busy for the runtime's part (the worker's overhead is not on it).
                let busy = if runtime[i] >= 0.0 { runtime[i] } else { e };
                rows.push((inv, pods.number(str_at(&pod_ids, i)), busy));
            }
            Ok(())
        },
    )?;
    let new_of = canonical(&mut functions, &mut index);
    for r in &mut rows {
        r.0.func = new_of[r.0.func as usize];
    }
    function_details(cx, region, &index, &mut functions)?;
    // Concurrency: the most requests any of a function's pods ran at once. A request runs
    // from its arrival or, when its pod was still starting, from the end of the pod's cold
    // start (requests sent to a starting pod wait for it), for its runtime's part.
    // Only pods started on the rows' days or the day before can still be starting then.
    let started = match &days {
        Some(d) => format!(
            " AND day >= {} AND day < {}",
            d.start.saturating_sub(1),
            d.end
        ),
        None => String::new(),
    };
    let mut ready = vec![f64::MIN; pods.len()];
    cx.for_each(
        &format!(
            "SELECT podID, time + totalCost_cold_start FROM cold_starts WHERE region = '{}'\
             {started}",
            quote(region)
        ),
        |b| {
            let ids = utf8(b.column(0))?;
            let at = floats(b.column(1))?;
            for (i, at) in at.into_iter().enumerate() {
                // Pods no row ran on do not matter here.
                if let Some(p) = pods.get(str_at(&ids, i)).filter(|_| at.is_finite()) {
                    ready[p as usize] = at;
                }
            }
            Ok(())
        },
    )?;
    // Each pod's requests (start, end), pod by pod in the rows' order (a counting sort).
    let mut first = vec![0usize; pods.len() + 1];
    for r in &rows {
        first[r.1 as usize + 1] += 1;
    }
    for p in 0..pods.len() {
        first[p + 1] += first[p];
    }
    let mut next = first.clone();
    let mut spans = vec![(0.0f64, 0.0f64); rows.len()];
    let mut func_of = vec![0u32; pods.len()];
    for (inv, pod, busy) in &rows {
        let p = *pod as usize;
        let start = inv.t.max(ready[p]);
        spans[next[p]] = (start, start + busy);
        next[p] += 1;
        func_of[p] = inv.func;
    }
    let mut ends: Vec<f64> = Vec::new();
    for p in 0..pods.len() {
        let iv = &mut spans[first[p]..first[p + 1]];
        iv.sort_by(|a, b| a.0.total_cmp(&b.0));
        ends.clear();
        let mut most = 1usize;
        for &(s, e) in iv.iter() {
            ends.retain(|x| *x > s);
            ends.push(e);
            most = most.max(ends.len());
        }
        let f = &mut functions[func_of[p] as usize];
        f.concurrency = f.concurrency.max(most as u32);
    }
    let mut latest = vec![f64::NEG_INFINITY; pods.len()];
    for (inv, pod, _) in &rows {
        let l = &mut latest[*pod as usize];
        *l = l.max(inv.t);
    }
    let last: LastRequests = pods
        .0
        .into_iter()
        .map(|(id, p)| (id, latest[p as usize]))
        .collect();
    let mut trace = Trace::new(functions, rows.into_iter().map(|r| r.0).collect());
    trace.notes.push(
        "per-request rows: arrival time_worker; a request occupies its pod for totalCost_worker; \
         a function's concurrency is the most requests one of its pods served at once"
            .into(),
    );
    Ok((trace, index, last))
}

/// Renumbers functions in funcID order (a store is scanned in parallel, so rows come in any
/// order); returns the new number of each old one.
pub(super) fn canonical(
    functions: &mut Vec<Function>,
    index: &mut HashMap<String, u32>,
) -> Vec<u32> {
    let mut order: Vec<usize> = (0..functions.len()).collect();
    order.sort_by(|a, b| functions[*a].name.cmp(&functions[*b].name));
    let mut new_of = vec![0u32; functions.len()];
    for (new, old) in order.iter().enumerate() {
        new_of[*old] = new as u32;
    }
    let mut sorted: Vec<Function> = order.iter().map(|o| functions[*o].clone()).collect();
    std::mem::swap(functions, &mut sorted);
    for v in index.values_mut() {
        *v = new_of[*v as usize];
    }
    new_of
}

/// `'` doubled for an SQL string.
pub(super) fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

/// Strings to numbers by a fast hash, for columns of millions of rows (funcIDs in front of
/// the index [`function_index`] keeps, podIDs).
#[derive(Default)]
pub(super) struct FastIndex(foldhash::HashMap<String, u32>);

impl FastIndex {
    pub(super) fn get(&self, id: &str) -> Option<u32> {
        self.0.get(id).copied()
    }

    /// How many strings it numbers.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// The function numbered `id`, added where new ([`function_index`]).
    pub(super) fn index(
        &mut self,
        index: &mut HashMap<String, u32>,
        functions: &mut Vec<Function>,
        id: &str,
        region: &str,
    ) -> u32 {
        if let Some(f) = self.0.get(id) {
            return *f;
        }
        let f = function_index(index, functions, id, region);
        self.0.insert(id.to_string(), f);
        f
    }

    /// `id`'s number, the next one where new.
    pub(super) fn number(&mut self, id: &str) -> u32 {
        if let Some(n) = self.0.get(id) {
            return *n;
        }
        let n = self.0.len() as u32;
        self.0.insert(id.to_string(), n);
        n
    }
}

/// The index of `id`, adding the function (its pool's CPU and memory from the funcID).
pub(super) fn function_index(
    index: &mut HashMap<String, u32>,
    functions: &mut Vec<Function>,
    id: &str,
    region: &str,
) -> u32 {
    if let Some(f) = index.get(id) {
        return *f;
    }
    let mut f = Function::new(id, "unknown");
    f.region = region.to_string();
    if let Ok(p) = coldstart_trace::pool::parse_func_id(id) {
        f.cpu_millis = p.pool.cpu_limit;
        f.memory_mb = p.pool.memory_limit;
    }
    functions.push(f);
    let n = functions.len() as u32 - 1;
    index.insert(id.to_string(), n);
    n
}

/// Triggers and runtimes from the functions table, where the store has one.
pub(super) fn function_details(
    cx: &Cx,
    region: &str,
    index: &HashMap<String, u32>,
    functions: &mut [Function],
) -> Result<()> {
    if !cx.regions("functions").iter().any(|r| r == region) {
        return Ok(());
    }
    let c = cx.columns(&format!(
        "SELECT funcID, runtime, concat(trigger_type, '-', invocation_type) AS trigger \
         FROM functions WHERE region = '{}'",
        quote(region)
    ))?;
    for i in 0..c.len() {
        if let Some(&f) = index.get(&c.s("funcID")[i]) {
            let f = &mut functions[f as usize];
            f.runtime = c.s("runtime")[i].clone();
            if f.trigger == "unknown" {
                f.trigger = c.s("trigger")[i].clone();
            }
        }
    }
    Ok(())
}

/// The days that have per-request rows of `region` (None: none has).
pub(super) fn request_days(cx: &Cx, region: &str) -> Result<Option<Range<u32>>> {
    let mut out = None;
    cx.for_each(
        &format!(
            "SELECT min(day), max(day) FROM requests WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            let (a, z) = (floats(b.column(0))?, floats(b.column(1))?);
            if let (Some(a), Some(z)) = (a.first(), z.first()) {
                if a.is_finite() && z.is_finite() && *a >= 0.0 {
                    out = Some(*a as u32..*z as u32 + 1);
                }
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// Teaches `w` how its functions' requests fall within the minute: from the per-request rows
/// of `learn_days` (default: the last day that has rows), with each function's concurrency as
/// its rows show it.
pub(super) fn learn_within(
    cx: &Cx,
    region: &str,
    w: &mut MinuteCounts,
    index: &HashMap<String, u32>,
    learn_days: Option<Range<u32>>,
) -> Result<()> {
    let have = request_days(cx, region)?
        .with_context(|| format!("the store has no per-request rows of {region}"))?;
    let days = learn_days_in(
        learn_days,
        have,
        &format!("the store has per-request rows of {region} on"),
    )?;
    let (t, rows_index, _) = request_workload(cx, region, Some(days.clone()))?;
    // The rows' function numbers in the per-minute workload's numbering.
    let mut to_minutes = vec![None; t.functions.len()];
    for (id, &i) in &rows_index {
        to_minutes[i as usize] = index.get(id).copied();
    }
    let mut rows = Vec::with_capacity(t.invocations.len());
    let mut unmatched = 0u64;
    for inv in &t.invocations {
        match to_minutes[inv.func as usize] {
            Some(f) => rows.push(Invocation { func: f, ..*inv }),
            None => unmatched += 1,
        }
    }
    for (i, f) in t.functions.iter().enumerate() {
        if let Some(m) = to_minutes[i] {
            w.functions[m as usize].concurrency = f.concurrency;
        }
    }
    let note = format!(
        "arrivals within the minute learned from the per-request rows of days {}..{} ({} \
         requests; concurrency as those rows show it){}",
        days.start,
        days.end,
        rows.len(),
        if unmatched > 0 {
            format!(
                "; {unmatched} rows of functions without per-minute counts left out of the learning"
            )
        } else {
            String::new()
        }
    );
    w.learn_within(&rows, note);
    Ok(())
}

/// The days to learn arrivals within the minute from: `given` (`--learn-days`), else the last
/// of `have`, the days there are rows on (`what` names them in the error).
fn learn_days_in(given: Option<Range<u32>>, have: Range<u32>, what: &str) -> Result<Range<u32>> {
    let days = given.unwrap_or(have.end.saturating_sub(1)..have.end);
    if days.start < have.start || days.end > have.end {
        bail!(
            "--learn-days {}..{}: {what} days {}..{}",
            days.start,
            days.end,
            have.start,
            have.end
        );
    }
    Ok(days)
}

/// The per-minute request counts of `region`, and each funcID's index. Two scans, the counts
/// and then the minutes' median execution times, merged by function and minute (a join of the
/// table with itself in the query engine took twice as long).
pub(super) fn minute_workload(
    cx: &Cx,
    region: &str,
    seed: u64,
) -> Result<(MinuteCounts, HashMap<String, u32>)> {
    let mut index = HashMap::new();
    let mut functions = Vec::new();
    let mut fast = FastIndex::default();
    let mut counts: Vec<(u32, u32, u32, f32)> = Vec::new();
    let mut over = 0u64;
    cx.for_each(
        &format!(
            "SELECT funcID, minute, value FROM minute_metrics WHERE region = '{0}' \
             AND metric = 'requests' AND stat = 'count' AND value > 0",
            quote(region)
        ),
        |b| {
            let ids = utf8(b.column(0))?;
            let minute = floats(b.column(1))?;
            let n = floats(b.column(2))?;
            for i in 0..b.num_rows() {
                if n[i].is_nan() || n[i] > f64::from(MAX_PER_MINUTE) {
                    over += 1;
                    continue;
                }
                let f = fast.index(&mut index, &mut functions, str_at(&ids, i), region);
                counts.push((minute[i] as u32, f, n[i].round() as u32, f32::NAN));
            }
            Ok(())
        },
    )?;
    let mut exec: Vec<(u32, u32, f32)> = Vec::new();
    cx.for_each(
        &format!(
            "SELECT funcID, minute, value FROM minute_metrics WHERE region = '{0}' \
             AND metric = 'totalCost' AND stat = 'quantile_050'",
            quote(region)
        ),
        |b| {
            let ids = utf8(b.column(0))?;
            let minute = floats(b.column(1))?;
            let v = floats(b.column(2))?;
            for i in 0..b.num_rows() {
                if let Some(f) = fast.get(str_at(&ids, i)) {
                    exec.push((f, minute[i] as u32, v[i] as f32));
                }
            }
            Ok(())
        },
    )?;
    // Each counted function-minute takes its minute's median, where the table has one.
    exec.sort_unstable_by_key(|e| (e.0, e.1));
    counts.sort_unstable_by_key(|c| (c.1, c.0));
    let mut j = 0;
    for c in &mut counts {
        while j < exec.len() && (exec[j].0, exec[j].1) < (c.1, c.0) {
            j += 1;
        }
        if j < exec.len() && (exec[j].0, exec[j].1) == (c.1, c.0) {
            c.3 = exec[j].2;
        }
    }
    drop(exec);
    // Minutes without an execution time take the function's median over its other minutes.
    let mut per_function: Vec<Vec<f32>> = vec![Vec::new(); functions.len()];
    for c in &counts {
        if c.3.is_finite() {
            per_function[c.1 as usize].push(c.3);
        }
    }
    let medians: Vec<f32> = per_function
        .into_iter()
        .map(|mut v| {
            v.sort_by(f32::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    for c in &mut counts {
        if !c.3.is_finite() {
            c.3 = medians[c.1 as usize];
        }
        c.3 = c.3.max(0.0);
    }
    let new_of = canonical(&mut functions, &mut index);
    for c in &mut counts {
        c.1 = new_of[c.1 as usize];
    }
    counts.sort_by_key(|c| (c.0, c.1));
    function_details(cx, region, &index, &mut functions)?;
    let mut w = MinuteCounts::new(functions, counts, seed, Vec::new());
    if over > 0 {
        w.notes.push(format!(
            "{over} function-minutes with more than {MAX_PER_MINUTE} requests (or no number) \
             rejected"
        ));
    }
    Ok((w, index))
}

/// Each function's observed cold starts (all days) as its costs, and its cold starts on
/// `days` (those measured); None when the region has no cold starts. With `remote`, each other region's cold starts too: a function
/// sent there costs what that region's cold starts of its pool configuration cost (the whole
/// region's where fewer than 30 have that configuration).
pub(super) fn store_costs(
    cx: &Cx,
    region: &str,
    functions: &[Function],
    index: &HashMap<String, u32>,
    days: std::ops::Range<u32>,
    remote: bool,
    seed: u64,
) -> Result<Option<(EmpiricalCosts, Vec<u64>)>> {
    let mut per_function = vec![Vec::new(); functions.len()];
    let mut pooled = Vec::new();
    let mut observed = vec![0u64; functions.len()];
    cx.for_each(
        &format!(
            "SELECT funcID, day, totalCost_cold_start, podAllocationCost, deployCodeCost, \
             deployDependencyCost, schedulingCost FROM cold_starts WHERE region = '{}'",
            quote(region)
        ),
        |b| {
            let ids = strings(b.column(0))?;
            let day = floats(b.column(1))?;
            let c: Vec<Vec<f64>> = (2..7).map(|k| floats(b.column(k))).collect::<Result<_>>()?;
            for i in 0..ids.len() {
                let v = [c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]];
                pooled.push(v);
                if let Some(&f) = index.get(&ids[i]) {
                    per_function[f as usize].push(v);
                    if days.contains(&(day[i] as u32)) {
                        observed[f as usize] += 1;
                    }
                }
            }
            Ok(())
        },
    )?;
    if pooled.is_empty() {
        return Ok(None);
    }
    // In a fixed order whatever order the scan gave.
    let order = |a: &[f64; 5], b: &[f64; 5]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    per_function.iter_mut().for_each(|v| v.sort_by(order));
    pooled.sort_by(order);
    let mut others = Vec::new();
    if remote {
        // region -> (cpu, memory) -> cold starts
        type ByConfig = BTreeMap<(u32, u32), Vec<[f64; 5]>>;
        let mut by_region: BTreeMap<String, ByConfig> = BTreeMap::new();
        cx.for_each(
            &format!(
                "SELECT region, funcID, totalCost_cold_start, podAllocationCost, deployCodeCost, \
                 deployDependencyCost, schedulingCost FROM cold_starts WHERE region <> '{}'",
                quote(region)
            ),
            |b| {
                let r = strings(b.column(0))?;
                let ids = strings(b.column(1))?;
                let c: Vec<Vec<f64>> =
                    (2..7).map(|k| floats(b.column(k))).collect::<Result<_>>()?;
                for i in 0..ids.len() {
                    let cfg = coldstart_trace::pool::parse_func_id(&ids[i])
                        .map(|p| (p.pool.cpu_limit, p.pool.memory_limit))
                        .unwrap_or((0, 0));
                    by_region
                        .entry(r[i].clone())
                        .or_default()
                        .entry(cfg)
                        .or_default()
                        .push([c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]]);
                }
                Ok(())
            },
        )?;
        for (name, configs) in by_region {
            let mut all: Vec<[f64; 5]> = configs.values().flatten().copied().collect();
            all.sort_by(order);
            let all = Arc::new(all);
            let configs: BTreeMap<(u32, u32), Arc<Vec<[f64; 5]>>> = configs
                .into_iter()
                .filter(|(_, v)| v.len() >= 30)
                .map(|(k, mut v)| {
                    v.sort_by(order);
                    (k, Arc::new(v))
                })
                .collect();
            let per = functions
                .iter()
                .map(|f| {
                    configs
                        .get(&(f.cpu_millis, f.memory_mb))
                        .unwrap_or(&all)
                        .clone()
                })
                .collect();
            others.push((name, per));
        }
    }
    let mut costs = EmpiricalCosts::new(per_function, pooled, others, seed);
    if remote {
        costs.loads = region_loads(cx, region, &costs.other_regions())?;
    }
    Ok(Some((costs, observed)))
}

/// Each region's own load (`region`'s, then `others`' in order) from its cold starts per
/// minute in the store; the pressure exponents are the synthetic profile's for a region of the
/// paper's name, else 1 (a cold start's allocation and scheduling in proportion to the load).
fn region_loads(
    cx: &Cx,
    region: &str,
    others: &[String],
) -> Result<Vec<coldstart_sim::regions::RegionLoad>> {
    let minutes = TRACE_DAYS as usize * 1440;
    let mut counts: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    cx.for_each(
        "SELECT region, CAST(floor(time / 60) AS BIGINT) AS m, COUNT(*) AS n FROM cold_starts \
         GROUP BY region, CAST(floor(time / 60) AS BIGINT)",
        |b| {
            let r = strings(b.column(0))?;
            let m = floats(b.column(1))?;
            let n = floats(b.column(2))?;
            for i in 0..r.len() {
                let v = counts
                    .entry(r[i].clone())
                    .or_insert_with(|| vec![0; minutes]);
                if m[i] >= 0.0 && (m[i] as usize) < minutes {
                    v[m[i] as usize] += n[i] as u32;
                }
            }
            Ok(())
        },
    )?;
    let last = counts
        .values()
        .filter_map(|v| v.iter().rposition(|&c| c > 0))
        .max()
        .map_or(0, |m| m / 1440 * 1440 + 1440);
    Ok(std::iter::once(region)
        .chain(others.iter().map(String::as_str))
        .map(|name| {
            let per = counts.get(name).map_or(&[][..], |v| &v[..last]);
            let exponents = coldstart_sim::profile::profile(name)
                .map_or((1.0, 1.0), |p| (p.load_alloc, p.load_host));
            coldstart_sim::regions::RegionLoad::new(name, per, exponents)
        })
        .collect())
}
