//! What `simulate` reports: the table on the console, the CSV files, the charts and the page.

use super::*;
use crate::table::Col;

impl Outcome {
    fn baseline_idle(&self) -> f64 {
        self.runs
            .iter()
            .find(|r| r.metrics.policy == BASELINE)
            .map_or(f64::NAN, |r| r.metrics.idle_gb_seconds)
    }

    fn baseline_cold_starts(&self) -> f64 {
        self.runs
            .iter()
            .find(|r| r.metrics.policy == BASELINE)
            .map_or(f64::NAN, |r| r.metrics.cold_starts() as f64)
    }

    /// One row per policy.
    pub fn summary(&self) -> Table {
        let base = self.baseline_idle();
        let base_cold = self.baseline_cold_starts();
        let m: Vec<&Metrics> = self.runs.iter().map(|r| &r.metrics).collect();
        let f = |g: &dyn Fn(&Metrics) -> f64| m.iter().map(|x| g(x)).collect::<Vec<f64>>();
        let i = |g: &dyn Fn(&Metrics) -> u64| m.iter().map(|x| g(x) as i64).collect::<Vec<i64>>();
        let held: Vec<(u64, f64, u64)> = m.iter().map(|x| x.held()).collect();
        Table::new()
            .str("policy", m.iter().map(|x| x.policy.clone()).collect())
            .i64("invocations", i(&|x| x.invocations()))
            .i64("cold_starts", i(&|x| x.cold_starts()))
            .f64(
                "cold_start_pct",
                f(&|x| x.cold_starts() as f64 / x.invocations().max(1) as f64 * 100.0),
            )
            .f64(
                "cold_starts_vs_10min_keepalive_pct",
                f(&|x| x.cold_starts() as f64 / base_cold * 100.0),
            )
            .f64(
                &self.p75_column(),
                f(&|x| x.p75_function_cold_rate() * 100.0),
            )
            .f64("cold_start_seconds", f(&|x| x.cold_seconds()))
            .f64("cold_start_p50_s", f(&|x| q(&x.cold_us, 0.5)))
            .f64("cold_start_p99_s", f(&|x| q(&x.cold_us, 0.99)))
            .f64("latency_p50_s", f(&|x| q(&x.latency_us, 0.5)))
            .f64("latency_p99_s", f(&|x| q(&x.latency_us, 0.99)))
            .f64(
                "idle_pod_seconds",
                f(&|x| x.idle_seconds() + x.pool.idle_seconds),
            )
            .f64("idle_gb_seconds", f(&|x| x.idle_gb_seconds))
            .f64(
                "idle_vs_10min_keepalive_pct",
                f(&|x| x.idle_gb_seconds / base * 100.0),
            )
            .i64(
                "peak_running_pods",
                i(&|x| u64::from(x.peak_running_pods())),
            )
            .i64("peak_loaded_mb", i(&|x| x.peak_loaded_mb()))
            .i64("pods", i(&|x| x.pods))
            .i64("prewarms", i(&|x| x.prewarms()))
            .i64("held_requests", held.iter().map(|h| h.0 as i64).collect())
            .f64("held_mean_s", held.iter().map(|h| h.1).collect())
            .f64(
                "deadline_missed_pct",
                held.iter()
                    .map(|h| h.2 as f64 / h.0.max(1) as f64 * 100.0)
                    .collect(),
            )
            .i64("evictions", i(&|x| x.evictions))
            .i64("pool_hits", i(&|x| x.pool.hits))
            .i64("pool_misses", i(&|x| x.pool.misses))
            .f64("pool_idle_pod_seconds", f(&|x| x.pool.idle_seconds))
            .i64("remote_cold_starts", i(&|x| x.remote_cold_starts))
            .i64("remote_requests", i(&|x| x.remote_requests))
            .f64(
                "pod_utility_p50",
                f(&|x| {
                    if x.utility_milli.is_empty() {
                        f64::NAN
                    } else {
                        x.utility_milli.value_at_quantile(0.5) as f64 / 1000.0
                    }
                }),
            )
            .f64(
                "pods_utility_below_1_pct",
                f(&|x| x.pods_below_1 as f64 / x.pods.max(1) as f64 * 100.0),
            )
            .f64("sim_seconds", f(&|x| x.wall_seconds))
            .f64(
                "invocations_per_s",
                f(&|x| x.events as f64 / x.wall_seconds.max(1e-9)),
            )
    }

    /// Notes on metrics that are the same for every policy at a bound of their range, from
    /// the seeds or else from this run's `summary`.
    pub fn saturation(&self, summary: &Table) -> Vec<String> {
        match &self.seeds {
            Some(s) => s.saturated(),
            None => seeds::SeedRuns::new(vec![0], std::slice::from_ref(summary)).saturated(),
        }
    }

    /// Under policies that place pods in other regions: per policy, region and hour of the
    /// day, the cold starts placed there, their share of that hour's cold starts and their
    /// cold-start seconds. None when no run placed any.
    pub fn by_region_hour(&self) -> Option<Table> {
        let (mut p, mut region, mut hour) = (Vec::new(), Vec::new(), Vec::new());
        let (mut cold, mut share, mut secs) = (Vec::new(), Vec::new(), Vec::new());
        for r in &self.runs {
            let by = &r.metrics.by_region_hour;
            if by.is_empty() {
                continue;
            }
            for h in 0..24 {
                let all: u64 = by.iter().map(|x| x.cold_starts[h]).sum();
                for (i, name) in self.regions.iter().enumerate() {
                    let (c, s) = by
                        .get(i)
                        .map_or((0, 0.0), |x| (x.cold_starts[h], x.cold_seconds[h]));
                    p.push(r.metrics.policy.clone());
                    region.push(name.clone());
                    hour.push(h as i64);
                    cold.push(c as i64);
                    share.push(c as f64 / all.max(1) as f64 * 100.0);
                    secs.push(s);
                }
            }
        }
        (!p.is_empty()).then(|| {
            Table::new()
                .str("policy", p)
                .str("region", region)
                .i64("hour", hour)
                .i64("cold_starts", cold)
                .f64("cold_start_pct_of_hour", share)
                .f64("cold_start_seconds", secs)
        })
    }

    /// One stacked-bar panel per run that placed pods in other regions: its cold starts by
    /// hour of the day and the region they went to.
    fn region_panels(&self, names: &[String]) -> Vec<Panel> {
        self.runs
            .iter()
            .zip(names)
            .filter(|(r, _)| !r.metrics.by_region_hour.is_empty())
            .map(|(r, name)| {
                let by = &r.metrics.by_region_hour;
                let values = (0..self.regions.len())
                    .map(|i| {
                        (0..24)
                            .map(|h| by.get(i).map_or(0.0, |x| x.cold_starts[h] as f64))
                            .collect()
                    })
                    .collect();
                Panel::body(
                    &format!("Where cold starts go, {name}"),
                    "hour of the day",
                    "cold starts",
                    Body::Bars {
                        categories: (0..24).map(|h| h.to_string()).collect(),
                        stacks: self.regions.clone(),
                        values,
                        stacked: true,
                    },
                )
            })
            .collect()
    }

    /// Per policy and trigger (`trigger`) or runtime (`runtime`): functions, invocations, cold
    /// starts and their share, cold-start and idle pod seconds.
    pub fn by_group(&self, key: &str) -> Table {
        let (mut p, mut g) = (Vec::new(), Vec::new());
        let mut cols: [Vec<f64>; 6] = Default::default();
        for r in &self.runs {
            let mut groups: BTreeMap<&str, [f64; 5]> = BTreeMap::new();
            for (f, m) in self.functions.iter().zip(&r.metrics.per_function) {
                let name = if key == "trigger" {
                    &f.trigger
                } else {
                    &f.runtime
                };
                let e = groups.entry(name.as_str()).or_default();
                e[0] += 1.0;
                e[1] += m.invocations as f64;
                e[2] += m.cold_starts as f64;
                e[3] += m.cold_seconds;
                e[4] += m.idle_seconds;
            }
            for (name, [n, inv, cold, cs, idle]) in groups {
                p.push(r.metrics.policy.clone());
                g.push(name.to_string());
                let pct = cold / inv.max(1.0) * 100.0;
                for (c, x) in cols.iter_mut().zip([n, inv, cold, pct, cs, idle]) {
                    c.push(x);
                }
            }
        }
        let [n, inv, cold, pct, cs, idle] = cols;
        let int = |v: Vec<f64>| v.into_iter().map(|x| x as i64).collect();
        Table::new()
            .str("policy", p)
            .str(key, g)
            .i64("functions", int(n))
            .i64("invocations", int(inv))
            .i64("cold_starts", int(cold))
            .f64("cold_start_pct", pct)
            .f64("cold_start_seconds", cs)
            .f64("idle_pod_seconds", idle)
    }

    /// One row per policy and function.
    pub fn per_function(&self) -> Table {
        let (mut p, mut id, mut trig, mut rt) = (vec![], vec![], vec![], vec![]);
        let (mut inv, mut cold, mut cs, mut idle, mut pre) =
            (vec![], vec![], vec![], vec![], vec![]);
        for r in &self.runs {
            for (f, m) in self.functions.iter().zip(&r.metrics.per_function) {
                p.push(r.metrics.policy.clone());
                id.push(f.name.clone());
                trig.push(f.trigger.clone());
                rt.push(f.runtime.clone());
                inv.push(m.invocations as i64);
                cold.push(m.cold_starts as i64);
                cs.push(m.cold_seconds);
                idle.push(m.idle_seconds);
                pre.push(m.prewarms as i64);
            }
        }
        Table::new()
            .str("policy", p)
            .str("funcID", id)
            .str("trigger", trig)
            .str("runtime", rt)
            .i64("invocations", inv)
            .i64("cold_starts", cold)
            .f64("cold_start_seconds", cs)
            .f64("idle_pod_seconds", idle)
            .i64("prewarms", pre)
    }

    /// Running pods per hour (the most in any minute of it), per policy.
    fn running(&self) -> Table {
        let (mut p, mut h, mut v) = (vec![], vec![], vec![]);
        for r in &self.runs {
            for (i, c) in r.metrics.running_per_hour().into_iter().enumerate() {
                p.push(r.metrics.policy.clone());
                h.push(i as i64);
                v.push(i64::from(c));
            }
        }
        Table::new()
            .str("policy", p)
            .i64("hour", h)
            .i64("running_pods", v)
    }

    /// The default policy's cold starts per function against the trace's own.
    pub fn faithfulness(&self) -> Option<String> {
        let observed = self.observed.as_ref()?;
        let default = self
            .runs
            .iter()
            .find(|r| r.metrics.policy == coldstart_sim::synth::default_policy().name())?;
        let sim: Vec<u64> = default
            .metrics
            .per_function
            .iter()
            .map(|f| f.cold_starts)
            .collect();
        let (a, b): (u64, u64) = (sim.iter().sum(), observed.iter().sum());
        let with = observed.iter().filter(|o| **o > 0).count();
        let within = sim
            .iter()
            .zip(observed)
            .filter(|(s, o)| **o > 0 && (**s as f64 - **o as f64).abs() <= 0.1 * **o as f64)
            .count();
        let mut line = format!(
            "faithfulness: the platform's default (60 s keep-alive) makes {a} cold starts where the \
             trace has {b} on the same days ({:+.1} %); {within} of {with} functions with cold \
             starts are within ±10 % of their own",
            (a as f64 / b.max(1) as f64 - 1.0) * 100.0
        );
        if let Some(u) = self.observed_utility {
            let m = &default.metrics;
            let median = if m.utility_milli.is_empty() {
                f64::NAN
            } else {
                m.utility_milli.value_at_quantile(0.5) as f64 / 1000.0
            };
            let _ = write!(
                line,
                "; pod utility ratio: median {median:.2} against the trace's {:.2}, {:.1} % of \
                 pods below 1 against {:.1} % ({} pods against {})",
                u.median,
                m.pods_below_1 as f64 / m.pods.max(1) as f64 * 100.0,
                u.below_1 * 100.0,
                m.pods,
                u.pods
            );
        }
        Some(line)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "workload: {}", self.input)?;
        // What was rejected or left out is said here too, not only on the page.
        for n in self
            .notes
            .iter()
            .filter(|n| n.contains("rejected") || n.contains("left out"))
        {
            writeln!(f, "note: {n}")?;
        }
        let base = self.baseline_idle();
        writeln!(
            f,
            "{:<58} {:>12} {:>10} {:>8} {:>11} {:>11} {:>9} {:>10} {:>9}",
            "policy",
            "invocations",
            "cold",
            "rate",
            "cold s",
            "idle GB-s",
            "vs 10m",
            "peak MB",
            "M inv/s"
        )?;
        for r in &self.runs {
            let m = &r.metrics;
            writeln!(
                f,
                "{:<58} {:>12} {:>10} {:>7.3}% {:>11.0} {:>11.0} {:>8.1}% {:>10} {:>9.2}",
                format!(
                    "{}{}",
                    m.policy,
                    if r.baseline { " (baseline)" } else { "" }
                ),
                m.invocations(),
                m.cold_starts(),
                m.cold_starts() as f64 / m.invocations().max(1) as f64 * 100.0,
                m.cold_seconds(),
                m.idle_gb_seconds,
                m.idle_gb_seconds / base * 100.0,
                m.peak_loaded_mb(),
                m.events as f64 / m.wall_seconds.max(1e-9) / 1e6
            )?;
        }
        if let Some(line) = self.faithfulness() {
            writeln!(f, "{line}")?;
        }
        if let Some(c) = &self.month_check {
            for line in c.lines().into_iter().chain(c.day_lines()) {
                writeln!(f, "{line}")?;
            }
        }
        if let Some(s) = &self.seeds {
            writeln!(
                f,
                "over {} seeds ({}..{}), mean [95 % interval]:",
                s.seeds.len(),
                s.seeds[0],
                s.seeds[s.seeds.len() - 1]
            )?;
            for (i, p) in s.policies.iter().enumerate() {
                let cells: Vec<String> = self
                    .seed_columns()
                    .iter()
                    .map(|(m, label)| interval_text(s, i, m, label))
                    .collect();
                writeln!(f, "  {:<56} {}", p, cells.join("  "))?;
            }
        }
        for n in self.saturation(&self.summary()) {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

/// [`Outcome::summary`] as written and shown: without the columns that are 0 for every
/// policy (pools, other regions, evictions when no policy has them) and without `pods` when
/// it equals `cold_starts` for every policy (no policy starts pods ahead).
pub fn clean_summary(full: &Table) -> Table {
    let cold = full.f64s("cold_starts").unwrap_or_default();
    let keep = |name: &str, col: &Col| -> bool {
        if matches!(col, Col::Str(_)) {
            return true;
        }
        let v = full.f64s(name).unwrap_or_default();
        match name {
            "invocations" | "cold_starts" => true,
            "pods" => v != cold,
            _ => v.iter().any(|x| *x != 0.0),
        }
    };
    Table {
        columns: full
            .columns
            .iter()
            .filter(|(n, c)| keep(n, c))
            .cloned()
            .collect(),
    }
}

impl Outcome {
    /// The summary column of the 75th-percentile cold-start rate of what owns pods.
    pub fn p75_column(&self) -> String {
        self.scope.p75_column()
    }

    /// The metrics shown with their intervals (summary column, label).
    fn seed_columns(&self) -> [(String, String); 5] {
        let pair = |c: &str, l: &str| (c.to_string(), l.to_string());
        [
            pair("cold_starts", "cold starts"),
            pair(
                "cold_starts_vs_10min_keepalive_pct",
                "cold starts vs 10m (%)",
            ),
            (
                self.p75_column(),
                format!("p75 {} cold (%)", self.scope.unit()),
            ),
            pair("idle_vs_10min_keepalive_pct", "idle vs 10m (%)"),
            pair("peak_running_pods", "peak running pods"),
        ]
    }
}

/// `label mean [low, high]` of one policy's metric over the seeds.
fn interval_text(s: &seeds::SeedRuns, policy: usize, metric: &str, label: &str) -> String {
    match s.of(policy, metric) {
        Some((m, lo, hi)) => format!(
            "{label} {} [{}, {}]",
            crate::analysis::num(m),
            crate::analysis::num(lo),
            crate::analysis::num(hi)
        ),
        None => format!("{label} —"),
    }
}

/// Writes the comparison into `out` (built beside it and swapped in whole).
pub fn write(
    o: &Outcome,
    out: &Path,
    force: bool,
    lock: outdir::Lock,
    tradeoff: &Tradeoff,
) -> Result<()> {
    let staging = outdir::Staging::locked(lock, out, OWNER, force)?;
    let dir = staging.path();
    let summary = o.summary();
    let clean = clean_summary(&summary);
    let by_trigger = o.by_group("trigger");
    let by_runtime = o.by_group("runtime");
    let mut files = vec![
        ("summary.csv", clean.to_csv()?),
        ("functions.csv", o.per_function().to_csv()?),
        ("running_pods.csv", o.running().to_csv()?),
        ("by_trigger.csv", by_trigger.to_csv()?),
        ("by_runtime.csv", by_runtime.to_csv()?),
    ];
    if let Some(s) = &o.seeds {
        files.push(("seeds.csv", s.table().to_csv()?));
    }
    let regions = o.by_region_hour();
    if let Some(t) = &regions {
        files.push((REGIONS_CSV, t.to_csv()?));
    }
    if let Some(c) = &o.month_check {
        files.push(("month_check_days.csv", c.by_day().to_csv()?));
        files.push(("month_check_functions.csv", c.by_function().to_csv()?));
    }
    for (name, bytes) in &files {
        outdir::write_file(&dir.join(name), bytes)?;
    }
    let policies: Vec<String> = o.runs.iter().map(|r| r.metrics.policy.clone()).collect();
    let names = chart_names(&policies);
    let metrics = [
        ("cold_starts", "cold starts"),
        ("cold_start_seconds", "cold-start seconds"),
        ("latency_p99_s", "p99 latency (s)"),
        ("idle_gb_seconds", "idle GB-seconds"),
        ("peak_running_pods", "peak running pods"),
        ("peak_loaded_mb", "peak loaded memory (MB)"),
    ];
    let mut charts = Vec::new();
    for (col, label) in metrics {
        let v = summary.f64s(col).unwrap_or_default();
        let panel = Panel::body(
            label,
            "policy",
            label,
            Body::Bars {
                categories: names.clone(),
                stacks: vec![label.to_string()],
                values: vec![v],
                stacked: false,
            },
        );
        let file = format!("{col}.svg");
        outdir::write_file(
            &dir.join(&file),
            chart::render(&[panel], 1, (640, 420))?.as_bytes(),
        )?;
        charts.push(file);
    }
    let ys = summary.f64s(tradeoff.y).unwrap_or_default();
    let xs = summary.f64s(tradeoff.x).unwrap_or_default();
    let point = |i: usize| (xs[i], ys[i]);
    let (x_label, y_label) = (label_of(tradeoff.x), label_of(tradeoff.y));
    let title = tradeoff.title();
    let title = title.as_str();
    // Each sweep in the order of its parameter (not of x: a knob need not move x one way).
    let sweeps: Vec<Vec<usize>> = (0..o.sweeps.len())
        .map(|k| {
            (0..o.runs.len())
                .filter(|i| o.runs[*i].sweep == Some(k))
                .collect()
        })
        .collect();
    // A swept point's label: its parameters left of their defaults ("capacity=0.01").
    let param = |i: usize| {
        let n = &names[i];
        n.split_once(':').map_or(n.clone(), |(_, p)| p.to_string())
    };
    let tradeoff = if sweeps.iter().all(|s| s.is_empty()) {
        let series = names
            .iter()
            .enumerate()
            .map(|(i, n)| Series::new(n.clone(), vec![point(i)]))
            .collect();
        Panel::scatter(title, x_label, y_label, series)
    } else {
        // Each sweep as a line, every other policy as a labelled point.
        let mut others: Vec<(f64, f64, String)> = (0..o.runs.len())
            .filter(|i| o.runs[*i].sweep.is_none())
            .map(|i| {
                let (x, y) = point(i);
                // Keep-alive points keep their window; others their name only.
                let n = &names[i];
                let label = if n.starts_with("fixed-keepalive") {
                    n.replace("fixed-keepalive:", "keep-alive ")
                } else {
                    n.split(':').next().unwrap_or("").to_string()
                };
                (x, y, label)
            })
            .collect();
        let mut lines = Vec::new();
        for (k, swept) in sweeps.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
            let curve: Vec<(f64, f64)> = swept.iter().map(|i| point(*i)).collect();
            let (first, last) = (swept[0], swept[swept.len() - 1]);
            if sweeps.len() == 1 {
                // One line: its ends say the range; several: the legend does.
                for i in [first, last] {
                    let (x, y) = point(i);
                    others.push((x, y, param(i)));
                }
            }
            let (a, b) = (param(first), param(last));
            // "capacity=0.01..0.5" where both ends name the same parameter.
            let name = match (a.split_once('='), b.split_once('=')) {
                _ if sweeps.len() > 1 => o.sweeps[k].clone(),
                (Some((k, x)), Some((l, y))) if k == l && !x.contains(',') && !y.contains(',') => {
                    format!("sweep {k}={x}..{y}")
                }
                _ => format!("sweep {a}..{b}"),
            };
            lines.push(Series::new(name, curve));
        }
        Panel::lines(title, x_label, y_label, lines).marks(others)
    };
    outdir::write_file(
        &dir.join("tradeoff.svg"),
        chart::render(&[tradeoff], 1, (640, 460))?.as_bytes(),
    )?;
    charts.insert(0, "tradeoff.svg".into());
    let lines = o
        .runs
        .iter()
        .map(|r| {
            r.metrics
                .running_per_hour()
                .into_iter()
                .enumerate()
                .map(|(h, c)| (h as f64 / 24.0, f64::from(c)))
                .collect()
        })
        .zip(&names)
        .map(|(pts, n)| Series::new(n.clone(), pts))
        .collect();
    let running = Panel::lines(
        "Running pods (most in any minute of the hour)",
        "day",
        "pods",
        lines,
    );
    outdir::write_file(
        &dir.join("running_pods.svg"),
        chart::render(&[running], 1, (900, 420))?.as_bytes(),
    )?;
    charts.insert(1, "running_pods.svg".into());
    let panels = o.region_panels(&names);
    if !panels.is_empty() {
        outdir::write_file(
            &dir.join(REGIONS_CHART),
            chart::render(&panels, 1, (900, 400))?.as_bytes(),
        )?;
        charts.insert(2, REGIONS_CHART.into());
    }
    if let Some((policy, series)) = o.month_check.as_ref().and_then(|c| c.day_series()) {
        let panel = Panel::lines(
            &format!("Cold starts per day, {}", short(&policy)),
            "day",
            "cold starts",
            series
                .into_iter()
                .map(|(label, pts)| Series::new(label, pts))
                .collect(),
        );
        outdir::write_file(
            &dir.join(MONTH_CHART),
            chart::render(&[panel], 1, (900, 420))?.as_bytes(),
        )?;
    }
    outdir::write_file(
        &dir.join("index.html"),
        html(o, &summary, &clean, &[&by_trigger, &by_runtime], &charts).as_bytes(),
    )?;
    staging.commit()
}

/// The metrics a trade-off chart can set against each other (`--tradeoff`): summary.csv's
/// column and its axis label.
pub const TRADEOFF_METRICS: &[(&str, &str)] = &[
    ("cold_start_pct", "cold-start rate (%)"),
    ("cold_starts", "cold starts"),
    ("cold_start_seconds", "cold-start seconds"),
    (
        "p75_function_cold_pct",
        "75th-percentile function's cold-start rate (%)",
    ),
    (
        "p75_app_cold_pct",
        "75th-percentile app's cold-start rate (%)",
    ),
    ("cold_start_p99_s", "p99 cold-start time (s)"),
    ("latency_p50_s", "p50 latency (s)"),
    ("latency_p99_s", "p99 latency (s)"),
    (
        "idle_vs_10min_keepalive_pct",
        "idle GB-seconds (% of a 10-minute keep-alive)",
    ),
    ("idle_gb_seconds", "idle GB-seconds"),
    ("peak_running_pods", "peak running pods"),
    ("peak_loaded_mb", "peak loaded memory (MB)"),
    ("held_mean_s", "mean hold of a held request (s)"),
    (
        "deadline_missed_pct",
        "held requests past their deadline (%)",
    ),
    ("remote_cold_starts", "cold starts sent to other regions"),
];

/// The columns of [`TRADEOFF_METRICS`], as a list for help and errors.
pub fn tradeoff_metric_names() -> String {
    TRADEOFF_METRICS
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

fn label_of(column: &str) -> &'static str {
    TRADEOFF_METRICS
        .iter()
        .find(|(c, _)| *c == column)
        .map_or("", |(_, l)| l)
}

/// The axes of the trade-off chart: `y` against `x`, two of [`TRADEOFF_METRICS`].
#[derive(Debug, Clone, PartialEq)]
pub struct Tradeoff {
    pub y: &'static str,
    pub x: &'static str,
}

impl Default for Tradeoff {
    fn default() -> Self {
        Self {
            y: "cold_start_pct",
            x: "idle_vs_10min_keepalive_pct",
        }
    }
}

impl Tradeoff {
    /// Refuses a 75th-percentile axis of the other pod scope (`p75_function_cold_pct` when
    /// apps own the pods, `p75_app_cold_pct` when functions do): the summary has one of them.
    pub fn check_scope(&self, scope: super::PodScope) -> Result<()> {
        let have = scope.p75_column();
        for axis in [self.y, self.x] {
            if axis.starts_with("p75_") && axis != have {
                bail!(
                    "--tradeoff: {axis} is not measured here: the pods belong to {}s \
                     (--pod-scope {}), so the summary has {have}",
                    scope.unit(),
                    scope.unit()
                );
            }
        }
        Ok(())
    }

    /// `Y` or `Y,X` (X: idle memory against the 10-minute keep-alive), each a column of
    /// [`TRADEOFF_METRICS`].
    pub fn parse(s: &str) -> Result<Self> {
        let find = |name: &str| {
            TRADEOFF_METRICS
                .iter()
                .map(|(c, _)| *c)
                .find(|c| *c == name.trim())
                .with_context(|| {
                    format!(
                        "--tradeoff: unknown metric '{}' (one of: {})",
                        name.trim(),
                        tradeoff_metric_names()
                    )
                })
        };
        let d = Self::default();
        match s.split_once(',') {
            Some((y, x)) if find(y)? == find(x)? => {
                bail!("--tradeoff {s}: a metric against itself; give two different metrics")
            }
            Some((y, x)) => Ok(Self {
                y: find(y)?,
                x: find(x)?,
            }),
            None if find(s)? == d.x => {
                bail!("--tradeoff {s}: that is the default x axis; give Y,X")
            }
            None => Ok(Self {
                y: find(s)?,
                x: d.x,
            }),
        }
    }

    fn title(&self) -> String {
        if *self == Self::default() {
            return "Cold starts against wasted memory".into();
        }
        let y = label_of(self.y);
        let mut t: String = y.chars().take(1).flat_map(char::to_uppercase).collect();
        t.push_str(&y[y.chars().next().map_or(0, char::len_utf8)..]);
        format!("{t} against {}", label_of(self.x))
    }
}

/// Cold starts by region and hour of the day, under policies that place pods elsewhere.
const REGIONS_CSV: &str = "regions_by_hour.csv";
const REGIONS_CHART: &str = "regions_by_hour.svg";

/// The month check's chart of cold starts per day.
const MONTH_CHART: &str = "month_check_days.svg";

/// A policy name without the parameters at their catalogued defaults, for chart labels:
/// `cross-region:latency=50ms,ttl=60s,capacity=1,route=once` is
/// `cross-region:route=once`; a policy at all its defaults keeps its first parameter
/// (`fixed-keepalive:ttl=60s`).
pub(super) fn short(p: &str) -> String {
    let Some((kind, params)) = p.split_once(':') else {
        return p.to_string();
    };
    let defaults: Vec<&str> = policy::CATALOG
        .iter()
        .find(|e| e.name == kind)
        .map(|e| {
            e.params
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split([',', ':'])
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let kept: Vec<&str> = params
        .split(',')
        .filter(|q| !defaults.contains(q))
        .collect();
    if kept.is_empty() {
        format!("{kind}:{}", params.split(',').next().unwrap_or(""))
    } else {
        format!("{kind}:{}", kept.join(","))
    }
}

/// Chart names: a policy's kind alone when no other policy compared is of that kind, else
/// the kind with its parameters (defaults left out).
fn chart_names(policies: &[String]) -> Vec<String> {
    let kind = |p: &str| p.split(':').next().unwrap_or("").to_string();
    policies
        .iter()
        .map(|p| {
            let k = kind(p);
            if policies.iter().filter(|q| kind(q) == k).count() > 1 {
                short(p)
            } else {
                k
            }
        })
        .collect()
}

/// The page: `shown` is the summary as written (`clean_summary` of `summary`).
pub(super) fn html(
    o: &Outcome,
    summary: &Table,
    shown: &Table,
    groups: &[&Table],
    charts: &[String],
) -> String {
    use charts::page::{Page, Table as Html};
    let mut h = Page::new("coldstart simulate").style("body{max-width:1400px}");
    h.heading(1, "", "Cold-start policies compared");
    h.para(&format!(
        "Workload: {}. {} policies in {:.1} s.",
        o.input,
        o.runs.len(),
        o.seconds
    ));
    for n in &o.notes {
        h.para(&format!("Note: {n}"));
    }
    if let Some(line) = o.faithfulness() {
        h.para(&line);
    }
    if let Some(c) = &o.month_check {
        h.heading(
            2,
            "month-check",
            "The per-minute replay against the per-request rows",
        );
        h.para(&format!(
            "The per-minute counts of days {}..{} replayed with arrivals within the minute \
             learned from the per-request rows, and spread uniformly, against replaying the \
             per-request rows of the same days (the truth). Targets: total cold starts within \
             ±{:.0} % of the truth's; at least {:.0} % of the functions with {} or more cold \
             starts within ±{:.0} % of their own; a correlation of the daily series of at \
             least {}. month_check_days.csv and month_check_functions.csv hold every number.",
            c.days.start,
            c.days.end,
            month_check::TOTAL_TOLERANCE * 100.0,
            month_check::FUNCTION_SHARE * 100.0,
            month_check::FUNCTION_MIN_COLD,
            month_check::FUNCTION_TOLERANCE * 100.0,
            month_check::DAILY_CORRELATION
        ));
        let mut t = Html::new(&[
            "policy",
            "truth (cold starts)",
            "within the minute",
            "cold starts",
            "vs truth",
            "functions within ±25 %",
            "daily correlation",
            "targets",
        ]);
        for row in c.page_rows() {
            t.row(row);
        }
        h.table(&t);
        if c.day_series().is_some() {
            h.image(MONTH_CHART, "cold starts per day: truth, learned, uniform");
        }
    }
    h.table(&html_table(shown));
    for n in o.saturation(summary) {
        h.para(&format!("Note: {n}"));
    }
    let mut links = vec![
        "summary.csv",
        "functions.csv",
        "running_pods.csv",
        "by_trigger.csv",
        "by_runtime.csv",
    ];
    if o.runs.iter().any(|r| !r.metrics.by_region_hour.is_empty()) {
        links.push(REGIONS_CSV);
    }
    if o.month_check.is_some() {
        links.push("month_check_days.csv");
        links.push("month_check_functions.csv");
    }
    if let Some(s) = &o.seeds {
        links.push("seeds.csv");
        h.heading(2, "seeds", &format!("Over {} seeds", s.seeds.len()));
        h.para(&format!(
            "The replay repeated with seeds {} to {} (the workload's random parts: the \
             synthetic model, the spreading of per-minute counts, the draws of cold-start \
             costs); each cell is the mean and its 95 % interval (Student's t). The table \
             above and the charts are seed {}'s; seeds.csv has every metric and every seed's \
             value.",
            s.seeds[0],
            s.seeds[s.seeds.len() - 1],
            s.seeds[0]
        ));
        let columns = o.seed_columns();
        let mut head = vec!["policy"];
        head.extend(columns.iter().map(|(_, l)| l.as_str()));
        let mut st = Html::new(&head);
        for (i, p) in s.policies.iter().enumerate() {
            let mut row = vec![p.clone()];
            row.extend(
                columns
                    .iter()
                    .map(|(m, _)| interval_text(s, i, m, "").trim().to_string()),
            );
            st.row(row);
        }
        h.table(&st);
    }
    h.data_links(&links);
    for (t, title) in groups.iter().zip(["By trigger", "By runtime"]) {
        h.heading(2, "", title);
        h.table(&html_table(t));
    }
    h.para("Idle GB-seconds are normalised to a fixed 10-minute keep-alive (= 100 %).");
    for c in charts {
        h.image(c, c);
    }
    h.finish()
}

/// A table of the page, numbers as the report prints them.
fn html_table(table: &Table) -> charts::page::Table {
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| n.as_str()).collect();
    let mut t = charts::page::Table::new(&names);
    if let Ok(b) = table.to_batch() {
        for row in 0..b.num_rows() {
            t.row(b.columns().iter().map(|c| {
                let v = datafusion::arrow::util::display::array_value_to_string(c, row)
                    .unwrap_or_default();
                match v.parse::<f64>() {
                    Ok(x) if v.contains('.') => crate::analysis::num(x),
                    _ => v,
                }
            }));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::{short, Tradeoff, TRADEOFF_METRICS};

    /// Every metric the chart offers is a column of the summary table, and `--tradeoff`
    /// takes Y or Y,X and names what it refuses.
    #[test]
    fn tradeoff_axes_are_summary_columns() {
        let outcome = |scope| super::Outcome {
            input: String::new(),
            notes: Vec::new(),
            functions: Vec::new(),
            runs: Vec::new(),
            observed: None,
            observed_utility: None,
            seconds: 0.0,
            seeds: None,
            month_check: None,
            warmup_days: 0,
            regions: Vec::new(),
            sweeps: Vec::new(),
            scope,
        };
        // The 75th-percentile column is per app or per function, as the pods are.
        let (app, function) = (super::PodScope::App, super::PodScope::Function);
        let mut summary = outcome(function).summary();
        let per_app = outcome(app).summary();
        assert!(per_app.f64s("p75_app_cold_pct").is_some());
        assert!(per_app.f64s("p75_function_cold_pct").is_none());
        summary.columns.extend(per_app.columns);
        let p75 = Tradeoff::parse("p75_function_cold_pct").unwrap();
        assert!(p75.check_scope(function).is_ok());
        let e = p75.check_scope(app).unwrap_err().to_string();
        assert!(
            e.contains("--pod-scope app") && e.contains("p75_app_cold_pct"),
            "{e}"
        );
        for (c, _) in TRADEOFF_METRICS {
            assert!(summary.columns.iter().any(|(n, _)| n == c), "{c}");
        }
        assert_eq!(
            Tradeoff::parse("cold_start_pct").unwrap(),
            Tradeoff::default()
        );
        let t = Tradeoff::parse("peak_running_pods, latency_p99_s").unwrap();
        assert_eq!((t.y, t.x), ("peak_running_pods", "latency_p99_s"));
        assert_eq!(t.title(), "Peak running pods against p99 latency (s)");
        assert_eq!(
            Tradeoff::default().title(),
            "Cold starts against wasted memory"
        );
        let e = format!("{:#}", Tradeoff::parse("pods").unwrap_err());
        assert!(
            e.contains("unknown metric 'pods'") && e.contains("deadline_missed_pct"),
            "{e}"
        );
        assert!(Tradeoff::parse("cold_starts,cold_starts").is_err());
        assert!(Tradeoff::parse("idle_vs_10min_keepalive_pct").is_err());
    }

    #[test]
    fn chart_labels_leave_out_the_catalogued_defaults() {
        let cases = [
            (
                "cross-region:latency=50ms,ttl=60s,capacity=1,route=once",
                "cross-region:route=once",
            ),
            (
                "cross-region:latency=50ms,ttl=60s,capacity=1,route=time",
                "cross-region:latency=50ms",
            ),
            (
                "cross-region:latency=200ms,ttl=60s,capacity=0.25,route=time",
                "cross-region:latency=200ms,capacity=0.25",
            ),
            (
                "fixed-keepalive:ttl=10m,restart=yes",
                "fixed-keepalive:ttl=10m",
            ),
            (
                "fixed-keepalive:ttl=60s,restart=yes",
                "fixed-keepalive:ttl=60s",
            ),
            (
                "faascache:capacity=4096,evict=lru",
                "faascache:capacity=4096,evict=lru",
            ),
            (
                "peak-shave:max-delay=5m,limit=auto,ttl=60s",
                "peak-shave:max-delay=5m",
            ),
            ("no-such", "no-such"),
        ];
        for (name, label) in cases {
            assert_eq!(short(name), label);
        }
    }
}
