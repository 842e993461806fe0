//! Figure 15: cold start time and each component by runtime (regions with the functions
//! table), one CDF per runtime and panel per metric. The same routine draws figure 16 (by
//! trigger type) and figure 10a (by region).

use anyhow::Result;

use super::{component_cdfs, figure, median_numbers, Analysis, By, Cx, Figure, Output};
use coldstart_trace::paper::COLD_START_METRICS;
use coldstart_trace::paper::R2_CUSTOM_HTTP_MEDIAN_COLD_START_S;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![figure(
        "fig15",
        "Cold start time and components by runtime",
        "CDFs of cold start time and each component, one line per runtime (log x).",
        fig15,
    )
    .grouped_by("runtime")
    .boxed()]
}

fn fig15(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let by = cx.opts.by.unwrap_or(By::Runtime);
    let metrics = COLD_START_METRICS;
    let mut out = component_cdfs(cx, by, &metrics)?;
    if by == By::Runtime {
        let above = R2_CUSTOM_HTTP_MEDIAN_COLD_START_S;
        median_numbers(&mut out, &[("Custom", above), ("http", above)]);
    }
    Ok(out)
}
