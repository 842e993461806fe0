//! Policies: what the platform decides, asked by the engine at each decision. One file per
//! policy, named after it; `parse` reads the `NAME[:key=value,...]` form the command line
//! uses (durations as `500ms`, `60s`, `10m`, `2h`).

use anyhow::{bail, Context, Result};

use crate::costs::CostModel;
use crate::workload::Function;

pub mod cross_region;
pub mod faascache;
pub mod fixed_keepalive;
pub mod forecast_prewarm;
pub mod hybrid_histogram;
pub mod peak_shave;
pub mod pool_predict;
mod sweep;
pub mod timer_prewarm;

pub use cross_region::CrossRegion;
pub use faascache::FaasCache;
pub use fixed_keepalive::FixedKeepAlive;
pub use forecast_prewarm::ForecastPrewarm;
pub use hybrid_histogram::HybridHistogram;
pub use peak_shave::PeakShave;
pub use pool_predict::PoolPredict;
pub use sweep::{kind_of, sweep, Kind, MAX_SWEEP_POINTS};
pub use timer_prewarm::TimerPrewarm;

/// How a pod waits for its next request once its requests have ended: unloaded for
/// `unload_for` seconds (0: stays loaded), then loaded (pre-warmed) for `keep_for` seconds,
/// then removed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Idle {
    pub unload_for: f64,
    pub keep_for: f64,
}

impl Idle {
    /// Stays loaded for `seconds`.
    pub fn keep(seconds: f64) -> Self {
        Self {
            unload_for: 0.0,
            keep_for: seconds,
        }
    }
}

/// The platform's load when a request arrives.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    /// Requests executing or waiting for their pod, over all functions.
    pub in_flight: usize,
    /// When the earliest of them ends (infinity when none).
    pub next_end: f64,
}

/// A request has been placed and the pod's requests end at `end`.
pub struct Ended<'a> {
    pub func: u32,
    pub function: &'a Function,
    /// When the request arrived.
    pub arrival: f64,
    /// When the pod's last request ends.
    pub end: f64,
    /// When the pod was loaded by its cold start.
    pub pod_created: f64,
}

/// A pod has just been given a request (under a policy with a memory capacity).
pub struct Used<'a> {
    pub func: u32,
    pub function: &'a Function,
    /// Whether the request started the pod (a cold start).
    pub cold: bool,
    /// What the pod's cold start cost (seconds).
    pub cold_cost: f64,
    /// When the request was dispatched to it.
    pub t: f64,
    /// When its idle plan removes it (infinity when only eviction does).
    pub expire_at: f64,
}

/// What a policy needs beyond a workload's arrivals, asked before the workload is loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Other regions' cold-start costs ([`CostModel::other_regions`]).
    pub other_regions: bool,
    /// Pod allocation times ([`CostModel::pod_allocation`]).
    pub allocation_times: bool,
    /// It learns from the replay's own past (idle-time histograms, timer periods, pool
    /// demand, yesterday's peaks), so a replay measures it after a warm-up day by default.
    pub history: bool,
}

/// A policy: a keep-alive, and whichever of the narrow parts below it has. The engine asks
/// each part once, when it starts, and then asks only the parts the policy has.
pub trait Policy: KeepAlive + Send {
    /// The policy with its parameters, as `parse` reads it back.
    fn name(&self) -> String;

    /// What it needs of the workload and cost model.
    fn needs(&self) -> Needs {
        Needs::default()
    }

    /// Whether the policy decides for each function from that function's own history alone
    /// (no memory capacity, load, pools or other shared state), so that the engine may run
    /// disjoint sets of functions under separate copies of it (made by `parse(name())`) on
    /// separate cores, with the same results.
    fn per_function(&self) -> bool {
        false
    }

    /// Requests one pod serves at once, for every function, where the policy sets it (None:
    /// each function's own, from the workload).
    fn concurrency(&self) -> Option<u32> {
        None
    }

    /// Seconds every idle pod stays loaded after its last request, where that is all the
    /// policy does (no other part, nothing learned): the engine may then replay a function
    /// that is never idle that long minute by minute ([`crate::fluid`]).
    fn fixed_keep_alive(&self) -> Option<f64> {
        None
    }

    /// Its admission part: asynchronous requests held back.
    fn admission(&mut self) -> Option<&mut dyn Admission> {
        None
    }

    /// Its eviction part: loaded pods bounded by a memory capacity.
    fn eviction(&mut self) -> Option<&mut dyn Eviction> {
        None
    }

    /// Its pool part: pre-warmed pools per CPU-memory configuration.
    fn pools(&mut self) -> Option<&mut dyn PoolSizing> {
        None
    }

    /// Its placement part: cold starts sent to other regions.
    fn placement(&mut self) -> Option<&mut dyn RegionPlacement> {
        None
    }

    /// Its provisioning part: pods started ahead of the minutes that are forecast to need them.
    fn provisioning(&mut self) -> Option<&mut dyn Provisioning> {
        None
    }
}

/// Keep-alive: what a pod does between requests. Every policy has one.
pub trait KeepAlive {
    /// A request of `func` arrives at `t` (before it is placed).
    fn on_arrival(&mut self, _func: u32, _f: &Function, _t: f64) {}

    /// The pod's idle plan after a request.
    fn after_request(&mut self, e: &Ended) -> Idle;
}

/// Admission: whether to hold an asynchronous request (never asked for synchronous ones). The
/// engine asks when the request arrives and again each time a hold ends, with the load of that
/// moment, so a request can be held past a peak; it is dispatched when the answer is 0. The
/// engine tracks the platform's load for a policy with this part.
pub trait Admission {
    /// Seconds to hold the request of `func` now, at `t`, having held it `waited` seconds
    /// since it arrived; 0 dispatches it.
    fn delay(&mut self, func: u32, f: &Function, t: f64, waited: f64, load: &Load) -> f64;

    /// The longest a request may wait before it starts executing: one that starts later
    /// (held to the deadline, then waiting for a cold start) counts as a missed deadline.
    fn deadline(&self) -> f64 {
        f64::INFINITY
    }
}

/// Eviction under a memory capacity: a cold start that does not fit evicts idle pods, lowest
/// [`Eviction::priority`] first.
pub trait Eviction {
    /// Memory (MB) the loaded pods must fit in (asked once).
    fn capacity_mb(&self) -> f64;

    /// The eviction priority of a pod just used (the highest is kept longest; ties evict the
    /// lower function index, then the older pod).
    fn priority(&mut self, used: &Used) -> f64;

    /// An idle pod of this priority was evicted.
    fn evicted(&mut self, _priority: f64) {}

    /// Whether a use gives every loaded pod of the function the priority of the pod used (one
    /// priority per function, as FaasCache's simulator sets it), not only that pod.
    fn per_function(&self) -> bool {
        false
    }

    /// A pod of `func` that served `uses` requests left, evicted or at the end of its
    /// keep-alive.
    fn left(&mut self, _func: u32, _uses: u64) {}
}

/// Pool sizing: pre-warmed pools per CPU-memory configuration, sized at every minute.
pub trait PoolSizing {
    /// Seconds a pool takes to create a pod (pools refill after each pod taken; asked once).
    fn refill(&self) -> f64;

    /// The pool size of configuration `config` for `minute`, told how many cold starts drew
    /// on it in the minute before.
    fn size(&mut self, config: usize, minute: u32, last_demand: u32) -> u32;
}

/// Provisioning: before each minute, how many pods some functions should have loaded through
/// it. The engine starts the missing ones `lead` seconds before the minute begins and keeps
/// that many loaded to its end; the keep-alive goes on from there.
pub trait Provisioning {
    /// Seconds before a minute begins that its pods are started (asked once).
    fn lead(&self) -> f64;

    /// The functions with a target for `minute`, and each one's pods, appended to `out`.
    fn targets(&mut self, minute: u32, out: &mut Vec<(u32, u32)>);
}

/// Placement across regions, asked only when the cost model has other regions. A request
/// goes to one of its function's pods with room as the routing says, wherever the pod is.
pub trait RegionPlacement {
    /// Where a cold start of `func` at `t` starts its pod: `Some` sends it to another region,
    /// `None` keeps it home.
    fn place(&mut self, func: u32, f: &Function, costs: &dyn CostModel, t: f64) -> Option<Remote>;
}

/// A cold start sent to another region.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Remote {
    /// The region, 1.. in [`CostModel::other_regions`].
    pub region: usize,
    /// Seconds each request on the pod pays on top.
    pub latency: f64,
    /// That region's pressure when the cold start arrives
    /// ([`CostModel::cold_start_in_under`]); `None`: its costs free of load.
    pub pressure: Option<f64>,
}

/// A policy the catalogue lists: its name, parameters and what it does, and how it is read
/// from its parameters. Each policy's file implements it; [`CATALOG`] lists them.
pub trait Catalogued: Policy + Sized + 'static {
    /// The name on the command line.
    const NAME: &'static str;
    /// Its parameters with their defaults, as `--help` shows them (`[:key=default,...]`).
    const PARAMS: &'static str;
    /// What it does, in one line (the README's table).
    const SUMMARY: &'static str;
    /// Reads its parameters for a workload of `functions` functions.
    fn from_params(p: &mut Params, functions: usize) -> Result<Self>;
}

/// One row of the catalogue.
pub struct Entry {
    pub name: &'static str,
    pub params: &'static str,
    pub summary: &'static str,
    build: fn(&mut Params, usize) -> Result<Box<dyn Policy>>,
}

fn build<P: Catalogued>(p: &mut Params, functions: usize) -> Result<Box<dyn Policy>> {
    Ok(Box::new(P::from_params(p, functions)?))
}

const fn entry<P: Catalogued>() -> Entry {
    Entry {
        name: P::NAME,
        params: P::PARAMS,
        summary: P::SUMMARY,
        build: build::<P>,
    }
}

/// Every policy: the one place that lists them. The name list in errors, `--help` and the
/// README's table come from it.
pub const CATALOG: &[Entry] = &[
    entry::<FixedKeepAlive>(),
    entry::<HybridHistogram>(),
    entry::<TimerPrewarm>(),
    entry::<ForecastPrewarm>(),
    entry::<FaasCache>(),
    entry::<PeakShave>(),
    entry::<PoolPredict>(),
    entry::<CrossRegion>(),
];

/// The known policies and their parameters, for `--help` and errors.
pub fn known() -> String {
    CATALOG
        .iter()
        .map(|e| format!("{}{}", e.name, e.params))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The README's table of policies (a test checks the README holds it).
pub fn readme_table() -> String {
    let mut t = String::from("| policy | parameters (defaults) | what it does |\n|---|---|---|\n");
    for e in CATALOG {
        t.push_str(&format!(
            "| `{}` | `{}` | {} |\n",
            e.name, e.params, e.summary
        ));
    }
    t
}

/// Reads `NAME[:key=value,...]`.
pub fn parse(spec: &str, functions: usize) -> Result<Box<dyn Policy>> {
    let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let mut params = Params::new(spec, rest)?;
    let Some(e) = CATALOG.iter().find(|e| e.name == name) else {
        bail!("unknown policy '{}' (known: {})", clip(name), known());
    };
    let p = (e.build)(&mut params, functions)?;
    params.finish()?;
    Ok(p)
}

/// A policy as given on the command line, checked when it is read (before any workload is
/// loaded) and built for a workload by [`Spec::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    text: String,
    needs: Needs,
}

impl Spec {
    /// Reads and checks `NAME[:key=value,...]`: an unknown name or a bad parameter fails here.
    pub fn parse(text: &str) -> Result<Self> {
        let p = parse(text, 0)?;
        Ok(Self {
            text: text.to_string(),
            needs: p.needs(),
        })
    }

    /// The policy, for a workload of `functions` functions.
    pub fn build(&self, functions: usize) -> Result<Box<dyn Policy>> {
        parse(&self.text, functions)
    }

    pub fn needs(&self) -> Needs {
        self.needs
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::str::FromStr for Spec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// `key=value` parameters of one policy; each read once, the rest refused.
pub struct Params {
    spec: String,
    pairs: Vec<(String, String)>,
    /// Every parameter the policy asked for, given or not, and its kind.
    asked: Vec<(String, Kind)>,
}

impl Params {
    fn new(spec: &str, rest: &str) -> Result<Self> {
        let mut pairs = Vec::new();
        for kv in rest.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("policy '{spec}': expected key=value, got '{kv}'"))?;
            pairs.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(Self {
            spec: clip_to(spec, 160),
            pairs,
            asked: Vec::new(),
        })
    }

    fn take(&mut self, key: &str, kind: Kind) -> Option<String> {
        self.asked.push((key.to_string(), kind));
        let i = self.pairs.iter().position(|(k, _)| k == key)?;
        Some(self.pairs.remove(i).1)
    }

    /// Whether parameter `key` was given (not yet read).
    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// A parameter as text.
    pub fn text(&mut self, key: &str) -> Option<String> {
        self.take(key, Kind::Other)
    }

    /// A duration parameter in seconds, at most `max` seconds (checked after its unit is
    /// applied; the limit is named in the error).
    pub fn seconds(&mut self, key: &str, default: f64, max: f64) -> Result<f64> {
        let Some(v) = self.take(key, Kind::Duration) else {
            return Ok(default);
        };
        let s = parse_duration(&v)
            .with_context(|| format!("policy '{}': parameter {key}", self.spec))?;
        if s > max {
            bail!(
                "policy '{}': parameter {key} = {} is above its limit of {}",
                self.spec,
                clip(&v),
                fmt_duration(max)
            );
        }
        Ok(s)
    }

    /// A plain number parameter in `0..=max`.
    pub fn number(&mut self, key: &str, default: f64, max: f64) -> Result<f64> {
        self.bounded(key, Kind::Number, max, |x| x.is_finite())
            .map(|v| v.unwrap_or(default))
    }

    /// A whole-number parameter in `0..=max`.
    pub fn integer(&mut self, key: &str, default: u64, max: u64) -> Result<u64> {
        self.bounded(key, Kind::Integer, max as f64, |x| x.fract() == 0.0)
            .map(|v| v.map_or(default, |x| x as u64))
    }

    /// A number parameter (when given) in `0..=max` that is `ok`.
    fn bounded(
        &mut self,
        key: &str,
        kind: Kind,
        max: f64,
        ok: fn(f64) -> bool,
    ) -> Result<Option<f64>> {
        let Some(v) = self.take(key, kind) else {
            return Ok(None);
        };
        let what = if kind == Kind::Integer {
            "a whole number"
        } else {
            "a number"
        };
        v.parse::<f64>()
            .ok()
            .filter(|x| ok(*x) && *x >= 0.0 && *x <= max)
            .map(Some)
            .with_context(|| {
                format!(
                    "policy '{}': parameter {key} must be {what} from 0 to {max}, got '{v}'",
                    self.spec
                )
            })
    }

    /// A yes/no parameter.
    pub fn flag(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.take(key, Kind::Other).as_deref() {
            None => Ok(default),
            Some("yes" | "true" | "1") => Ok(true),
            Some("no" | "false" | "0") => Ok(false),
            Some(v) => bail!(
                "policy '{}': parameter {key} is yes or no, got '{v}'",
                self.spec
            ),
        }
    }

    fn finish(self) -> Result<()> {
        if let Some((k, _)) = self.pairs.first() {
            bail!("policy '{}': unknown parameter '{k}'", self.spec);
        }
        Ok(())
    }
}

/// The first characters of a long value, for messages.
fn clip(s: &str) -> String {
    clip_to(s, 40)
}

fn clip_to(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Upper bounds of policy parameters: long enough for any sensible setting, short enough that
/// what a policy allocates or holds from them stays small.
pub mod limits {
    use coldstart_trace::schema::TRACE_SECONDS;
    /// Keep-alive and learning periods: the trace's length.
    pub const PERIOD: f64 = TRACE_SECONDS;
    /// Windows a policy keeps a histogram or history over (one counter a minute a function).
    pub const WINDOW: f64 = 86_400.0;
    /// Delays, leads, slacks, refill times and latencies.
    pub const SHORT: f64 = 3_600.0;
}

/// `500ms`, `60s`, `10m`, `2h`, `1d` or plain seconds.
pub fn parse_duration(s: &str) -> Result<f64> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let v: f64 = num
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite() && *x >= 0.0)
        .with_context(|| format!("'{}' is not a duration (like 500ms, 60s, 10m, 2h)", clip(s)))?;
    let scale = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => bail!("'{s}': unknown unit '{unit}' (ms, s, m, h, d)"),
    };
    let seconds = v * scale;
    if !seconds.is_finite() {
        bail!("'{}': too long a duration", clip(s));
    }
    Ok(seconds)
}

/// Seconds written back in the largest of `h`, `m`, `s`, `ms` that is exact (minutes from 2 on,
/// so the platform's keep-alive reads `60s`).
pub fn fmt_duration(s: f64) -> String {
    if s == 0.0 {
        return "0s".into();
    }
    for (unit, scale, from) in [("h", 3600.0, 1.0), ("m", 60.0, 2.0), ("s", 1.0, 1.0)] {
        let v = s / scale;
        if v >= from && (v - v.round()).abs() < 1e-9 {
            return format!("{}{unit}", v.round());
        }
    }
    format!("{}ms", (s * 1e3 * 1e6).round() / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded_after_their_unit_per_parameter() {
        let huge = format!("hybrid-histogram:range={}d", "9".repeat(308));
        let e = format!("{:#}", parse(&huge, 3).err().unwrap());
        assert!(
            e.contains("parameter range") && e.contains("too long"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            parse("hybrid-histogram:range=100000d", 3).err().unwrap()
        );
        assert!(
            e.contains("range = 100000d is above its limit of 24h"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            parse(&format!("fixed-keepalive:ttl={}d", "9".repeat(308)), 3)
                .err()
                .unwrap()
        );
        assert!(e.contains("parameter ttl"), "{e}");
        let e = format!("{:#}", parse("timer-prewarm:lead=2h", 3).err().unwrap());
        assert!(e.contains("limit of 1h"), "{e}");
        let e = format!("{:#}", parse("pool-predict:quantile=1.5", 3).err().unwrap());
        assert!(e.contains("from 0 to 1"), "{e}");
        assert!(parse("hybrid-histogram:range=24h", 3).is_ok());
        assert!(parse("fixed-keepalive:ttl=31d", 3).is_ok());
        // sweeps: points bounded, not silently raised
        assert!(sweep("fixed-keepalive:ttl=10s..2h", 100_000).is_err());
        assert!(sweep("fixed-keepalive:ttl=10s..2h", 1).is_err());
        assert_eq!(sweep("fixed-keepalive:ttl=10s..2h", 2).unwrap().len(), 2);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), 60.0);
        assert_eq!(parse_duration("10m").unwrap(), 600.0);
        assert_eq!(parse_duration("2h").unwrap(), 7200.0);
        assert_eq!(parse_duration("500ms").unwrap(), 0.5);
        assert_eq!(parse_duration("90").unwrap(), 90.0);
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
        // finite as written, infinite in seconds
        let huge = format!("{}d", "9".repeat(308));
        let e = parse_duration(&huge).unwrap_err().to_string();
        assert!(e.contains("too long") && e.len() < 200, "{e}");
        assert_eq!(fmt_duration(600.0), "10m");
        assert_eq!(fmt_duration(90.0), "90s");
        assert_eq!(fmt_duration(60.0), "60s");
        assert_eq!(fmt_duration(0.0), "0s");
        assert_eq!(fmt_duration(7200.0), "2h");
        assert_eq!(fmt_duration(0.5), "500ms");
    }

    #[test]
    fn specs_round_trip_and_errors_name_the_parameter() {
        for spec in [
            "fixed-keepalive:ttl=10m,restart=yes",
            "hybrid-histogram:range=4h,cv=2,head=5,tail=99,margin=10,oob=50,min-samples=10",
            "timer-prewarm:ttl=60s,lead=5s,slack=30s,learn=1h",
            "faascache:capacity=4096",
            "faascache:capacity=4096,evict=lru",
            "faascache:capacity=4096,evict=size",
            "faascache:capacity=4096,evict=freq",
            "faascache:capacity=4096,evict=ttl,ttl=10m",
            "fixed-keepalive:ttl=10m,restart=yes,capacity=65536",
            "peak-shave:max-delay=30s,limit=auto,ttl=60s",
            "peak-shave:max-delay=2m,limit=40,ttl=10m",
            "pool-predict:window=1h,quantile=0.95,size=auto,refill=10s,ttl=60s",
            "pool-predict:window=30m,quantile=0.5,size=4,refill=0s,ttl=10m",
            "cross-region:latency=50ms,ttl=60s,capacity=1,route=time",
            "cross-region:latency=200ms,ttl=10m,capacity=0.25,route=once",
        ] {
            assert_eq!(parse(spec, 3).unwrap().name(), spec);
        }
        assert_eq!(
            parse("fixed-keepalive", 1).unwrap().name(),
            "fixed-keepalive:ttl=60s,restart=yes"
        );
        let e = |s: &str| format!("{:#}", parse(s, 1).err().unwrap());
        assert!(e("lru").contains("unknown policy 'lru'"));
        assert!(e("fixed-keepalive:tll=5s").contains("unknown parameter 'tll'"));
        assert!(e("fixed-keepalive:ttl=5x").contains("parameter ttl"));
        assert!(e("fixed-keepalive:ttl").contains("expected key=value"));
        assert!(e("faascache:capacity=1,evict=lfu").contains("parameter evict is gd, lru"));
        assert!(e("faascache:capacity=1,ttl=1m").contains("add evict=ttl"));
        assert!(e("fixed-keepalive:capacity=0").contains("parameter capacity"));
        assert!(e("hybrid-histogram:min-samples=2.5").contains("whole number"));
        assert!(e("cross-region:route=near").contains("parameter route is time or once"));
    }
}

#[cfg(test)]
mod catalogue_tests {
    use super::*;

    #[test]
    fn the_readme_table_and_the_name_list_come_from_the_catalogue() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .unwrap();
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's policy table differs from the catalogue; put this in its place:\n{table}"
        );
        // Every entry parses with its defaults (where it has them) and names itself.
        for e in CATALOG {
            let spec = if e.params.starts_with('[') {
                e.name.to_string()
            } else {
                format!("{}:capacity=1024", e.name)
            };
            let p = parse(&spec, 2).unwrap();
            assert!(
                p.name().starts_with(&format!("{}:", e.name)),
                "{}",
                p.name()
            );
            assert!(known().contains(&format!("{}{}", e.name, e.params)));
        }
        // What the policies need is declared, not guessed from their names.
        assert!(Spec::parse("cross-region").unwrap().needs().other_regions);
        assert!(
            Spec::parse("pool-predict")
                .unwrap()
                .needs()
                .allocation_times
        );
        assert_eq!(
            Spec::parse("fixed-keepalive").unwrap().needs(),
            Needs::default()
        );
        let e = Spec::parse("fixd-keepalive").unwrap_err().to_string();
        assert!(
            e.contains("unknown policy 'fixd-keepalive'") && e.contains("timer-prewarm"),
            "{e}"
        );
    }
}
