//! The pod model: each function's requests are served by pods that start cold, serve up to
//! `concurrency` requests at once, and are deleted after 60 s without work. Every cold
//! start this model makes is one row of the cold-start table, and every request names the
//! pod that served it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use coldstart_trace::paper::KEEP_ALIVE_S;

use crate::catalog::FunctionSpec;
use crate::costs::{cold_start_costs, ln_sample, micros};
use crate::profile::{LogNormal, RegionProfile};
use crate::rng::mix;
use crate::workload::synthetic::arrivals;

/// Chance that a scale-up starts a second pod for the same request.
const EXTRA_POD: f64 = 0.03;

/// Per-minute tables the generator writes, in this order (see [`Cell::values`]).
pub const MINUTE_TABLES: [&str; 24] = [
    "requests",
    "num_pods",
    "num_cold_starts",
    "totalCost_avg",
    "totalCost_quantile_050",
    "totalCost_quantile_099",
    "cpu_usage_avg",
    "cpu_usage_quantile_050",
    "cpu_usage_quantile_099",
    "totalCost_cold_start_avg",
    "totalCost_cold_start_quantile_050",
    "totalCost_cold_start_quantile_099",
    "podAllocationCost_avg",
    "podAllocationCost_quantile_050",
    "podAllocationCost_quantile_099",
    "deployCodeCost_avg",
    "deployCodeCost_quantile_050",
    "deployCodeCost_quantile_099",
    "deployDependencyCost_avg",
    "deployDependencyCost_quantile_050",
    "deployDependencyCost_quantile_099",
    "schedulingCost_avg",
    "schedulingCost_quantile_050",
    "schedulingCost_quantile_099",
];

/// One cold start.
#[derive(Debug, Clone)]
pub struct ColdStart {
    pub time: f64,
    pub func: u32,
    pub cluster: u8,
    pub request_id: u128,
    pub pod_serial: u64,
    /// total, podAllocation, deployCode, deployDependency, scheduling.
    pub costs: [f64; 5],
}

/// One function's minute: the values of [`MINUTE_TABLES`] (NaN where empty).
#[derive(Debug, Clone)]
pub struct Cell {
    pub func: u32,
    pub minute_of_day: u16,
    pub values: [f64; 24],
}

/// What one function produced in one day.
#[derive(Default)]
pub struct DayOutput {
    pub cold_starts: Vec<ColdStart>,
    pub cells: Vec<Cell>,
    /// Per-request CSV rows (no header), when requested for this day.
    pub request_rows: Vec<u8>,
    pub requests: u64,
    /// Pods serving requests, summed over the day's minutes (the `num_pods` table's sum).
    pub pod_minutes: u64,
    /// Utility ratios (spec section 3, fig 17) of the pods deleted this day.
    pub utilities: Vec<f32>,
}

struct Pod {
    serial: u64,
    cluster: u8,
    /// Time of its cold start, its cost, and the arrival of the last request it served.
    created: f64,
    cold_cost: f64,
    last_arrival: f64,
    /// Requests it served (a pod that served none has no request rows to measure).
    served: u32,
    ready_at: f64,
    active: Vec<f64>,
    last_end: f64,
    minute_seen: i64,
}

#[derive(Default)]
struct MinuteAgg {
    minute: i64,
    requests: u32,
    pods: u32,
    cold: u32,
    total_cost: Vec<f64>,
    cpu: Vec<f64>,
    cs: [Vec<f64>; 5],
}

/// A function's state across the days of the trace.
pub struct FunctionSim {
    rng: ChaCha8Rng,
    pods: Vec<Pod>,
    next_pod: u64,
    next_request: u64,
    id_salt: u64,
    pub requests_total: u64,
    pub cold_starts_total: u64,
}

impl FunctionSim {
    pub fn new(rng: ChaCha8Rng, spec: &FunctionSpec, region_index: u64, seed: u64) -> Self {
        Self {
            rng,
            pods: Vec::new(),
            next_pod: 0,
            next_request: 0,
            id_salt: mix(seed ^ mix(region_index) ^ mix(spec.index as u64 + 1)),
            requests_total: 0,
            cold_starts_total: 0,
        }
    }

    fn request_id(&self, n: u64) -> u128 {
        let a = mix(self.id_salt ^ n);
        let b = mix(a ^ 0xA5A5_5A5A_0F0F_F0F0);
        ((a as u128) << 64) | b as u128
    }

    /// Simulates one day; `write_requests` asks for the per-request rows, `cells` for the
    /// per-minute aggregates.
    pub fn simulate_day(
        &mut self,
        spec: &FunctionSpec,
        profile: &RegionProfile,
        day: u32,
        write_requests: bool,
        cells: bool,
    ) -> DayOutput {
        let arrivals = arrivals(&mut self.rng, spec, profile, day);
        let mut out = DayOutput::default();
        let mut agg = MinuteAgg {
            minute: -1,
            ..Default::default()
        };
        let mut fmt = RowFormatter::default();
        for &t in &arrivals {
            let minute = (t / 60.0).floor() as i64;
            if minute != agg.minute {
                if cells && agg.minute >= 0 {
                    out.cells.push(flush(&mut agg, spec.index));
                }
                agg.minute = minute;
            }
            let req_no = self.next_request;
            self.next_request += 1;
            // Free finished slots and delete pods idle for the keep-alive.
            let utilities = &mut out.utilities;
            self.pods.retain_mut(|p| {
                p.active.retain(|end| *end > t);
                let gone = p.active.is_empty() && p.last_end + KEEP_ALIVE_S <= t && p.ready_at <= t;
                if gone {
                    utilities.extend(p.utility());
                }
                !gone
            });
            let conc = spec.concurrency as usize;
            let idx = match self.pods.iter().position(|p| p.active.len() < conc) {
                Some(i) => i,
                None => {
                    let n_new = if self.rng.gen::<f64>() < EXTRA_POD {
                        2
                    } else {
                        1
                    };
                    let rid = self.request_id(req_no);
                    for _ in 0..n_new {
                        let costs = cold_start_costs(&mut self.rng, spec, profile);
                        let cluster = if self.rng.gen::<f64>() < 0.85 {
                            spec.home_cluster
                        } else {
                            self.rng.gen_range(1..=4)
                        };
                        let serial = spec.index as u64 * 1_000_000 + self.next_pod % 1_000_000;
                        self.next_pod += 1;
                        let ready_at = t + costs[0];
                        self.pods.push(Pod {
                            serial,
                            cluster,
                            created: t,
                            cold_cost: costs[0],
                            last_arrival: t,
                            served: 0,
                            ready_at,
                            active: Vec::with_capacity(conc.min(8)),
                            last_end: ready_at,
                            minute_seen: -1,
                        });
                        out.cold_starts.push(ColdStart {
                            time: t,
                            func: spec.index,
                            cluster,
                            request_id: rid,
                            pod_serial: serial,
                            costs,
                        });
                        agg.cold += 1;
                        if cells {
                            for (v, c) in agg.cs.iter_mut().zip(costs) {
                                v.push(c);
                            }
                        }
                    }
                    self.cold_starts_total += n_new;
                    self.pods.len() - n_new as usize
                }
            };
            let exec = micros(ln_sample(&mut self.rng, spec.exec, 1.0)).max(1e-6);
            let worker_cost = micros(ln_sample(
                &mut self.rng,
                LogNormal {
                    median: 0.0002,
                    sigma: 0.5,
                },
                1.0,
            ));
            let total_worker = micros(exec + worker_cost);
            let cpu_limit = spec.cpu_limit as f64 / 1000.0;
            let cpu = micros(
                (cpu_limit
                    * spec.cpu_share
                    * (0.3 * self.rng.sample::<f64, _>(StandardNormal)).exp())
                .min(cpu_limit),
            );
            let mem_limit = spec.memory_limit as f64;
            let mem = micros(
                (mem_limit
                    * spec.mem_share
                    * (0.1 * self.rng.sample::<f64, _>(StandardNormal)).exp())
                .min(mem_limit),
            );
            let pod = &mut self.pods[idx];
            let start = t.max(pod.ready_at);
            let wait = start - t;
            let end = start + total_worker;
            pod.active.push(end);
            pod.last_end = pod.last_end.max(end);
            pod.last_arrival = t;
            pod.served += 1;
            agg.requests += 1;
            if pod.minute_seen != minute {
                pod.minute_seen = minute;
                agg.pods += 1;
                out.pod_minutes += 1;
            }
            if cells {
                agg.total_cost.push(total_worker);
                agg.cpu.push(cpu);
            }
            if write_requests {
                let (serial, cluster) = (pod.serial, pod.cluster);
                let rid = self.request_id(req_no);
                fmt.row(
                    &mut out.request_rows,
                    &mut self.rng,
                    spec,
                    RequestFacts {
                        t,
                        rid,
                        cluster,
                        serial,
                        total_worker,
                        worker_cost,
                        exec,
                        wait,
                        cpu,
                        mem,
                    },
                );
            }
        }
        if cells && agg.minute >= 0 {
            out.cells.push(flush(&mut agg, spec.index));
        }
        out.requests = arrivals.len() as u64;
        self.requests_total += out.requests;
        out
    }
}

impl FunctionSim {
    /// Utility ratios of the pods still loaded when the trace ends (their lifetime so far).
    pub fn live_utilities(&self) -> Vec<f32> {
        self.pods.iter().filter_map(Pod::utility).collect()
    }
}

impl Pod {
    /// (lifetime − keep-alive) / cold start time, the lifetime running from the cold start to
    /// the last request served plus the keep-alive, as fig 17 measures it from the release
    /// (whose `time_worker` is a request's arrival); undefined for a cold start of 0 s and for a
    /// pod that served nothing (fig 17 finds no request rows for it).
    fn utility(&self) -> Option<f32> {
        (self.cold_cost > 0.0 && self.served > 0)
            .then(|| ((self.last_arrival - self.created) / self.cold_cost) as f32)
    }
}

fn flush(agg: &mut MinuteAgg, func: u32) -> Cell {
    let mut values = [f64::NAN; 24];
    values[0] = agg.requests as f64;
    values[1] = agg.pods as f64;
    if agg.cold > 0 {
        values[2] = agg.cold as f64;
    }
    let mut put = |slot: usize, v: &mut Vec<f64>| {
        if !v.is_empty() {
            let [a, q50, q99] = stats(v);
            values[slot] = a;
            values[slot + 1] = q50;
            values[slot + 2] = q99;
            v.clear();
        }
    };
    put(3, &mut agg.total_cost);
    put(6, &mut agg.cpu);
    for (k, v) in agg.cs.iter_mut().enumerate() {
        put(9 + 3 * k, v);
    }
    let minute_of_day = agg.minute.rem_euclid(1440) as u16;
    agg.requests = 0;
    agg.pods = 0;
    agg.cold = 0;
    Cell {
        func,
        minute_of_day,
        values,
    }
}

/// Mean and the 0.5 and 0.99 quantiles with linear interpolation (pandas' default).
pub fn stats(v: &mut [f64]) -> [f64; 3] {
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        let pos = p * (n - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(n - 1);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    [mean, q(0.5), q(0.99)]
}

struct RequestFacts {
    t: f64,
    rid: u128,
    cluster: u8,
    serial: u64,
    total_worker: f64,
    worker_cost: f64,
    exec: f64,
    wait: f64,
    cpu: f64,
    mem: f64,
}

#[derive(Default)]
struct RowFormatter {
    ryu: ryu::Buffer,
    itoa: itoa::Buffer,
}

impl RowFormatter {
    fn f(&mut self, out: &mut Vec<u8>, v: f64) {
        out.extend_from_slice(self.ryu.format_finite(v).as_bytes());
    }

    fn i(&mut self, out: &mut Vec<u8>, v: i64) {
        out.extend_from_slice(self.itoa.format(v).as_bytes());
    }

    fn row(
        &mut self,
        out: &mut Vec<u8>,
        rng: &mut ChaCha8Rng,
        spec: &FunctionSpec,
        r: RequestFacts,
    ) {
        use std::io::Write;
        // Frontend logs are missing for internal invocations and for a few others.
        let frontend = spec.via_frontend && rng.gen::<f64>() > 0.03;
        let fe = if frontend {
            let ln = |rng: &mut ChaCha8Rng, m: f64, s: f64| {
                micros(ln_sample(
                    rng,
                    LogNormal {
                        median: m,
                        sigma: s,
                    },
                    1.0,
                ))
            };
            Some([
                ln(rng, 0.0004, 0.5),
                ln(rng, 0.002, 0.6),
                ln(rng, 0.00002, 0.8),
                ln(rng, 0.00001, 0.8),
            ])
        } else {
            None
        };
        self.f(out, r.t);
        out.push(b',');
        if let Some([fc, bc, _, _]) = fe {
            self.f(out, micros((r.t - fc - bc).max(0.0)));
        }
        let _ = write!(out, ",{:032x},{},", r.rid, r.cluster);
        self.i(out, spec.func_name);
        let _ = write!(out, ",{}-{:010},", spec.pool_name, r.serial);
        self.i(out, spec.user_id);
        out.push(b',');
        self.f(out, r.total_worker);
        out.push(b',');
        self.f(out, r.worker_cost);
        out.push(b',');
        self.f(out, r.exec);
        out.push(b',');
        if let Some([fc, bc, rb, wr]) = fe {
            self.f(out, micros(fc + bc + rb + wr + r.wait + r.total_worker));
            for v in [fc, bc, rb, wr] {
                out.push(b',');
                self.f(out, v);
            }
        } else {
            out.extend_from_slice(b",,,,");
        }
        out.push(b',');
        self.f(out, r.cpu);
        out.push(b',');
        self.f(out, r.mem);
        out.push(b',');
        if frontend {
            let size = ln_sample(
                rng,
                LogNormal {
                    median: spec.body_median,
                    sigma: 0.8,
                },
                1.0,
            )
            .round() as i64;
            self.i(out, size);
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_pandas_linear_interpolation() {
        // pandas.Series([1, 2, 3, 4, 10]).quantile([0.5, 0.99]) == [3.0, 9.76]
        let mut v = vec![10.0, 2.0, 4.0, 1.0, 3.0];
        let [mean, q50, q99] = stats(&mut v);
        assert!((mean - 4.0).abs() < 1e-12);
        assert!((q50 - 3.0).abs() < 1e-12);
        assert!((q99 - 9.76).abs() < 1e-12);
        let [m, a, b] = stats(&mut [7.0]);
        assert_eq!((m, a, b), (7.0, 7.0, 7.0));
    }
}
