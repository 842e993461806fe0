//! The generator's daily cycle. The calendar itself (weekends, the holiday) is the paper's:
//! `coldstart_trace::paper`.

use coldstart_trace::paper::SECONDS_PER_DAY;

/// Daily cycle: a raised cosine peaking at `peak_hour`, between `1 - amplitude` and
/// `1 + amplitude` of the mean.
pub fn diurnal(t: f64, peak_hour: f64, amplitude: f64) -> f64 {
    let hour = (t % SECONDS_PER_DAY) / 3600.0;
    1.0 + amplitude * (std::f64::consts::TAU * (hour - peak_hour) / 24.0).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_peaks_at_the_peak_hour() {
        assert!((diurnal(14.0 * 3600.0, 14.0, 0.5) - 1.5).abs() < 1e-12);
        assert!((diurnal(2.0 * 3600.0, 14.0, 0.5) - 0.5).abs() < 1e-12);
    }
}
