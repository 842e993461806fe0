//! `cross-region:latency=50ms,ttl=60s,capacity=1,route=time`: cross-region scheduling of cold
//! starts, one of the strategies the paper proposes (Joosen et al., EuroSys 2025, section 5;
//! spec section 5): a fleet-wide control plane "accounting for peak time shifts, overall
//! system load, latency ... and resources in different regions".
//!
//! With `route=time` each cold start is placed when it happens. Every region's estimate is
//! the function's median cold start there, its pod allocation and host steps slowed by that
//! region's pressure at that minute ([`crate::regions`]: its own load, plus the cold starts
//! already sent there in the last minutes), plus `latency` for a region other than home. The
//! cold start goes to the lowest estimate among the regions with room: a region takes at most
//! `capacity` times what its own load leaves below its own peak, in cold starts a minute, so
//! it has most room in its quiet hours and none at its peak. The cold start there costs what
//! that region's cold starts cost at that pressure; each request on its pod pays `latency`.
//! This is one control plane for all functions (one engine).
//!
//! `route=once` is the naive placement, for comparison: each function's region is chosen once,
//! at its first cold start, by the medians alone, with no capacity or load anywhere.
//!
//! Keep-alive is fixed at `ttl` in either case.

use super::{
    fmt_duration, limits, Catalogued, Ended, Idle, KeepAlive, Needs, Params, Policy,
    RegionPlacement, Remote,
};
use crate::costs::CostModel;
use crate::regions::WINDOW;
use crate::workload::Function;
use anyhow::{bail, Result};
use coldstart_trace::paper::KEEP_ALIVE_S;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Per cold start, by each region's load and room at its time.
    Time,
    /// Once per function, by the medians alone.
    Once,
}

pub struct CrossRegion {
    pub latency: f64,
    pub ttl: f64,
    /// The share of each region's room below its own peak that it lends.
    pub capacity: f64,
    pub route: Route,
    /// `route=once`: per function, once decided, the region and its latency (`None`: home).
    chosen: Vec<Option<Option<(usize, f64)>>>,
    /// Per function, per region (0: home): the median cold start, allocation and steps on the
    /// host (deployment and scheduling).
    medians: Vec<Vec<[f64; 3]>>,
    /// Per region (0 unused): cold starts sent there in the last minutes.
    moved: Vec<Moved>,
}

impl Catalogued for CrossRegion {
    const NAME: &'static str = "cross-region";
    const PARAMS: &'static str = "[:latency=50ms,ttl=60s,capacity=1,route=time]";
    const SUMMARY: &'static str = "each cold start goes to the region (home included) whose cold start at that minute, under its own load and what was sent there, plus `latency` is lowest, among those with room below their own peak (the paper's proposal; needs other regions)";

    fn from_params(p: &mut Params, functions: usize) -> Result<Self> {
        let route = match p.text("route").as_deref() {
            None | Some("time") => Route::Time,
            Some("once") => Route::Once,
            Some(v) => bail!("cross-region: parameter route is time or once, got '{v}'"),
        };
        Ok(Self {
            latency: p.seconds("latency", 0.05, limits::SHORT)?,
            ttl: p.seconds("ttl", KEEP_ALIVE_S, limits::PERIOD)?,
            capacity: p.number("capacity", 1.0, 100.0)?,
            route,
            chosen: vec![None; functions],
            medians: vec![Vec::new(); functions],
            moved: Vec::new(),
        })
    }
}

impl Policy for CrossRegion {
    fn needs(&self) -> Needs {
        Needs {
            other_regions: true,
            ..Needs::default()
        }
    }

    fn name(&self) -> String {
        let route = match self.route {
            Route::Time => "time",
            Route::Once => "once",
        };
        format!(
            "cross-region:latency={},ttl={},capacity={},route={route}",
            fmt_duration(self.latency),
            fmt_duration(self.ttl),
            self.capacity
        )
    }

    /// The naive placement decides per function alone; the control plane shares each
    /// region's room and load among all functions.
    fn per_function(&self) -> bool {
        self.route == Route::Once
    }

    fn placement(&mut self) -> Option<&mut dyn RegionPlacement> {
        Some(self)
    }
}

impl KeepAlive for CrossRegion {
    fn after_request(&mut self, _e: &Ended) -> Idle {
        Idle::keep(self.ttl)
    }
}

impl RegionPlacement for CrossRegion {
    fn place(&mut self, func: u32, _f: &Function, costs: &dyn CostModel, t: f64) -> Option<Remote> {
        match self.route {
            Route::Once => self.once(func, costs),
            Route::Time => self.at(func, costs, t),
        }
    }
}

impl CrossRegion {
    fn once(&mut self, func: u32, costs: &dyn CostModel) -> Option<Remote> {
        let latency = self.latency;
        let chosen = *self.chosen[func as usize].get_or_insert_with(|| {
            let home = costs.median_cold_start(func, 0)[0];
            let mut best = (home, None);
            for r in 1..=costs.other_regions().len() {
                let there = costs.median_cold_start(func, r)[0] + latency;
                if there < best.0 {
                    best = (there, Some((r, latency)));
                }
            }
            best.1
        });
        chosen.map(|(region, latency)| Remote {
            region,
            latency,
            pressure: None,
        })
    }

    fn at(&mut self, func: u32, costs: &dyn CostModel, t: f64) -> Option<Remote> {
        // The regions are the cost model's for the whole replay: asked once.
        if self.moved.is_empty() {
            self.moved = vec![Moved::default(); costs.other_regions().len() + 1];
        }
        let regions = self.moved.len() - 1;
        let medians = &mut self.medians[func as usize];
        if medians.is_empty() {
            *medians = (0..=regions)
                .map(|r| costs.median_cold_start(func, r))
                .collect();
        }
        let loads = costs.loads();
        let minute = (t / 60.0).max(0.0) as u32;
        // A region's estimate at pressure `p` (its median where its load is unknown).
        let estimate = |r: usize, p: f64| {
            let [total, alloc, host] = medians[r];
            match loads.and_then(|l| l.get(r)) {
                Some(l) => {
                    let (a, s) = l.factors(p);
                    total + alloc * (a - 1.0) + host * (s - 1.0)
                }
                None => total,
            }
        };
        let home = loads
            .and_then(|l| l.first())
            .map_or(1.0, |l| l.pressure(t, 0.0));
        let mut best = (estimate(0, home), None);
        for r in 1..=regions {
            let moved = &self.moved[r];
            let pressure = match loads.and_then(|l| l.get(r)) {
                Some(l) => {
                    if f64::from(moved.now(minute)) + 1.0 > l.room(t, self.capacity) {
                        continue; // no room there this minute
                    }
                    l.pressure(t, moved.rate(minute))
                }
                None => 1.0,
            };
            let there = estimate(r, pressure) + self.latency;
            if there < best.0 {
                best = (there, Some((r, pressure)));
            }
        }
        let (region, pressure) = best.1?;
        self.moved[region].add(minute);
        Some(Remote {
            region,
            latency: self.latency,
            pressure: Some(pressure),
        })
    }
}

/// Cold starts sent to one region in each of the last [`WINDOW`] minutes.
#[derive(Clone, Default)]
struct Moved {
    minute: [u32; WINDOW as usize],
    count: [u32; WINDOW as usize],
}

impl Moved {
    fn slot(m: u32) -> usize {
        (m % WINDOW) as usize
    }

    fn add(&mut self, m: u32) {
        let s = Self::slot(m);
        if self.minute[s] != m {
            self.minute[s] = m;
            self.count[s] = 0;
        }
        self.count[s] += 1;
    }

    /// Sent in minute `m`.
    fn now(&self, m: u32) -> u32 {
        let s = Self::slot(m);
        if self.minute[s] == m {
            self.count[s]
        } else {
            0
        }
    }

    /// Sent a minute, over the [`WINDOW`] minutes up to `m`.
    fn rate(&self, m: u32) -> f64 {
        let sum: u32 = (0..WINDOW as usize)
            .filter(|&s| self.minute[s] <= m && m - self.minute[s] < WINDOW)
            .map(|s| self.count[s])
            .sum();
        f64::from(sum) / f64::from(WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_counts_keep_the_last_minutes() {
        let mut m = Moved::default();
        m.add(3);
        m.add(3);
        m.add(7);
        assert_eq!((m.now(3), m.now(7), m.now(8)), (2, 1, 0));
        assert!((m.rate(8) - 0.3).abs() < 1e-12);
        // Minute 13 reuses minute 3's slot; minute 3 has left the window.
        m.add(13);
        assert_eq!((m.now(13), m.now(3)), (1, 0));
        assert!((m.rate(13) - 0.2).abs() < 1e-12);
        assert!((m.rate(17) - 0.1).abs() < 1e-12); // minute 7 is out
    }
}
