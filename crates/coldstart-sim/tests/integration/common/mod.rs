//! Helpers the engine's test files share.

use coldstart_sim::costs::CostModel;
use coldstart_sim::engine::{simulate, Metrics};
use coldstart_sim::policy;
use coldstart_sim::workload::{Trace, Workload};

/// `trace` replayed under each of `policies` (as the command line writes them) with `costs`.
pub fn run_with(trace: &Trace, costs: &dyn CostModel, policies: &[&str]) -> Vec<Metrics> {
    let mut w = trace.clone();
    let n = w.functions().len();
    let ps = policies
        .iter()
        .map(|p| policy::parse(p, n).unwrap())
        .collect();
    simulate(&mut w, costs, ps, |_, _| {}).unwrap()
}
