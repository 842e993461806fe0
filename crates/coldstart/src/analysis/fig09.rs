//! Figure 9: trigger types by runtime, as stacked shares of each runtime's functions (a
//! function counts under its first listed trigger type).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::{figure, Analysis, Cx, Figure, Output};
use crate::chart::{Body, Panel};
use crate::table::Table;

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![figure(
        "fig9",
        "Trigger types by runtime",
        "For each runtime, the share of its functions per trigger type (stacked to 1).",
        fig9,
    )
    .boxed()]
}

fn fig9(fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(1);
    let Some(regions) = super::function_regions(cx, &mut out) else {
        return Ok(out);
    };
    let c = cx.columns(&format!(
        "SELECT runtime, concat(trigger_type, '-', invocation_type) AS t, CAST(COUNT(*) AS DOUBLE) AS n \
         FROM functions WHERE region IN ({}) GROUP BY runtime, t",
        super::sql_list(&regions)
    ))?;
    let mut per: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut triggers = BTreeSet::new();
    for i in 0..c.len() {
        triggers.insert(c.s("t")[i].clone());
        *per.entry(c.s("runtime")[i].clone())
            .or_default()
            .entry(c.s("t")[i].clone())
            .or_default() += c.f("n")[i];
    }
    let mut runtimes: Vec<String> = per.keys().cloned().collect();
    let size = |r: &String| per[r].values().sum::<f64>();
    runtimes.sort_by(|a, b| size(b).total_cmp(&size(a)).then(a.cmp(b)));
    let triggers: Vec<String> = triggers.into_iter().collect();
    let share = |r: &String, t: &String| per[r].get(t).copied().unwrap_or(0.0) / size(r);
    let values: Vec<Vec<f64>> = triggers
        .iter()
        .map(|t| runtimes.iter().map(|r| share(r, t)).collect())
        .collect();
    let (mut tr, mut tt, mut tn, mut ts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in &runtimes {
        for t in &triggers {
            tr.push(r.clone());
            tt.push(t.clone());
            tn.push(per[r].get(t).copied().unwrap_or(0.0) as i64);
            ts.push(share(r, t));
        }
    }
    out.panels = vec![Panel::body(
        fig.title,
        "runtime",
        "share of functions",
        Body::Bars {
            categories: runtimes,
            stacks: triggers,
            values,
            stacked: true,
        },
    )];
    out.tables.push((
        "shares".into(),
        Table::new()
            .str("runtime", tr)
            .str("trigger", tt)
            .i64("functions", tn)
            .f64("share", ts),
    ));
    Ok(out)
}
