//! Each region's own load through the replay, as a cross-region control plane sees it (the
//! paper's section 5: a fleet-wide scheduler "accounting for peak time shifts, overall system
//! load ... and resources in different regions").
//!
//! A region's load is its own cold starts per minute, averaged over the [`WINDOW`] minutes up
//! to each minute (the platform's default policy on its own workload: the store's cold-start
//! rows, or the synthetic model's first replay). Its platform is sized for its own peak, so
//! at minute `t` it can take `capacity x (peak - own(t))` cold starts a minute from other
//! regions: most at its quiet hours, none at its peak. Cold starts sent there add to its
//! load, and its pressure `(own + moved + 1) / (mean + 1)` slows pod allocation and
//! scheduling there as `pressure ^ exponent` (the region's [`crate::profile`] exponents,
//! calibrated to Fig 12), each over its mean across the region's own cold starts, so that
//! with nothing moved a region's cold starts cost what its own do on average, and cost more
//! at its busy minutes and the more is moved there.

pub use crate::pressure::WINDOW;

/// One region's own load per minute and how its cold starts slow under load.
#[derive(Debug, Clone)]
pub struct RegionLoad {
    pub name: String,
    /// Its own cold starts a minute, the mean of the [`WINDOW`] minutes up to each minute
    /// from minute 0.
    recent: Vec<f32>,
    mean: f64,
    peak: f64,
    /// The exponents of its pressure on pod allocation and on scheduling.
    exponents: (f64, f64),
    /// Their means over the region's own cold starts at its own pressure.
    norm: (f64, f64),
}

impl RegionLoad {
    /// A region from its own cold starts in each minute from minute 0, and the exponents of
    /// its pressure on allocation and on scheduling.
    pub fn new(name: impl Into<String>, per_minute: &[u32], exponents: (f64, f64)) -> Self {
        let w = WINDOW as usize;
        let mut sum = 0u64;
        let recent: Vec<f32> = (0..per_minute.len())
            .map(|m| {
                sum += u64::from(per_minute[m]);
                if m >= w {
                    sum -= u64::from(per_minute[m - w]);
                }
                (sum as f64 / w as f64) as f32
            })
            .collect();
        let n = per_minute.len().max(1) as f64;
        let total: f64 = per_minute.iter().map(|&c| f64::from(c)).sum();
        let mean = total / n;
        let peak = recent.iter().copied().fold(0.0f32, f32::max) as f64;
        let mut load = Self {
            name: name.into(),
            recent,
            mean,
            peak,
            exponents,
            norm: (1.0, 1.0),
        };
        if total > 0.0 {
            let weighted = |e: f64| {
                per_minute
                    .iter()
                    .enumerate()
                    .map(|(m, &c)| f64::from(c) * load.pressure_at(m, 0.0).powf(e))
                    .sum::<f64>()
                    / total
            };
            load.norm = (weighted(exponents.0), weighted(exponents.1));
        }
        load
    }

    /// Its own cold starts a minute at `t` (0 outside the minutes it has).
    pub fn own(&self, t: f64) -> f64 {
        minute(t)
            .and_then(|m| self.recent.get(m))
            .map_or(0.0, |&x| f64::from(x))
    }

    /// Its own cold starts a minute, on average and at their (10-minute) peak.
    pub fn mean_and_peak(&self) -> (f64, f64) {
        (self.mean, self.peak)
    }

    /// Cold starts a minute it can take from other regions at `t`: `capacity` times what its
    /// own load leaves below its peak.
    pub fn room(&self, t: f64, capacity: f64) -> f64 {
        capacity * (self.peak - self.own(t)).max(0.0)
    }

    /// Its pressure at `t` with `moved` cold starts a minute sent there from elsewhere.
    pub fn pressure(&self, t: f64, moved: f64) -> f64 {
        (self.own(t) + moved + 1.0) / (self.mean + 1.0)
    }

    fn pressure_at(&self, m: usize, moved: f64) -> f64 {
        (f64::from(self.recent[m]) + moved + 1.0) / (self.mean + 1.0)
    }

    /// The factors on pod allocation and on scheduling of a cold start there at `pressure`.
    pub fn factors(&self, pressure: f64) -> (f64, f64) {
        (
            pressure.powf(self.exponents.0) / self.norm.0,
            pressure.powf(self.exponents.1) / self.norm.1,
        )
    }
}

fn minute(t: f64) -> Option<usize> {
    (t >= 0.0 && t.is_finite()).then(|| (t / 60.0) as usize)
}

/// `costs` (total, allocation, code, dependencies, scheduling) with allocation multiplied by
/// `factors.0`, the steps on the host (code, dependencies, scheduling) by `factors.1`, and the
/// total by the same seconds; unchanged where the components are unknown (NaN).
pub fn under_load(costs: [f64; 5], factors: (f64, f64)) -> [f64; 5] {
    let mut extra = [0.0; 5];
    extra[1] = costs[1] * (factors.0 - 1.0);
    for i in 2..5 {
        extra[i] = costs[i] * (factors.1 - 1.0);
    }
    if !extra.iter().all(|d| d.is_finite()) {
        return costs;
    }
    let mut c = costs;
    for i in 1..5 {
        c[i] += extra[i];
    }
    c[0] = crate::costs::micros(c[0] + extra.iter().sum::<f64>());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_room_and_pressure_by_hand() {
        // 20 minutes: 0 cold starts for 10, then 10 a minute.
        let per: Vec<u32> = (0..20).map(|m| if m < 10 { 0 } else { 10 }).collect();
        let r = RegionLoad::new("R9", &per, (1.0, 2.0));
        // The window: minute 14 counts minutes 5..=14, five of them busy.
        assert_eq!(r.own(14.0 * 60.0 + 30.0), 5.0);
        assert_eq!(r.own(19.0 * 60.0), 10.0);
        assert_eq!(r.own(-1.0), 0.0);
        assert_eq!(r.own(1e9), 0.0);
        assert_eq!(r.mean_and_peak(), (5.0, 10.0));
        // Room: half of what is left below the peak of 10.
        assert_eq!(r.room(14.0 * 60.0, 0.5), 2.5);
        assert_eq!(r.room(19.0 * 60.0, 0.5), 0.0);
        // Pressure (own + moved + 1) / (mean + 1).
        assert_eq!(r.pressure(19.0 * 60.0, 2.0), 13.0 / 6.0);
        // The norms: the own cold starts (minutes 10..20, 10 each) at pressures
        // (own + 1) / 6 with own 1, 2, .., 10: the means of p and of p^2.
        let p: Vec<f64> = (1..=10).map(|k| (k as f64 + 1.0) / 6.0).collect();
        let n1 = p.iter().sum::<f64>() / 10.0;
        let n2 = p.iter().map(|x| x * x).sum::<f64>() / 10.0;
        let (a, s) = r.factors(2.0);
        assert!((a - 2.0 / n1).abs() < 1e-12 && (s - 4.0 / n2).abs() < 1e-12);
        // Over its own cold starts the factors average 1.
        let own_mean = |e: usize| {
            (10..20)
                .map(|m| {
                    let f = r.factors(r.pressure(m as f64 * 60.0, 0.0));
                    [f.0, f.1][e]
                })
                .sum::<f64>()
                / 10.0
        };
        assert!((own_mean(0) - 1.0).abs() < 1e-6 && (own_mean(1) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn load_slows_allocation_and_the_hosts_steps() {
        // Allocation 1 -> 2; code and dependencies 0.5 -> 0.75 each, scheduling 1 -> 1.5; the
        // total gains the same 2 seconds.
        let c = under_load([3.0, 1.0, 0.5, 0.5, 1.0], (2.0, 1.5));
        assert_eq!(c, [5.0, 2.0, 0.75, 0.75, 1.5]);
        // Unknown components: the total stays.
        let n = f64::NAN;
        assert_eq!(under_load([3.0, n, n, n, n], (2.0, 2.0))[0], 3.0);
    }
}
