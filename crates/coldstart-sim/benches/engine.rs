//! The platform engine's rate on the synthetic workload: `cargo bench -p coldstart-sim --bench
//! engine [-- SCALE DAYS]` (default: R2 at scale 1, 8 days). Prints invocations per second of
//! a fixed 10-minute keep-alive and of the hybrid histogram, each split over every core (the
//! issue's targets: 20 M/s on 2 cores, the histogram within 3x of that) and on one core, of the
//! engine's reference path (every request looks at all its function's pods) and of drawing the
//! workload alone, in the same process, with their ratios.

use std::time::Instant;

use coldstart_sim::engine::{simulate_from, Engine, Routing};
use coldstart_sim::policy;
use coldstart_sim::synth::{model_costs, region_functions, region_index};
use coldstart_sim::workload::synthetic::Synthetic;
use coldstart_sim::workload::Workload;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let scale: f64 = args.first().map_or(Ok(1.0), |s| s.parse())?;
    let days: u32 = args.get(1).map_or(Ok(8), |s| s.parse())?;
    let region = "R2";
    let ri = region_index(region).expect("a known region");
    let (profile, specs) = region_functions(region, None, scale, 1, ri, Default::default())?;
    let costs = model_costs(&specs, &profile, 1);
    let workload = || Synthetic::new(region, specs.clone(), profile.clone(), 1, ri, 0..days);

    // The workload alone: what every replay pays before the engine.
    let t0 = Instant::now();
    let mut w = workload();
    let mut invocations = 0u64;
    for d in 0..days {
        invocations += w.day(d)?.len() as u64;
    }
    let draw = t0.elapsed().as_secs_f64();

    // The baseline: one core, every request looking at all its function's pods (the engine
    // before its fast path), with the same results.
    let functions = workload().functions().to_vec();
    let mut w = workload();
    let mut e = Engine::new(
        &functions,
        &costs,
        policy::parse("fixed-keepalive:ttl=10m", specs.len())?,
        days,
    )
    .exhaustive();
    let mut engine = 0.0;
    for d in 0..days {
        let inv = w.day(d)?;
        let t = Instant::now();
        for i in inv {
            e.invoke(i);
        }
        engine += t.elapsed().as_secs_f64();
    }
    let exhaustive = e.finish().invocations() as f64 / engine;

    let threads = rayon::current_num_threads();
    let policies = ["fixed-keepalive:ttl=10m", "hybrid-histogram"];
    // (policy, cores, invocations/s)
    let mut rates = Vec::new();
    for name in policies {
        for cores in [threads, 1] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(cores).build()?;
            let mut w = workload();
            let p = vec![policy::parse(name, specs.len())?];
            let m = pool
                .install(|| simulate_from(&mut w, &costs, p, 0, Routing::default(), |_, _| {}))?;
            rates.push((name, cores, m[0].invocations() as f64 / m[0].wall_seconds));
        }
    }
    println!(
        "{region} scale {scale}, {} functions, {days} days, {invocations} invocations",
        specs.len()
    );
    println!(
        "drawing the workload: {:.2} M invocations/s ({draw:.2} s)",
        invocations as f64 / draw / 1e6
    );
    for (name, cores, r) in &rates {
        println!(
            "engine, {name} on {cores} core(s): {:.2} M invocations/s ({:.2}x the drawing rate)",
            r / 1e6,
            r * draw / invocations as f64
        );
    }
    println!(
        "engine looking at every pod (the reference path), 1 core: {:.2} M invocations/s; \
         the fast path on 1 core is {:.2}x that",
        exhaustive / 1e6,
        rates[1].2 / exhaustive
    );
    println!(
        "{} split over {} cores / one core: {:.2}x; {} {:.2}x",
        policies[0],
        threads,
        rates[0].2 / rates[1].2,
        policies[1],
        rates[2].2 / rates[3].2
    );
    println!(
        "{} takes {:.2}x the time of {} on {threads} cores (the target: within 3x)",
        policies[1],
        rates[0].2 / rates[2].2,
        policies[0]
    );
    Ok(())
}
