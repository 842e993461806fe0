//! The trace's calendar: 31 days with weekends and a week-long public holiday.
//!
//! The paper names day 13 as the last working day before a week-long holiday and day 23/24 as
//! the first working day after it. We take day 0 as a Tuesday, so days 4-5, 11-12, 18-19 and
//! 25-26 are weekends, and days 14..=22 are the holiday.

pub const SECONDS_PER_DAY: f64 = 86_400.0;
pub const HOLIDAY: std::ops::RangeInclusive<u32> = 14..=22;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Weekday,
    Weekend,
    Holiday,
}

pub fn day_kind(day: u32) -> DayKind {
    if HOLIDAY.contains(&day) {
        DayKind::Holiday
    } else if matches!(day % 7, 4 | 5) {
        DayKind::Weekend
    } else {
        DayKind::Weekday
    }
}

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
    fn calendar_matches_the_paper() {
        assert_eq!(
            day_kind(13),
            DayKind::Weekday,
            "day 13 is the last working day"
        );
        assert_eq!(day_kind(14), DayKind::Holiday);
        assert_eq!(day_kind(22), DayKind::Holiday);
        assert_eq!(
            day_kind(23),
            DayKind::Weekday,
            "day 23 is the first working day after"
        );
        assert_eq!(day_kind(4), DayKind::Weekend);
        assert_eq!(day_kind(12), DayKind::Weekend);
        let weekend = (0..31).filter(|d| day_kind(*d) == DayKind::Weekend).count();
        assert_eq!(weekend, 6);
    }

    #[test]
    fn diurnal_peaks_at_the_peak_hour() {
        assert!((diurnal(14.0 * 3600.0, 14.0, 0.5) - 1.5).abs() < 1e-12);
        assert!((diurnal(2.0 * 3600.0, 14.0, 0.5) - 0.5).abs() < 1e-12);
    }
}
