//! `simulate --scale-component NAME=FACTOR`: what-ifs on the platform's cold-start path, such
//! as "what if scheduling were twice as fast" (`scheduling=0.5`), one of the directions the
//! paper's section 5 points to. Each of a cold start's four components (spec section 2: pod
//! allocation, code deployment, dependency deployment, scheduling) is multiplied by its
//! factor and the total changes by as much; what the release's total holds beyond the four
//! components stays as it is. A pod taken from a pre-warmed pool has its allocation time scaled
//! too.

use crate::costs::CostModel;
use anyhow::{bail, Result};
use coldstart_trace::paper::COMPONENTS;

/// The short names `--scale-component` takes for the four components, in the release's order.
const SHORT: [&str; 4] = ["allocation", "code", "dependency", "scheduling"];

/// The largest factor accepted (a component 100 times as slow).
const MAX_FACTOR: f64 = 100.0;

/// One component's factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentScale {
    /// Index into [`COMPONENTS`].
    pub component: usize,
    pub factor: f64,
}

impl ComponentScale {
    /// `NAME=FACTOR`, NAME a short name (`allocation`, `code`, `dependency`, `scheduling`) or
    /// the release's column name (`schedulingCost`).
    pub fn parse(s: &str) -> Result<Self> {
        let Some((name, factor)) = s.split_once('=') else {
            bail!("--scale-component '{s}': expected NAME=FACTOR, e.g. scheduling=0.5");
        };
        let name = name.trim();
        let Some(component) = (0..4).find(|&i| {
            name.eq_ignore_ascii_case(SHORT[i]) || name.eq_ignore_ascii_case(COMPONENTS[i])
        }) else {
            bail!(
                "--scale-component '{s}': no component is called '{name}'; the components are {}",
                SHORT.join(", ")
            );
        };
        match factor.trim().parse::<f64>() {
            Ok(f) if (0.0..=MAX_FACTOR).contains(&f) => Ok(Self {
                component,
                factor: f,
            }),
            _ => bail!("--scale-component '{s}': the factor is a number from 0 to {MAX_FACTOR}"),
        }
    }

    /// "schedulingCost x0.5", for the page.
    pub fn describe(&self) -> String {
        format!("{} x{}", COMPONENTS[self.component], self.factor)
    }
}

/// A cost model whose components are scaled.
pub struct ScaledCosts {
    inner: Box<dyn CostModel>,
    factors: [f64; 4],
}

impl ScaledCosts {
    /// `inner` with each of `scales` applied (a component named twice takes the product).
    pub fn new(inner: Box<dyn CostModel>, scales: &[ComponentScale]) -> Self {
        let mut factors = [1.0; 4];
        for s in scales {
            factors[s.component] *= s.factor;
        }
        Self { inner, factors }
    }

    fn scale(&self, mut c: [f64; 5]) -> [f64; 5] {
        let mut change = 0.0;
        for (i, f) in self.factors.iter().enumerate() {
            // Unknown components (NaN, the LogNormal models') stay unknown and change nothing.
            if c[i + 1].is_finite() {
                let scaled = c[i + 1] * f;
                change += scaled - c[i + 1];
                c[i + 1] = scaled;
            }
        }
        c[0] = (c[0] + change).max(0.0);
        c
    }
}

impl CostModel for ScaledCosts {
    fn cold_start(&self, func: u32, k: u64) -> [f64; 5] {
        self.scale(self.inner.cold_start(func, k))
    }

    fn cold_start_at(&self, func: u32, k: u64, t: f64) -> [f64; 5] {
        self.scale(self.inner.cold_start_at(func, k, t))
    }

    fn pod_allocation(&self, func: u32, k: u64, hit: bool) -> Option<f64> {
        (self.inner.pod_allocation(func, k, hit)).map(|a| a * self.factors[0])
    }

    fn other_regions(&self) -> Vec<String> {
        self.inner.other_regions()
    }

    fn cold_start_in(&self, func: u32, k: u64, region: usize) -> [f64; 5] {
        self.scale(self.inner.cold_start_in(func, k, region))
    }

    fn loads(&self) -> Option<&[crate::regions::RegionLoad]> {
        self.inner.loads()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Total 10 s: allocation 1, code 2, dependency 3, scheduling 0.5 (3.5 s beyond them);
    /// a pool hit allocates in 0.2 s.
    struct Known;

    impl CostModel for Known {
        fn cold_start(&self, _: u32, _: u64) -> [f64; 5] {
            [10.0, 1.0, 2.0, 3.0, 0.5]
        }
        fn pod_allocation(&self, _: u32, _: u64, hit: bool) -> Option<f64> {
            Some(if hit { 0.2 } else { 1.0 })
        }
    }

    #[test]
    fn components_scale_and_the_total_moves_by_as_much() {
        let s = |v: &[&str]| {
            let scales: Vec<ComponentScale> = v
                .iter()
                .map(|x| ComponentScale::parse(x).unwrap())
                .collect();
            ScaledCosts::new(Box::new(Known), &scales)
        };
        // Scheduling twice as fast: 10 - 0.25.
        assert_eq!(
            s(&["scheduling=0.5"]).cold_start(0, 0),
            [9.75, 1.0, 2.0, 3.0, 0.25]
        );
        // No dependency deployment, code 3x (the release's name, any case): 10 - 3 + 4.
        let c = s(&["deployDependencyCost=0", "CODE=3"]).cold_start(0, 0);
        assert_eq!(c, [11.0, 1.0, 6.0, 0.0, 0.5]);
        // Named twice: the product; allocation scales pool hits too.
        let a = s(&["allocation=2", "allocation=0.25"]);
        assert_eq!(a.cold_start(0, 0)[..2], [9.5, 0.5]);
        assert_eq!(a.pod_allocation(0, 0, true), Some(0.1));
        // Unknown components stay unknown.
        struct Nan;
        impl CostModel for Nan {
            fn cold_start(&self, _: u32, _: u64) -> [f64; 5] {
                [4.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN]
            }
        }
        let c = ScaledCosts::new(Box::new(Nan), &[ComponentScale::parse("code=2").unwrap()]);
        assert_eq!(c.cold_start(0, 0)[0], 4.0);
    }

    #[test]
    fn bad_names_and_factors_are_refused_naming_what_is_allowed() {
        let e = |s: &str| ComponentScale::parse(s).unwrap_err().to_string();
        assert!(e("network=2").contains("allocation, code, dependency, scheduling"));
        assert!(e("code=-1").contains("from 0 to 100"));
        assert!(e("code=inf").contains("from 0 to 100"));
        assert!(e("code").contains("NAME=FACTOR"));
        let d = ComponentScale::parse("scheduling=0.5").unwrap().describe();
        assert_eq!(d, "schedulingCost x0.5");
    }
}
