//! The fluid model of a never-idle function against the exact engine, on functions as busy as
//! the trace's busiest: `cargo bench -p coldstart-sim --bench fluid [-- DAYS]` (default 1).
//! For each function and routing, the exact engine's time (drawing the requests and replaying
//! them under a 60 s keep-alive) and the model's, their ratio, and what each found: cold
//! starts and mean running pods.

use std::time::Instant;

use coldstart_sim::costs::FixedCosts;
use coldstart_sim::engine::{Engine, Routing};
use coldstart_sim::fluid::{Fluid, FluidFunction};
use coldstart_sim::policy::FixedKeepAlive;
use coldstart_sim::rng::stream;
use coldstart_sim::workload::{Function, Invocation};
use rand::Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

const SIGMA: f64 = 0.5;

/// Requests a second in minute `m`: `peak` at 14:00, a quarter of it at 02:00.
fn rate(peak: f64, m: usize) -> f64 {
    let phase = ((m % 1440) as f64 / 1440.0 - 14.0 / 24.0) * std::f64::consts::TAU;
    peak * (0.25 + 0.75 * (1.0 + phase.cos()) / 2.0)
}

fn mean(v: &[u32]) -> f64 {
    v.iter().map(|x| f64::from(*x)).sum::<f64>() / v.len().max(1) as f64
}

fn main() -> anyhow::Result<()> {
    let days: usize = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .map_or(Ok(1), |s| s.parse())?;
    let minutes = days * 1440;
    println!(
        "{:<9} {:>7} {:>9} {:>12} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "routing",
        "peak/s",
        "median s",
        "requests",
        "exact s",
        "fluid s",
        "speedup",
        "cold ex",
        "cold fl",
        "pods ex",
        "pods fl"
    );
    for routing in [Routing::FirstFit, Routing::Spread] {
        for (peak, median) in [(200.0, 0.01), (1000.0, 0.005), (500.0, 0.05)] {
            // Exact: every request drawn and replayed.
            let t0 = Instant::now();
            let mut rng = stream(1, 0, 1);
            let exec = LogNormal::new(f64::ln(median), SIGMA)?;
            let f = vec![Function::new("f", "APIG-S")];
            let costs = FixedCosts(0.0);
            let mut e = Engine::new(&f, &costs, Box::new(FixedKeepAlive::new(60.0)), days as u32)
                .with_routing(routing)
                .without_latencies();
            let mut minute = Vec::new();
            for m in 0..minutes {
                let n = Poisson::new(rate(peak, m) * 60.0)?.sample(&mut rng) as u64;
                minute.clear();
                for _ in 0..n {
                    minute.push(Invocation {
                        t: m as f64 * 60.0 + rng.gen::<f64>() * 60.0,
                        func: 0,
                        exec: exec.sample(&mut rng),
                    });
                }
                minute.sort_by(|a, b| a.t.total_cmp(&b.t));
                for i in &minute {
                    e.invoke(*i);
                }
            }
            let metrics = e.finish();
            let exact = t0.elapsed().as_secs_f64();

            // The fluid model of the same function.
            let t0 = Instant::now();
            let mut rng = stream(1, 0, 2);
            let mut fl = Fluid::new(FluidFunction {
                mean_exec: median * (SIGMA * SIGMA / 2.0).exp(),
                concurrency: 1,
                keep_alive: 60.0,
                routing,
            });
            let (mut cold, mut pods, mut ended) = (0usize, Vec::new(), Vec::new());
            for m in 0..minutes {
                let out = fl.minute(&mut rng, m as f64 * 60.0, rate(peak, m), &mut ended);
                cold += out.cold_starts.len();
                pods.push(out.loaded);
            }
            let fluid = t0.elapsed().as_secs_f64();
            println!(
                "{:<9} {:>7} {:>9} {:>12} {:>9.2} {:>9.4} {:>7.0}x {:>8} {:>9} {:>9.2} {:>9.2}",
                routing.name(),
                peak,
                median,
                metrics.invocations(),
                exact,
                fluid,
                exact / fluid,
                metrics.cold_starts(),
                cold,
                mean(&metrics.running_per_minute),
                mean(&pods)
            );
        }
    }
    Ok(())
}
