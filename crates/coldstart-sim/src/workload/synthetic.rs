//! The synthetic workload model as a workload: the functions of the generator's catalog
//! (owners, pools, runtimes, triggers, each with its arrival process and execution-time law),
//! with arrivals and execution times drawn from two random streams per function, separate from
//! everything a platform decides.

use std::ops::Range;

use anyhow::Result;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;
use rand_distr::Poisson;

use super::{Function, Invocation, Workload};
use crate::catalog::{FunctionSpec, Kind, Workload as Arrivals};
use crate::costs::{ln_sample, micros};
use crate::engine::FluidDay;
use crate::profile::RegionProfile;
use crate::rng::stream;
use coldstart_trace::paper::{day_kind, DayKind, SECONDS_PER_DAY};

/// Salts of the two streams, so that neither is any other stream of the generator.
const ARRIVAL_SALT: u64 = 0xA221_7A15;
const EXEC_SALT: u64 = 0xE8EC_0710;
/// Salt of the seed of a never-idle function's pods' draws in the engine.
const FLUID_SALT: u64 = 0xF1D1_D0A7;

/// How busy `day` is against a weekday: `weekend` on weekends, the region's holiday factor on
/// the holiday.
fn day_factor(day: u32, weekend: f64, profile: &RegionProfile) -> f64 {
    match day_kind(day) {
        DayKind::Weekday => 1.0,
        DayKind::Weekend => weekend,
        DayKind::Holiday => profile.holiday_factor,
    }
}

/// Arrival times of `spec`'s requests on `day` (sorted), from the synthetic workload model:
/// its events, and the firings of its timer when it has one beside them.
pub fn arrivals<R: Rng>(
    rng: &mut R,
    spec: &FunctionSpec,
    profile: &RegionProfile,
    day: u32,
) -> Vec<f64> {
    let mut out = Vec::new();
    process(rng, &spec.workload, profile, day, &mut out);
    if let Some(also) = &spec.also {
        process(rng, also, profile, day, &mut out);
        out.sort_unstable_by(f64::total_cmp);
    }
    out
}

/// Appends one arrival process's times on `day` to `out` (sorted among themselves).
fn process<R: Rng>(
    rng: &mut R,
    workload: &Arrivals,
    profile: &RegionProfile,
    day: u32,
    out: &mut Vec<f64>,
) {
    let d0 = day as f64 * SECONDS_PER_DAY;
    let d1 = d0 + SECONDS_PER_DAY;
    let start = out.len();
    match workload {
        Arrivals::Timer {
            period,
            offset,
            jitter,
            late_chance,
            late_max,
        } => {
            let mut k = ((d0 - offset) / period).ceil();
            loop {
                let fire = k * period + offset;
                if fire >= d1 {
                    break;
                }
                let mut t = fire + rng.gen::<f64>() * jitter;
                if *late_chance > 0.0 && rng.gen::<f64>() < *late_chance {
                    t += rng.gen_range(1.0..late_max.max(1.0 + 1e-9));
                }
                if t >= d0 && t < d1 {
                    out.push(micros(t));
                }
                k += 1.0;
            }
        }
        Arrivals::Poisson {
            rate,
            cycle,
            weekend,
            burst_min,
            burst_mean,
            burst_spread,
        } => {
            let day_factor = day_factor(day, *weekend, profile);
            let p_extra = burst_mean / (1.0 + burst_mean);
            for m in 0..1440 {
                let start = d0 + m as f64 * 60.0;
                let lambda = rate * day_factor * cycle.at(start + 30.0) * 60.0;
                let n = if lambda <= 0.0 {
                    0
                } else if lambda < 1e-3 {
                    u64::from(rng.gen::<f64>() < lambda)
                } else {
                    Poisson::new(lambda).expect("positive rate").sample(rng) as u64
                };
                for _ in 0..n {
                    let t = start + rng.gen::<f64>() * 60.0;
                    out.push(micros(t));
                    let mut extra = burst_min.saturating_sub(1);
                    if *burst_mean > 0.0 {
                        while rng.gen::<f64>() < p_extra {
                            extra += 1;
                        }
                    }
                    for _ in 0..extra {
                        let u = t + rng.gen::<f64>() * burst_spread;
                        if u < d1 {
                            out.push(micros(u));
                        }
                    }
                }
            }
            out[start..].sort_unstable_by(f64::total_cmp);
        }
        Arrivals::Sessions {
            period,
            length,
            every,
            phase,
            jitter,
        } => {
            let per_session = (length / period).ceil().max(1.0) as u64;
            // The first session that may still bring a request on this day.
            let mut k = ((d0 - phase - length) / every).floor();
            loop {
                let s = k * every + phase;
                if s >= d1 {
                    break;
                }
                for j in 0..per_session {
                    let t = s + j as f64 * period + rng.gen::<f64>() * jitter;
                    if t >= d0 && t < d1 {
                        out.push(micros(t));
                    }
                }
                k += 1.0;
            }
            out[start..].sort_unstable_by(f64::total_cmp);
        }
    }
}

/// A never-idle function's day minute by minute: each minute's rate (requests/s) and its
/// requests, Poisson at that rate, drawn from `rng` (the function's arrival stream).
pub fn steady_minutes<R: Rng>(
    rng: &mut R,
    spec: &FunctionSpec,
    profile: &RegionProfile,
    day: u32,
) -> (Vec<f64>, Vec<u32>) {
    let Arrivals::Poisson {
        rate,
        cycle,
        weekend,
        ..
    } = &spec.workload
    else {
        panic!("a never-idle function's arrivals are Poisson");
    };
    let d0 = day as f64 * SECONDS_PER_DAY;
    let factor = day_factor(day, *weekend, profile);
    let rates: Vec<f64> = (0..1440)
        .map(|m| rate * factor * cycle.at(d0 + m as f64 * 60.0 + 30.0))
        .collect();
    let requests = rates
        .iter()
        .map(|r| crate::fluid::Fluid::requests(rng, *r).min(u64::from(u32::MAX)) as u32)
        .collect();
    (rates, requests)
}

/// Whether the workload model gives `spec` minute by minute when asked to.
pub fn is_steady(spec: &FunctionSpec) -> bool {
    spec.kind == Kind::Steady
}

/// The mean number of `spec`'s requests on `day` under the model of [`arrivals`] (a timer's
/// firings; Poisson events at the day's rate, the diurnal cycle averaging 1, times the
/// requests each event brings).
pub fn expected_per_day(spec: &FunctionSpec, profile: &RegionProfile, day: u32) -> f64 {
    let also = spec
        .also
        .as_ref()
        .map_or(0.0, |w| expected_of(w, profile, day));
    expected_of(&spec.workload, profile, day) + also
}

fn expected_of(workload: &Arrivals, profile: &RegionProfile, day: u32) -> f64 {
    match workload {
        Arrivals::Timer { period, .. } => SECONDS_PER_DAY / period.max(1e-3),
        Arrivals::Sessions {
            period,
            length,
            every,
            ..
        } => SECONDS_PER_DAY / every.max(1e-3) * (length / period.max(1e-3)).ceil().max(1.0),
        Arrivals::Poisson {
            rate,
            weekend,
            burst_min,
            burst_mean,
            ..
        } => {
            rate * day_factor(day, *weekend, profile)
                * SECONDS_PER_DAY
                * (f64::from((*burst_min).max(1)) + burst_mean)
        }
    }
}

/// One region of the synthetic workload model.
pub struct Synthetic {
    pub specs: Vec<FunctionSpec>,
    pub profile: RegionProfile,
    functions: Vec<Function>,
    days: Range<u32>,
    arrivals: Vec<ChaCha8Rng>,
    execs: Vec<ChaCha8Rng>,
    /// Seeds of each function's pods' draws when replayed minute by minute.
    fluid_seeds: Vec<u64>,
    /// Whether never-idle functions come minute by minute ([`Workload::set_fluid`]).
    fluid: bool,
}

impl Synthetic {
    pub fn new(
        region: &str,
        specs: Vec<FunctionSpec>,
        profile: RegionProfile,
        seed: u64,
        region_index: u64,
        days: Range<u32>,
    ) -> Self {
        let functions = specs
            .iter()
            .map(|s| Function {
                name: s.func_id.clone(),
                region: region.to_string(),
                trigger: s.primary_trigger(),
                runtime: s.runtime.to_string(),
                cpu_millis: s.cpu_limit,
                memory_mb: s.memory_limit,
                concurrency: s.concurrency,
            })
            .collect();
        let streams = |salt: u64| -> Vec<ChaCha8Rng> {
            specs
                .iter()
                .map(|s| stream(seed ^ salt, region_index, u64::from(s.index)))
                .collect()
        };
        let fluid_seeds = specs
            .iter()
            .map(|s| {
                crate::rng::mix(
                    seed ^ FLUID_SALT
                        ^ crate::rng::mix(region_index)
                        ^ crate::rng::mix(u64::from(s.index) + 1),
                )
            })
            .collect();
        Self {
            arrivals: streams(ARRIVAL_SALT),
            execs: streams(EXEC_SALT),
            fluid_seeds,
            fluid: false,
            functions,
            specs,
            profile,
            days,
        }
    }
}

impl Synthetic {
    /// The functions in groups of `size` (the last may be smaller), each group able to draw its
    /// own invocations apart from the others (on another core).
    pub fn groups(&mut self, size: usize) -> Vec<Group<'_>> {
        let size = size.max(1);
        self.specs
            .chunks(size)
            .zip(self.arrivals.chunks_mut(size))
            .zip(self.execs.chunks_mut(size))
            .enumerate()
            .map(|(g, ((specs, arrivals), execs))| Group {
                first: (g * size) as u32,
                specs,
                arrivals,
                execs,
                fluid_seeds: &self.fluid_seeds[g * size..g * size + specs.len()],
                profile: &self.profile,
            })
            .collect()
    }
}

/// Some consecutive functions of a [`Synthetic`] workload.
pub struct Group<'a> {
    /// Index of the first among the workload's functions.
    pub first: u32,
    pub specs: &'a [FunctionSpec],
    arrivals: &'a mut [ChaCha8Rng],
    execs: &'a mut [ChaCha8Rng],
    fluid_seeds: &'a [u64],
    profile: &'a RegionProfile,
}

impl Group<'_> {
    /// Function `i` of the group's invocations on `day`, numbered `i`, in time order. Drawn
    /// function by function, they are the same the whole workload gives, on the same streams.
    pub fn function_day(&mut self, i: usize, day: u32) -> Vec<Invocation> {
        invocations(
            &mut self.arrivals[i],
            &mut self.execs[i],
            &self.specs[i],
            self.profile,
            day,
            i as u32,
        )
        .collect()
    }

    /// Function `i` of the group's `day` minute by minute, numbered `i`, when it is never idle
    /// ([`is_steady`]); the same [`Synthetic::fluid_day`] gives.
    pub fn fluid_day(&mut self, i: usize, day: u32) -> Option<FluidDay> {
        let spec = &self.specs[i];
        is_steady(spec).then(|| {
            fluid_day(
                &mut self.arrivals[i],
                spec,
                self.profile,
                day,
                i as u32,
                self.fluid_seeds[i],
            )
        })
    }
}

/// A never-idle function's day as function `func`.
fn fluid_day(
    arr: &mut ChaCha8Rng,
    spec: &FunctionSpec,
    profile: &RegionProfile,
    day: u32,
    func: u32,
    seed: u64,
) -> FluidDay {
    let (rates, requests) = steady_minutes(arr, spec, profile, day);
    FluidDay {
        func,
        day,
        rates,
        requests,
        exec: spec.exec,
        seed,
    }
}

/// One function's invocations on `day`, as function `func`: arrivals from one stream,
/// execution times from the other.
/// A never-idle function comes request by request here too: each minute's requests (the
/// same draws as minute by minute) at uniform times, drawn from the execution stream.
fn invocations<'a>(
    arr: &mut ChaCha8Rng,
    ex: &'a mut ChaCha8Rng,
    spec: &'a FunctionSpec,
    profile: &RegionProfile,
    day: u32,
    func: u32,
) -> Box<dyn Iterator<Item = Invocation> + 'a> {
    if is_steady(spec) {
        let d = fluid_day(arr, spec, profile, day, func, 0);
        return Box::new(d.invocations(ex).into_iter());
    }
    Box::new(
        arrivals(arr, spec, profile, day)
            .into_iter()
            .map(move |t| Invocation {
                t,
                func,
                exec: micros(ln_sample(ex, spec.exec, 1.0)).max(1e-6),
            }),
    )
}

impl Workload for Synthetic {
    fn functions(&self) -> &[Function] {
        &self.functions
    }

    fn days(&self) -> Range<u32> {
        self.days.clone()
    }

    fn day(&mut self, day: u32) -> Result<Vec<Invocation>> {
        use rayon::prelude::*;
        // Each function on its own streams: the same invocations whatever the threads.
        let profile = &self.profile;
        let fluid = self.fluid;
        let per_function: Vec<Vec<Invocation>> = self
            .specs
            .par_iter()
            .zip(self.arrivals.par_iter_mut())
            .zip(self.execs.par_iter_mut())
            .enumerate()
            .map(|(i, ((spec, arr), ex))| {
                if fluid && is_steady(spec) {
                    return Vec::new();
                }
                invocations(arr, ex, spec, profile, day, i as u32).collect()
            })
            .collect();
        Ok(super::merge_day(
            &per_function,
            f64::from(day) * SECONDS_PER_DAY,
        ))
    }

    fn size_hint(&self, day: u32) -> Option<u64> {
        Some(
            self.specs
                .iter()
                .filter(|s| !(self.fluid && is_steady(s)))
                .map(|s| expected_per_day(s, &self.profile, day))
                .sum::<f64>() as u64,
        )
    }

    fn set_fluid(&mut self, on: bool) -> bool {
        self.fluid = on;
        self.specs.iter().any(is_steady)
    }

    fn fluid_day(&mut self, day: u32) -> Vec<FluidDay> {
        if !self.fluid {
            return Vec::new();
        }
        let profile = &self.profile;
        (0..self.specs.len())
            .filter(|i| is_steady(&self.specs[*i]))
            .map(|i| {
                fluid_day(
                    &mut self.arrivals[i],
                    &self.specs[i],
                    profile,
                    day,
                    i as u32,
                    self.fluid_seeds[i],
                )
            })
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "synthetic workload model: {} functions of region {}",
            self.functions.len(),
            self.functions.first().map_or("-", |f| f.region.as_str())
        )];
        let steady = self.specs.iter().filter(|s| is_steady(s)).count();
        if steady > 0 {
            notes.push(if self.fluid {
                format!(
                    "{steady} functions that are never idle replayed minute by minute by the \
                     fluid model (docs/coldstart.md, \"Functions that are never idle\"); their \
                     requests are not in the latency percentiles one by one"
                )
            } else {
                format!(
                    "{steady} functions that are never idle replayed request by request (a \
                     policy here is not a fixed keep-alive, so the fluid model does not apply)"
                )
            });
        }
        notes
    }
}
