//! Figure 17: how well a cold start pays off. A pod's utility ratio is
//! (lifetime − 60 s keep-alive) / its cold start time, where the lifetime runs from the cold
//! start (`time` of its cold-start row) to its last request (the latest `time_worker` of its
//! per-request rows) plus the keep-alive, so the ratio is (last request − cold start) / cold
//! start time: below 1 when the pod served nothing after its cold start took place. Pods are matched on podID within a
//! region. Cold starts on a released request day whose pod has no request rows are counted as
//! missing, not guessed; so are pods with request rows but no cold-start row, and pods whose
//! cold start took 0 s (ratio undefined).

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{bail, Result};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;

use super::{
    claim, figure, floats, judged, key, num, pct, Analysis, By, Cx, Figure, Output, Units,
};
use crate::chart::{Panel, Series};
use crate::stats::{quantile_sorted, sort, LogHist};
use crate::table::Table;
use coldstart_trace::paper::KEEP_ALIVE_S;
use coldstart_trace::paper::{
    GO_POD_UTILITY_ABOVE_100_SHARE, NODEJS_POD_UTILITY_BELOW_1_SHARE, POD_UTILITY_BELOW_1_SHARE,
    POD_UTILITY_MEDIAN,
};

pub fn analyses() -> Vec<Box<dyn Analysis>> {
    vec![
        figure(
            "fig17",
            "Pod utility ratio",
            "CDF of pod utility ratio = (lifetime − 60 s keep-alive) / cold start time, lifetime from the cold start to the pod's last request plus keep-alive; by region, runtime and trigger type (log x).",
            fig17,
        )
        .grouped_by("region, runtime and trigger type")
        .boxed(),
    ]
}

/// Utility ratio of one pod.
pub fn utility_ratio(cold_start_time: f64, cold_start_cost: f64, last_request: f64) -> f64 {
    let lifetime = last_request + KEEP_ALIVE_S - cold_start_time;
    (lifetime - KEEP_ALIVE_S) / cold_start_cost
}

fn fig17(_fig: &Figure, cx: &Cx) -> Result<Output> {
    // `--by` keeps one grouping; the report shows all three.
    let only = match cx.opts.by {
        None => None,
        Some(By::Region) => Some(0),
        Some(By::Runtime) => Some(1),
        Some(By::Trigger) => Some(2),
        Some(By::PoolSize) => bail!("fig17 groups pods by region, runtime or trigger"),
    };
    let mut out = Output::new(3);
    let regions: Vec<String> = cx
        .regions("requests")
        .into_iter()
        .filter(|r| cx.regions("cold_starts").contains(r))
        .collect();
    if regions.is_empty() {
        out.skipped
            .push("needs per-request and cold-start rows of the same region".into());
        return Ok(out);
    }
    let list = super::sql_list(&regions);
    // The pods that served requests (a few hundred thousand per released day) are held in
    // memory; the cold starts (tens of millions) stream past them.
    let r = cx.columns(&format!(
        "SELECT region, podID, MAX(time_worker) AS last_request FROM requests \
         WHERE region IN ({list}) GROUP BY region, podID"
    ))?;
    let mut last: BTreeMap<String, HashMap<String, (f64, bool)>> = BTreeMap::new();
    for i in 0..r.len() {
        last.entry(r.s("region")[i].clone())
            .or_default()
            .insert(r.s("podID")[i].clone(), (r.f("last_request")[i], false));
    }
    let d = cx.columns(&format!(
        "SELECT DISTINCT region, day FROM requests WHERE region IN ({list})"
    ))?;
    let request_days: HashSet<(String, i64)> = (0..d.len())
        .map(|i| (d.s("region")[i].clone(), d.f("day")[i] as i64))
        .collect();
    let mut kinds: HashMap<(String, String), (String, String)> = HashMap::new();
    if !cx.regions("functions").is_empty() {
        let f = cx.columns(
            "SELECT region, funcID, runtime, concat(trigger_type, '-', invocation_type) AS t \
             FROM functions",
        )?;
        for i in 0..f.len() {
            kinds.insert(
                (f.s("region")[i].clone(), f.s("funcID")[i].clone()),
                (f.s("runtime")[i].clone(), f.s("t")[i].clone()),
            );
        }
    }
    let mut zero_cost = 0usize;
    let mut missing: BTreeMap<String, u64> = BTreeMap::new();
    let mut groups: [BTreeMap<String, Vec<f64>>; 3] = Default::default();
    cx.for_each(
        &format!(
            "SELECT region, podID, funcID, time, totalCost_cold_start, day FROM cold_starts \
             WHERE region IN ({list})"
        ),
        |b| {
            let text = |i: usize| cast(b.column(i), &DataType::Utf8);
            let (region, pod, func) = (text(0)?, text(1)?, text(2)?);
            let (region, pod, func) = (
                region.as_string::<i32>(),
                pod.as_string::<i32>(),
                func.as_string::<i32>(),
            );
            let (time, cost, day) = (
                floats(b.column(3))?,
                floats(b.column(4))?,
                floats(b.column(5))?,
            );
            for i in 0..b.num_rows() {
                let reg = region.value(i);
                let hit = last.get_mut(reg).and_then(|m| m.get_mut(pod.value(i)));
                let Some((last_request, matched)) = hit else {
                    if request_days.contains(&(reg.to_string(), day[i] as i64)) {
                        *missing.entry(reg.to_string()).or_default() += 1;
                    }
                    continue;
                };
                *matched = true;
                if cost[i] <= 0.0 {
                    zero_cost += 1;
                    continue;
                }
                let u = utility_ratio(time[i], cost[i], *last_request);
                groups[0].entry(reg.to_string()).or_default().push(u);
                if let Some((rt, tg)) = kinds.get(&(reg.to_string(), func.value(i).to_string())) {
                    groups[1].entry(rt.clone()).or_default().push(u);
                    groups[2].entry(tg.clone()).or_default().push(u);
                }
            }
            Ok(())
        },
    )?;
    for (region, n) in &missing {
        out.skipped.push(format!(
            "{region}: {n} cold starts on the request day whose pod has no request rows"
        ));
    }
    for (region, pods) in &last {
        let n = pods.values().filter(|(_, matched)| !matched).count();
        if n > 0 {
            out.skipped.push(format!(
                "{region}: {n} pods with request rows but no cold-start row (started before the trace or missing)"
            ));
        }
    }
    if zero_cost > 0 {
        out.skipped.push(format!(
            "{zero_cost} pods with a 0 s cold start (ratio undefined)"
        ));
    }
    let titles = ["by region", "by runtime", "by trigger type"];
    let (mut cg, mut ck, mut cx_, mut cy) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut sg, mut sk, mut sn) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sb1, mut smed, mut sa100) = (Vec::new(), Vec::new(), Vec::new());
    for (k, g) in groups.iter_mut().enumerate() {
        if g.is_empty() || only.is_some_and(|o| o != k) {
            continue;
        }
        let mut series = Vec::new();
        for (name, v) in g.iter_mut() {
            sort(v);
            let below1 = v.partition_point(|x| *x < 1.0) as f64 / v.len() as f64;
            let above100 = 1.0 - v.partition_point(|x| *x <= 100.0) as f64 / v.len() as f64;
            let med = quantile_sorted(v, 0.5);
            sg.push(titles[k].trim_start_matches("by ").to_string());
            sk.push(name.clone());
            sn.push(v.len() as i64);
            sb1.push(below1);
            smed.push(med);
            sa100.push(above100);
            match (k, name.as_str()) {
                // The paper's utility numbers are R2's: other regions get none beside them.
                (0, "R2") => {
                    out.numbers.push(judged(
                        "R2: pods with utility below 1",
                        below1,
                        Units::Percent,
                        POD_UTILITY_BELOW_1_SHARE,
                    ));
                    out.numbers.push(judged(
                        "R2: median pod utility",
                        med,
                        Units::Plain,
                        POD_UTILITY_MEDIAN,
                    ));
                }
                (0, _) => {
                    out.numbers.push(key(
                        format!("{name}: pods with utility below 1"),
                        pct(below1),
                        "— (published for R2)",
                    ));
                    out.numbers.push(key(
                        format!("{name}: median pod utility"),
                        num(med),
                        "— (published for R2)",
                    ));
                }
                (1, "Node.js") => out.numbers.push(judged(
                    "R2: Node.js pods with utility below 1",
                    below1,
                    Units::Percent,
                    NODEJS_POD_UTILITY_BELOW_1_SHARE,
                )),
                (1, "Go1.x") => out.numbers.push(judged(
                    "R2: Go1.x pods with utility above 100",
                    above100,
                    Units::Percent,
                    GO_POD_UTILITY_ABOVE_100_SHARE,
                )),
                _ => {}
            }
            let mut h = LogHist::new(-6, 8, 20);
            v.iter().for_each(|x| h.add(*x));
            let pts = h.cdf();
            for (x, y) in &pts {
                cg.push(titles[k].trim_start_matches("by ").to_string());
                ck.push(name.clone());
                cx_.push(*x);
                cy.push(*y);
            }
            series.push(Series::new(name.clone(), pts));
        }
        out.panels.push(
            Panel::lines(
                &format!("Pod utility ratio {}", titles[k]),
                "utility ratio",
                "CDF of pods",
                series,
            )
            .log_x(),
        );
    }
    let triggers: Vec<Row> = (0..sg.len())
        .filter(|i| sg[*i] == "trigger type")
        .map(|i| (sk[i].as_str(), sn[i], sb1[i], smed[i]))
        .collect();
    out.numbers.extend(trigger_claims(&triggers));
    out.tables.push((
        "summary".into(),
        Table::new()
            .str("grouping", sg)
            .str("group", sk)
            .i64("pods", sn)
            .f64("share_below_1", sb1)
            .f64("median", smed)
            .f64("share_above_100", sa100),
    ));
    out.tables.push((
        "cdf".into(),
        Table::new()
            .str("grouping", cg)
            .str("group", ck)
            .f64("utility_ratio", cx_)
            .f64("cdf", cy),
    ));
    Ok(out)
}

/// Triggers with at least this many pods are set beside each other.
const MIN_TRIGGER_PODS: i64 = 100;

/// The paper's two claims on utility by trigger (section 4.5), over the triggers with at least
/// [`MIN_TRIGGER_PODS`] pods, each `(trigger, pods, share below 1, median)`: timers have the
/// lowest utility (the largest share of pods below 1), and workflow-S a higher median than the
/// other triggers.
fn trigger_claims(triggers: &[Row]) -> Vec<super::KeyNumber> {
    let big: Vec<&Row> = triggers
        .iter()
        .filter(|t| t.1 >= MIN_TRIGGER_PODS)
        .collect();
    [
        highest(
            &big,
            ("TIMER-A", |t| t.2, pct),
            "R2: TIMER-A pods below utility 1, against the other triggers'",
            "the most: timers have the lowest utility",
        ),
        highest(
            &big,
            ("workflow-S", |t| t.3, num),
            "R2: workflow-S median pod utility, against the other triggers'",
            "the highest: workflow-S pays off best",
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A trigger's pods: (trigger, pods, share below 1, median utility ratio).
type Row<'a> = (&'a str, i64, f64, f64);

/// A trigger, the measure of its pods a claim is about, and how that measure is written.
type Measure<'a> = (&'a str, fn(&Row) -> f64, fn(f64) -> String);

/// The claim that trigger `name` has the highest `value` among `big` (None where it is not
/// among them): its value and the highest of the others', written by `show`.
fn highest(
    big: &[&Row],
    (name, value, show): Measure,
    what: &str,
    published: &str,
) -> Option<super::KeyNumber> {
    let own = value(big.iter().find(|t| t.0 == name)?);
    let others = big
        .iter()
        .filter(|t| t.0 != name)
        .map(|t| value(t))
        .fold(f64::NEG_INFINITY, f64::max);
    Some(claim(
        what,
        format!("{} (highest of the others: {})", show(own), show(others)),
        published,
        own >= others,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utility_by_hand() {
        // Cold start at t=100 taking 2 s; last request at t=130: lifetime 90 s, ratio 15.
        assert_eq!(super::utility_ratio(100.0, 2.0, 130.0), 15.0);
    }

    #[test]
    fn trigger_claims_by_hand() {
        use coldstart_trace::target::Verdict;
        // Timers have the most pods below 1 among triggers with 100 pods; OBS-A's 0.9 has 99.
        let t = [
            ("TIMER-A", 500, 0.6, 1.0),
            ("APIG-S", 300, 0.3, 5.0),
            ("workflow-S", 100, 0.2, 9.0),
            ("OBS-A", 99, 0.9, 50.0),
        ];
        let k = super::trigger_claims(&t);
        assert_eq!(k.len(), 2);
        assert_eq!(k[0].verdict, Some(Verdict::Within));
        assert_eq!(k[1].verdict, Some(Verdict::Within));
        // APIG-S with more pods below 1 than timers: the claim fails.
        let t = [("TIMER-A", 500, 0.6, 1.0), ("APIG-S", 300, 0.7, 5.0)];
        let k = super::trigger_claims(&t);
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].verdict, Some(Verdict::Outside));
        assert_eq!(k[0].measured, "60.0 % (highest of the others: 70.0 %)");
    }
}
