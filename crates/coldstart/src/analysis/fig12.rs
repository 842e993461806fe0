//! Figure 12: Spearman correlations, per region, between per-minute means of the cold start
//! time and of each component and the number of cold starts in the minute (minutes with at
//! least one cold start). p-values from the t distribution as `scipy.stats.spearmanr`; cells
//! with p < 0.05 are starred.

use anyhow::Result;

use super::{figure, judged, Analysis, Cx, Figure, Output, Units};
use crate::chart::{Body, Panel};
use crate::stats::spearman;
use crate::table::Table;
use coldstart_trace::paper::{
    fig12_target, COLD_START_METRICS, FIG12_COLD_STARTS_RHO, FIG12_MIN_SIZE,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig12",
            "Spearman correlations of per-minute cold start metrics",
            "Per region: Spearman's rho between per-minute means of cold start time, its components and the number of cold starts; * marks p < 0.05.",
            fig12,
        )
        .boxed(),
    ]
}

pub const VARIABLES: [&str; 6] = [
    "totalCost_cold_start",
    "podAllocationCost",
    "deployCodeCost",
    "deployDependencyCost",
    "schedulingCost",
    "cold_starts",
];

fn fig12(_fig: &Figure, cx: &Cx) -> Result<Output> {
    let mut out = Output::new(3);
    let size = super::size::of(cx)?;
    let (mut tr, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    let (mut trho, mut tp, mut tsig, mut tn) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in cx.regions("cold_starts") {
        let means: Vec<String> = COLD_START_METRICS
            .iter()
            .copied()
            .map(|c| format!("avg({c}) AS {c}"))
            .collect();
        let c = cx.columns(&format!(
            "SELECT {}, CAST(COUNT(*) AS DOUBLE) AS cold_starts FROM cold_starts \
             WHERE region = '{}' GROUP BY CAST(floor(time / 60) AS BIGINT)",
            means.join(", "),
            r.replace('\'', "''")
        ))?;
        let n = VARIABLES.len();
        let mut rho = vec![vec![f64::NAN; n]; n];
        let mut marked = vec![vec![false; n]; n];
        for i in 0..n {
            for j in 0..n {
                let (x, p) = spearman(c.f(VARIABLES[i]), c.f(VARIABLES[j]));
                rho[i][j] = x;
                marked[i][j] = p < 0.05;
                tr.push(r.clone());
                ta.push(VARIABLES[i].to_string());
                tb.push(VARIABLES[j].to_string());
                trho.push(x);
                tp.push(p);
                tsig.push(if p < 0.05 { "yes" } else { "no" }.to_string());
                tn.push(c.len() as i64);
            }
        }
        // The paper's row for the number of cold starts, beside this store's.
        if let Some((_, published)) = FIG12_COLD_STARTS_RHO.iter().find(|(x, _)| *x == r) {
            let count = VARIABLES.len() - 1;
            for ((what, i), want) in [
                ("cold-start time", 0),
                ("pod allocation", 1),
                ("scheduling", 4),
            ]
            .into_iter()
            .zip(published)
            {
                let k = judged(
                    format!("{r}: rho of cold starts per minute with {what}"),
                    rho[count][i],
                    Units::Plain,
                    fig12_target(*want),
                );
                out.numbers.push(if size.at_least(FIG12_MIN_SIZE) {
                    k.with_note("read off Fig 12")
                } else {
                    k.not_comparable(format!(
                        "per-minute means of few cold starts hide the correlation: compared from {FIG12_MIN_SIZE} of the trace's size, and this store is {}",
                        size.ratio.map_or("of unknown size".into(), |r| format!("{r:.3}"))
                    ))
                });
            }
        }
        out.panels.push(Panel::body(
            &format!("{r}: Spearman rho"),
            "",
            "",
            Body::Heat {
                labels: [
                    "total",
                    "alloc",
                    "code",
                    "dependency",
                    "scheduling",
                    "count",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                values: rho,
                marked,
            },
        ));
    }
    if out.panels.is_empty() {
        out.skipped.push("no cold-start rows".into());
    }
    out.tables.push((
        "spearman".into(),
        Table::new()
            .str("region", tr)
            .str("a", ta)
            .str("b", tb)
            .f64("rho", trho)
            .f64("p_value", tp)
            .str("p_below_0_05", tsig)
            .i64("minutes", tn),
    ));
    Ok(out)
}
