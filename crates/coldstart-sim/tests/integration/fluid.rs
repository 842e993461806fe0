//! The fluid model of a never-idle function against the exact engine: the same function's
//! requests drawn one by one and replayed under a 60 s keep-alive, against the model's
//! minutes, over a day with a daily cycle.

use coldstart_sim::costs::FixedCosts;
use coldstart_sim::engine::{Engine, Routing};
use coldstart_sim::fluid::{Fluid, FluidFunction};
use coldstart_sim::policy::FixedKeepAlive;
use coldstart_sim::rng::stream;
use coldstart_sim::workload::{Function, Invocation};
use rand::Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

/// A function with a daily cycle: `peak` requests a second at 14:00, a quarter of that at
/// 02:00, execution times LogNormal with median `median` s and sigma 0.5.
struct Case {
    peak: f64,
    median: f64,
    concurrency: u32,
    routing: Routing,
    swing: f64,
}

const SIGMA: f64 = 0.5;
const MINUTES: usize = 1440;

impl Case {
    fn rate(&self, m: usize) -> f64 {
        let phase = (m as f64 / 1440.0 - 14.0 / 24.0) * std::f64::consts::TAU;
        self.peak * (1.0 - self.swing * 0.75 * (1.0 - phase.cos()) / 2.0)
    }

    fn mean_exec(&self) -> f64 {
        self.median * (SIGMA * SIGMA / 2.0).exp()
    }

    /// The exact engine on requests drawn one by one: cold starts and running pods per minute.
    fn exact(&self, seed: u64) -> (u64, Vec<u32>) {
        let mut rng = stream(seed, 0, 1 + 2 * seed);
        let exec = LogNormal::new(self.median.ln(), SIGMA).unwrap();
        let mut inv = Vec::new();
        for m in 0..MINUTES {
            let n = Poisson::new(self.rate(m) * 60.0).unwrap().sample(&mut rng) as u64;
            for _ in 0..n {
                inv.push(Invocation {
                    t: m as f64 * 60.0 + rng.gen::<f64>() * 60.0,
                    func: 0,
                    exec: exec.sample(&mut rng),
                });
            }
        }
        inv.sort_by(|a, b| a.t.total_cmp(&b.t));
        let f = vec![Function {
            concurrency: self.concurrency,
            ..Function::new("f", "APIG-S")
        }];
        let costs = FixedCosts(0.0);
        let mut e = Engine::new(&f, &costs, Box::new(FixedKeepAlive::new(60.0)), 1)
            .with_routing(self.routing);
        for i in inv {
            e.invoke(i);
        }
        let m = e.finish();
        (m.cold_starts(), m.running_per_minute)
    }

    /// The fluid model of the same function.
    fn fluid(&self, seed: u64) -> (u64, Vec<u32>) {
        let mut rng = stream(seed, 0, 2);
        let mut f = Fluid::new(FluidFunction {
            mean_exec: self.mean_exec(),
            concurrency: self.concurrency,
            keep_alive: 60.0,
            routing: self.routing,
        });
        let mut ended = Vec::new();
        let (mut cold, mut pods) = (0, Vec::new());
        for m in 0..MINUTES {
            let out = f.minute(&mut rng, m as f64 * 60.0, self.rate(m), &mut ended);
            cold += out.cold_starts.len() as u64;
            pods.push(out.loaded);
        }
        (cold, pods)
    }
}

fn mean(v: &[u32]) -> f64 {
    v.iter().map(|x| f64::from(*x)).sum::<f64>() / v.len() as f64
}

/// The exact engine's cold starts and mean running pods for one case over two seeds, and the
/// fluid model's over three seeds of its own.
fn both(c: &Case) -> ((f64, f64), (f64, f64)) {
    let (mut ec, mut ep) = (0.0, 0.0);
    for seed in 1..=2 {
        let (cold, pods) = c.exact(seed);
        ec += cold as f64 / 2.0;
        ep += mean(&pods) / 2.0;
    }
    let (mut fc, mut fp) = (0.0, 0.0);
    for seed in 1..=3 {
        let (cold, pods) = c.fluid(seed);
        fc += cold as f64 / 3.0;
        fp += mean(&pods) / 3.0;
    }
    ((ec, ep), (fc, fp))
}

fn case(peak: f64, median: f64, concurrency: u32, routing: Routing, swing: f64) -> Case {
    Case {
        peak,
        median,
        concurrency,
        routing,
        swing,
    }
}

/// The relative gap of `got` from `want`.
fn off(got: f64, want: f64) -> f64 {
    (got - want).abs() / want
}

#[test]
fn first_fit_pods_follow_the_peak_in_flight_as_the_exact_engine_has_them() {
    // One pod per request: the pods loaded are the most requests in flight over the last
    // minute, and a cold start is a new such peak. Loads from 1.1 to 4.5 requests in flight
    // at the peak, daily cycles and flat days.
    for (peak, median) in [(20.0, 0.05), (20.0, 0.2), (100.0, 0.02), (5.0, 0.5)] {
        for swing in [1.0, 0.0] {
            let c = case(peak, median, 1, Routing::FirstFit, swing);
            let ((ec, ep), (fc, fp)) = both(&c);
            let what = format!(
                "{peak}/s, median {median} s, swing {swing}: exact {ec} cold starts and \
                 {ep:.2} pods, fluid {fc:.0} and {fp:.2}"
            );
            eprintln!("{what}");
            assert!(ec > 500.0, "{what}");
            assert!(off(fc, ec) < 0.12, "{what}");
            assert!(off(fp, ep) < 0.05, "{what}");
        }
    }
    // Four requests a pod: the pods agree; cold starts within 35 % (the model packs the
    // requests into the oldest pods, where departures leave room in any).
    for swing in [1.0, 0.0] {
        let c = case(50.0, 0.1, 4, Routing::FirstFit, swing);
        let ((ec, ep), (fc, fp)) = both(&c);
        let what = format!("c 4, swing {swing}: exact {ec} and {ep:.2}, fluid {fc:.0} and {fp:.2}");
        eprintln!("{what}");
        assert!(off(fc, ec) < 0.35, "{what}");
        assert!(off(fp, ep) < 0.06, "{what}");
    }
}

#[test]
fn spread_pods_ratchet_up_to_the_days_peak_as_the_exact_engine_has_them() {
    // Every pod takes every N-th request, so none idles a minute while the function is busy:
    // the pods only grow, to about the day's peak in flight, a cold start at each new one.
    for (peak, median, concurrency, swing) in [
        (20.0, 0.05, 1, 1.0),
        (20.0, 0.2, 1, 0.0),
        (100.0, 0.02, 1, 1.0),
        (50.0, 0.1, 4, 1.0),
        (5.0, 0.5, 1, 0.0),
    ] {
        let c = case(peak, median, concurrency, Routing::Spread, swing);
        let ((ec, ep), (fc, fp)) = both(&c);
        let what = format!(
            "{peak}/s, median {median} s, c {concurrency}, swing {swing}: exact {ec} cold \
             starts and {ep:.2} pods, fluid {fc:.1} and {fp:.2}"
        );
        eprintln!("{what}");
        assert!((fc - ec).abs() <= 2.5, "{what}");
        assert!(off(fp, ep) < 0.12, "{what}");
    }
}
