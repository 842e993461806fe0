//! Figure 16: cold start time and each component by trigger type (regions with the
//! functions table); a function counts under its first listed trigger type.

use anyhow::Result;

use super::{claim, figure, num, Analysis, By, Cx, Figure, Output};
use super::{component_cdfs, median_numbers};
use coldstart_trace::paper::COLD_START_METRICS;
use coldstart_trace::paper::R2_OBS_A_MEDIAN_COLD_START_S;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![figure(
        "fig16",
        "Cold start time and components by trigger type",
        "CDFs of cold start time and each component, one line per trigger type (log x).",
        fig16,
    )
    .grouped_by("trigger type")
    .boxed()]
}

fn fig16(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let by = cx.opts.by.unwrap_or(By::Trigger);
    let metrics = COLD_START_METRICS;
    let mut out = component_cdfs(cx, by, &metrics)?;
    if by == By::Trigger {
        median_numbers(&mut out, &[("OBS-A", R2_OBS_A_MEDIAN_COLD_START_S)]);
        timers_short(cx, &mut out)?;
    }
    Ok(out)
}

/// "Timers have some of the shortest cold starts" (section 4.4): the median cold start of
/// TIMER-A functions against the median of all cold starts of the same regions.
fn timers_short(cx: &Cx, out: &mut Output) -> Result<()> {
    // Without the functions table the trigger CDFs have already said why they are skipped.
    let regions = cx.regions("functions");
    if regions.is_empty() {
        return Ok(());
    }
    let c = cx.columns(&format!(
        "SELECT median(c.totalCost_cold_start) AS all_median, \
         median(CASE WHEN f.trigger_type = 'TIMER' AND f.invocation_type = 'A' \
                     THEN c.totalCost_cold_start END) AS timer_median \
         FROM cold_starts c JOIN functions f ON c.funcID = f.funcID AND c.region = f.region \
         WHERE c.region IN ({})",
        super::sql_list(&regions)
    ))?;
    let (all, timer) = (c.f("all_median")[0], c.f("timer_median")[0]);
    if timer.is_finite() && all.is_finite() {
        out.numbers.push(claim(
            "R2: median cold start of TIMER-A over all cold starts' median",
            format!(
                "{}x ({} s against {} s)",
                num(timer / all),
                num(timer),
                num(all)
            ),
            "under 1x: timers have some of the shortest cold starts",
            timer < all,
        ));
    }
    Ok(())
}
