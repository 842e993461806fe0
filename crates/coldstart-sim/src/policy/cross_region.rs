//! `cross-region:latency=50ms,ttl=60s`: cross-region scheduling of cold starts, one of the
//! strategies the paper proposes (Joosen et al., EuroSys 2025, section 5; spec section 5). A
//! function's cold start goes to the region where its expected cold start (the cost model's
//! median for that function there) plus the inter-region `latency` is lowest, home included
//! at no latency. Every request served by a pod in another region pays `latency` on top
//! (tens to a few hundred ms between regions). Warm requests use the nearest pod with room.
//! Keep-alive is fixed at `ttl`. The choice is made once per function: the expectations do
//! not change during a replay.

use super::{
    fmt_duration, limits, Catalogued, Ended, Idle, KeepAlive, Needs, Params, Placement, Policy,
    RegionPlacement,
};
use crate::costs::CostModel;
use crate::workload::Function;
use anyhow::Result;
use coldstart_trace::paper::KEEP_ALIVE_S;

pub struct CrossRegion {
    pub latency: f64,
    pub ttl: f64,
    /// Per function, once decided: the region and its latency (`None`: home).
    chosen: Vec<Option<Option<(usize, f64)>>>,
}

impl Catalogued for CrossRegion {
    const NAME: &'static str = "cross-region";
    const PARAMS: &'static str = "[:latency=50ms,ttl=60s]";
    const SUMMARY: &'static str = "a cold start goes to the region where its expected cold start plus `latency` is lowest (the paper's proposal; needs other regions)";

    fn from_params(p: &mut Params, functions: usize) -> Result<Self> {
        Ok(Self {
            latency: p.seconds("latency", 0.05, limits::SHORT)?,
            ttl: p.seconds("ttl", KEEP_ALIVE_S, limits::PERIOD)?,
            chosen: vec![None; functions],
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
        format!(
            "cross-region:latency={},ttl={}",
            fmt_duration(self.latency),
            fmt_duration(self.ttl)
        )
    }

    fn per_function(&self) -> bool {
        true
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
    fn scope(&self) -> Placement {
        Placement::PerFunction
    }

    fn place(&mut self, func: u32, _f: &Function, costs: &dyn CostModel) -> Option<(usize, f64)> {
        let latency = self.latency;
        *self.chosen[func as usize].get_or_insert_with(|| {
            let home = costs.expected_cold_start(func, 0);
            let mut best = (home, None);
            for r in 1..=costs.other_regions().len() {
                let there = costs.expected_cold_start(func, r) + latency;
                if there < best.0 {
                    best = (there, Some((r, latency)));
                }
            }
            best.1
        })
    }
}
