//! Figure 16: cold start time and each component by trigger type (regions with the
//! functions table); a function counts under its first listed trigger type.

use anyhow::Result;

use super::{component_cdfs, median_numbers};
use super::{figure, Analysis, By, Cx, Figure, Output};
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
        let about = format!("about {R2_OBS_A_MEDIAN_COLD_START_S}");
        median_numbers(&mut out, &[("OBS-A", &about)]);
    }
    Ok(out)
}
