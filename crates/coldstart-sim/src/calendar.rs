//! The generator's daily cycle. The calendar itself (weekends, the holiday) is the paper's:
//! `coldstart_trace::paper`.

use coldstart_trace::paper::SECONDS_PER_DAY;

/// A function's daily cycle: a von Mises bump around the clock peaking at `peak_hour`, whose
/// concentration `kappa` runs from flat (0) through a broad day-long swell (about 0.5: the
/// trough a third of the peak) to a spike of minutes (hundreds: a batch at a fixed hour). It
/// averages 1 over the day's minutes, so a function's daily volume does not depend on it.
#[derive(Debug, Clone, Copy)]
pub struct Cycle {
    pub peak_hour: f64,
    pub kappa: f64,
    /// Mean over the day's 1,440 minute midpoints of `exp(kappa * (cos - 1))`.
    norm: f64,
}

impl Cycle {
    pub fn new(peak_hour: f64, kappa: f64) -> Self {
        let kappa = kappa.max(0.0);
        let norm = (0..1440)
            .map(|m| bump(m as f64 / 60.0 + 1.0 / 120.0, peak_hour, kappa))
            .sum::<f64>()
            / 1440.0;
        Self {
            peak_hour: peak_hour.rem_euclid(24.0),
            kappa,
            norm,
        }
    }

    /// The cycle's factor at time `t` (seconds since the trace's start).
    pub fn at(&self, t: f64) -> f64 {
        let hour = (t % SECONDS_PER_DAY) / 3600.0;
        bump(hour, self.peak_hour, self.kappa) / self.norm
    }
}

fn bump(hour: f64, peak_hour: f64, kappa: f64) -> f64 {
    (kappa * ((std::f64::consts::TAU * (hour - peak_hour) / 24.0).cos() - 1.0)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day_mean(c: &Cycle) -> f64 {
        (0..1440).map(|m| c.at(m as f64 * 60.0 + 30.0)).sum::<f64>() / 1440.0
    }

    #[test]
    fn a_cycle_averages_one_and_peaks_at_its_hour() {
        for (peak, kappa) in [(14.0, 0.5), (21.0, 300.0), (1.0, 8.0), (3.0, 0.0)] {
            let c = Cycle::new(peak, kappa);
            assert!((day_mean(&c) - 1.0).abs() < 1e-9, "{peak} {kappa}");
            let best = (0..1440)
                .max_by(|a, b| {
                    c.at(*a as f64 * 60.0 + 30.0)
                        .total_cmp(&c.at(*b as f64 * 60.0 + 30.0))
                })
                .unwrap();
            if kappa > 0.0 {
                assert_eq!(best / 60, peak as usize, "{peak} {kappa}");
            }
        }
    }

    #[test]
    fn concentration_sets_the_trough() {
        // exp(kappa (cos - 1)) is 1 at the peak and exp(-2 kappa) twelve hours away.
        let c = Cycle::new(14.0, 0.5);
        let ratio = c.at(2.0 * 3600.0) / c.at(14.0 * 3600.0);
        assert!((ratio - (-1.0f64).exp()).abs() < 1e-12, "{ratio}");
        // Flat: 1 all day.
        assert!((Cycle::new(5.0, 0.0).at(123.0) - 1.0).abs() < 1e-12);
    }
}
