//! The release rows of a function the engine replays minute by minute ([`FluidMinuteEvent`]):
//! its per-minute cells from the law of its requests, and on the days written row by row its
//! requests one by one, each sent to a loaded pod in turn (spread routing's round robin), the
//! cold starts' requests to their new pods.

use rand::Rng;
use rand_distr::StandardNormal;

use super::*;
use crate::profile::standard_normal_quantile;

/// Requests of a minute that stand for all of them in its per-minute statistics (evenly
/// spaced quantiles of their law from a random start).
const CELL_POINTS: u64 = 32;

/// What happens in a minute, in time order.
enum Step {
    Born { pod: u64, k: u64, wait: f64 },
    Died { pod: u64 },
    Request { k: u64 },
}

impl Recorder<'_> {
    pub(super) fn fluid_minute_rows(&mut self, e: &FluidMinuteEvent) {
        let f = e.func as usize;
        self.minute(f, e.start);
        let spec = &self.specs[f];
        let n = e.requests;
        let law = spec.exec;
        let rng = &mut self.rng[f];
        // The minute's mean execution time: the law's, give or take its standard error.
        let mean = law.mean();
        let sd = mean * ((law.sigma * law.sigma).exp() - 1.0).sqrt();
        let z: f64 = rng.sample(StandardNormal);
        let minute_mean = (mean + z * sd / (n.max(1) as f64).sqrt()).max(1e-6);
        let agg = &mut self.aggs[f];
        agg.requests += n;
        agg.exec += minute_mean * n as f64;
        agg.pods += e.loaded;
        self.day.requests[f] += n;
        let minute = ((e.start % SECONDS_PER_DAY) / 60.0) as usize;
        self.day.minute_requests[minute.min(1439)] += n;
        self.day.pod_minutes[f] += u64::from(e.loaded);
        if self.cells && n > 0 {
            let k = n.min(CELL_POINTS);
            let (u0, u1): (f64, f64) = (rng.gen(), rng.gen());
            for i in 0..k {
                let p = |u: f64| ((i as f64 + u) / k as f64).clamp(1e-9, 1.0 - 1e-9);
                agg.total_cost
                    .push(micros(law.quantile(p(u0)) + WORKER_MEDIAN_S));
                let z = standard_normal_quantile(p(u1));
                agg.cpu.push(micros(cpu_at(spec, z)));
            }
        }
        let fr = self.fluid[f].get_or_insert_with(Default::default);
        let day = (e.start / SECONDS_PER_DAY).floor() as i64;
        if fr.day != day {
            fr.day = day;
            fr.released.clear();
        }
        let born = std::mem::take(&mut fr.born);
        let died = std::mem::take(&mut fr.died);
        let rows_day = self.rows_days.contains(&(day.max(0) as u32));
        // The minute's steps in time order: its cold starts, the pods that ended, and (on a
        // day written row by row) its other requests at uniform times.
        let mut steps: Vec<(f64, Step)> = Vec::with_capacity(born.len() + died.len());
        for &(t, pod, k, wait) in &born {
            steps.push((t, Step::Born { pod, k, wait }));
        }
        for &(t, pod) in &died {
            steps.push((t, Step::Died { pod }));
        }
        if rows_day {
            let warm = n.saturating_sub(born.len() as u64);
            for j in 0..warm {
                let t = micros(e.start + rng.gen::<f64>() * 60.0);
                steps.push((
                    t,
                    Step::Request {
                        k: e.first_k + born.len() as u64 + j,
                    },
                ));
            }
        }
        steps.sort_by(|a, b| a.0.total_cmp(&b.0));
        let fr = self.fluid[f].as_mut().expect("made above");
        // A request before the minute's first pod is up goes to the pod that will serve it.
        let mut next_born = born.iter().map(|b| b.1);
        let mut first_born = next_born.next();
        for (t, step) in steps {
            let (pod, k, wait) = match step {
                Step::Born { pod, k, wait } => {
                    fr.ring.push_back(pod);
                    if Some(pod) == first_born {
                        first_born = next_born.next();
                    }
                    (pod, k, wait)
                }
                Step::Died { pod } => {
                    if let Some(i) = fr.ring.iter().position(|p| *p == pod) {
                        fr.ring.remove(i);
                    }
                    if let Some(i) = fr.released.iter().position(|p| *p == pod) {
                        fr.released.swap_remove(i);
                    }
                    continue;
                }
                Step::Request { k } => {
                    let pod = match fr.ring.pop_front() {
                        Some(p) => {
                            fr.ring.push_back(p);
                            p
                        }
                        None => match first_born {
                            Some(p) => p,
                            None => continue,
                        },
                    };
                    (pod, k, 0.0)
                }
            };
            if !rows_day {
                continue;
            }
            if !fr.released.contains(&pod) {
                if fr.released.len() >= RELEASED_PODS {
                    continue;
                }
                fr.released.push(pod);
            }
            let rng = &mut self.rng[f];
            let exec = micros(crate::costs::ln_sample(rng, law, 1.0)).max(1e-6);
            let (worker_cost, total_worker, cpu, mem) = worker_draws(rng, spec, exec);
            let facts = RequestFacts {
                t,
                rid: request_id(self.id_salt[f], k),
                cluster: self.clusters[f]
                    .get(pod as usize)
                    .copied()
                    .unwrap_or(spec.home_cluster),
                serial: pod_serial(spec, pod),
                total_worker,
                worker_cost,
                exec,
                wait,
                cpu,
                mem,
            };
            self.fmt.row(&mut fr.rows, rng, spec, facts);
            self.day.rows[f] += 1;
        }
        if fr.rows.len() >= SINK_BYTES {
            let rows = std::mem::take(&mut fr.rows);
            self.send(rows);
        }
    }
}
