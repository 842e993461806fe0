//! The study's report: one HTML page that opens from disk (charts inlined as SVG) with the
//! findings checked, curves per grid axis, a table per run and the published numbers beside
//! ours; `runs.csv` and `findings.csv` beside it hold the same tables as data.

use super::config::{Axis, Baseline};
use super::findings::{self, Finding, Results};
use super::metrics::RunMetrics;
use super::plan::{baseline_name, Kind, Plan, PlannedRun, REFERENCE, UPSTREAM};
use anyhow::{Context, Result};
use charts::{render, Panel, Series};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What `rewarm report` writes in the ownership marker of its output folder.
pub const OWNER: &str = "rewarm report";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn opt(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:.4}"))
}

/// Three panels (upstream loss, downstream loss, LR) against tokens, one line per run.
fn curves(title: &str, runs: &[(&str, &RunMetrics)]) -> Result<String> {
    let series = |f: &dyn Fn(&RunMetrics) -> Vec<(f64, f64)>| -> Vec<Series> {
        runs.iter()
            .map(|(n, m)| Series::new(n.to_string(), f(m)))
            .collect()
    };
    let up = series(&|m| {
        m.points
            .iter()
            .map(|p| (p.tokens as f64, p.upstream))
            .collect()
    });
    let down = series(&|m| {
        m.points
            .iter()
            .map(|p| (p.tokens as f64, p.downstream))
            .collect()
    });
    let lr = series(&|m| m.lr.iter().map(|(t, v)| (*t as f64, *v)).collect());
    let panels = vec![
        Panel::lines(
            &format!("{title}: upstream validation"),
            "tokens",
            "loss",
            up,
        ),
        Panel::lines(
            &format!("{title}: downstream validation"),
            "tokens",
            "loss",
            down,
        ),
        Panel::lines(&format!("{title}: learning rate"), "tokens", "LR", lr),
    ];
    let svg = render(&panels, 3, (460, 340))?;
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// Reads every run's metrics (runs without a log are left out).
pub fn read_metrics(plan: &Plan) -> BTreeMap<String, RunMetrics> {
    plan.runs
        .iter()
        .filter_map(|r| {
            RunMetrics::read(&r.config.run.out, r.config.run.steps)
                .ok()
                .map(|m| (r.name.clone(), m))
        })
        .collect()
}

/// What a run is, for tables.
pub fn describe(r: &PlannedRun) -> String {
    match &r.kind {
        Kind::Upstream => "upstream pre-training (warmup + cosine)".into(),
        Kind::Continual(s) => s.describe(),
        Kind::Baseline(Baseline::Constant) => format!(
            "no re-warm: constant LR {} from the final checkpoint",
            crate::schedule::lr_str(r.config.schedule.max_lr)
        ),
        Kind::Baseline(Baseline::Scratch) => "from scratch on the downstream data".into(),
        Kind::Baseline(Baseline::Union) => {
            "from scratch on upstream + downstream mixed (their step counts)".into()
        }
        Kind::Baseline(Baseline::SameData) => {
            "the reference, re-warmed on the upstream data".into()
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per run: the numbers of the report's run table.
fn run_rows(plan: &Plan, metrics: &BTreeMap<String, RunMetrics>) -> Vec<Vec<String>> {
    plan.runs
        .iter()
        .map(|r| {
            let m = metrics.get(&r.name);
            let last = m.and_then(|m| m.last());
            let cont = r.continues();
            let from_ck = m.filter(|_| cont);
            let bump_up = from_ck.and_then(|m| m.bump(|p| p.upstream));
            let bump_down = from_ck.and_then(|m| m.bump(|p| p.downstream));
            vec![
                r.name.clone(),
                describe(r),
                m.map_or("0".into(), |m| m.tokens.to_string()),
                opt(last.map(|p| p.upstream)),
                opt(last.map(|p| p.upstream.exp())),
                opt(last.map(|p| p.downstream)),
                opt(last.map(|p| p.downstream.exp())),
                opt(m.map(|m| m.best(|p| p.upstream))),
                opt(m.map(|m| m.best(|p| p.downstream))),
                opt(m.filter(|_| cont).and_then(|m| m.forgetting())),
                opt(bump_up.map(|b| b.height)),
                opt(bump_down.map(|b| b.height)),
                bump_down.map_or("—".into(), |b| {
                    b.gone_tokens.map_or("never".into(), |t| t.to_string())
                }),
                opt(m.and_then(|m| m.average())),
                m.map_or("—".into(), |m| format!("{:.1}", m.seconds)),
                if m.is_some_and(|m| m.complete) {
                    "done"
                } else {
                    "not finished"
                }
                .into(),
            ]
        })
        .collect()
}

const RUN_HEADER: &[&str] = &[
    "run",
    "settings",
    "tokens",
    "final upstream loss",
    "final upstream ppl",
    "final downstream loss",
    "final downstream ppl",
    "best upstream loss",
    "best downstream loss",
    "forgetting",
    "upstream bump",
    "downstream bump",
    "downstream bump gone at tokens",
    "average loss",
    "wall s",
    "status",
];

fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        s.push('\n');
    }
    outdir::write_file(path, s.as_bytes())
}

/// Writes `report.html`, `runs.csv` and `findings.csv` into `out` for the study in `plan`;
/// returns the page's path and the findings it checked.
pub fn write_report(out: &Path, study: &Path, plan: &Plan) -> Result<(PathBuf, Vec<Finding>)> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let metrics = read_metrics(plan);
    let found = findings::check(&Results {
        plan,
        metrics: &metrics,
    });
    let rows = run_rows(plan, &metrics);
    write_csv(&out.join("runs.csv"), RUN_HEADER, &rows)?;
    write_csv(
        &out.join("findings.csv"),
        &[
            "finding",
            "source",
            "verdict",
            "statement",
            "evidence",
            "threshold",
        ],
        &found
            .iter()
            .map(|f| {
                vec![
                    f.id.to_string(),
                    f.source.to_string(),
                    f.verdict.as_str().to_string(),
                    f.statement.to_string(),
                    f.evidence.clone(),
                    f.threshold.clone(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;

    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rewarm study</title><style>\
         body{font-family:sans-serif;max-width:1500px;margin:auto;padding:1em;color:#222}\
         table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}\
         th{background:#f0f0f0}.holds{color:#070}.does-not-hold{color:#b00}.not-tested{color:#888}\
         svg{max-width:100%;height:auto}section{margin-bottom:2em}</style></head><body>\n",
    );
    let done = plan
        .runs
        .iter()
        .filter(|r| metrics.get(&r.name).is_some_and(|m| m.complete))
        .count();
    let _ = writeln!(
        h,
        "<h1>Continual pre-training study: how to (re)warm the model</h1>\n<p>Study <code>{}</code>: {} runs, {done} finished{}. \
         Upstream and downstream validation loss are measured on the same held-out sequences for every run, at the same token counts. \
         References: Gupta et al. 2023, <i>Continual Pre-Training of Large Language Models: How to (re)warm your model?</i>; \
         Ibrahim et al. 2024, <i>Simple and Scalable Strategies to Continually Pre-train Large Language Models</i>.</p>",
        escape(&study.display().to_string()),
        plan.runs.len(),
        if plan.skipped.is_empty() {
            String::new()
        } else {
            format!(", left out: {}", escape(&plan.skipped.join(", ")))
        }
    );
    findings_html(&mut h, &found);
    h.push_str("<h2>Curves</h2>\n");
    let named = |names: &[&str]| -> Vec<(String, &RunMetrics)> {
        names
            .iter()
            .filter_map(|n| metrics.get(*n).map(|m| (n.to_string(), m)))
            .collect()
    };
    let mut charts: Vec<(String, Vec<(String, &RunMetrics)>)> = Vec::new();
    if metrics.contains_key(UPSTREAM) {
        charts.push(("upstream pre-training".into(), named(&[UPSTREAM])));
    }
    charts.push((
        "re-warmed vs baselines".into(),
        named(&[
            REFERENCE,
            baseline_name(Baseline::Constant),
            baseline_name(Baseline::Scratch),
            baseline_name(Baseline::Union),
            baseline_name(Baseline::SameData),
        ]),
    ));
    for a in Axis::ALL {
        let mut runs: Vec<&PlannedRun> = plan.runs.iter().filter(|r| r.axes.contains(&a)).collect();
        runs.sort_by(|x, y| {
            let k = |r: &PlannedRun| {
                r.settings()
                    .map_or(f64::MAX, |s| s.sort_key(a, &plan.starts))
            };
            k(x).total_cmp(&k(y))
        });
        let v: Vec<(String, &RunMetrics)> = runs
            .iter()
            .filter_map(|r| metrics.get(&r.name).map(|m| (r.name.clone(), m)))
            .collect();
        if v.len() >= 2 {
            charts.push((a.title().to_string(), v));
        }
    }
    for (title, runs) in &charts {
        if runs.is_empty() {
            continue;
        }
        let refs: Vec<(&str, &RunMetrics)> = runs.iter().map(|(n, m)| (n.as_str(), *m)).collect();
        let _ = writeln!(
            h,
            "<section><h3>{}</h3>\n{}</section>",
            escape(title),
            curves(title, &refs)?
        );
    }
    h.push_str("<h2>Runs</h2>\n<p>Forgetting: final upstream loss minus the upstream loss at the branch point. Bumps: the largest rise of a validation loss above its branch-point value in the first half of a run (runs that start from a checkpoint). Average: of the final upstream and downstream losses. Data: <a href=\"runs.csv\">runs.csv</a>, <a href=\"findings.csv\">findings.csv</a>.</p>\n<table><tr>");
    for c in RUN_HEADER {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    for r in &rows {
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{}</td>", escape(c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    published_html(&mut h);
    ours_html(&mut h, plan, &metrics);
    h.push_str("</body></html>\n");
    let page = out.join("report.html");
    outdir::write_file(&page, h.as_bytes())?;
    Ok((page, found))
}

/// The study's own report, in the study folder.
pub fn write_study(dir: &Path, plan: &Plan) -> Result<(PathBuf, Vec<Finding>)> {
    write_report(dir, dir, plan)
}

fn findings_html(h: &mut String, found: &[Finding]) {
    h.push_str("<h2>Findings</h2>\n<table><tr><th>finding</th><th>source</th><th>statement</th><th>verdict</th><th>numbers</th><th>threshold</th></tr>\n");
    for f in found {
        let class = f.verdict.as_str().replace(' ', "-");
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\"><b>{}</b></td><td>{}</td><td>{}</td></tr>",
            escape(f.id),
            escape(f.source),
            escape(f.statement),
            f.verdict.as_str(),
            escape(&f.evidence),
            escape(&f.threshold)
        );
    }
    h.push_str("</table>\n");
}

fn published_html(h: &mut String) {
    h.push_str(
        "<h2>Published numbers</h2>\n\
<p>Gupta et al. 2023 (Pythia 410M, Pile to SlimPajama, cosine to 0.1x max, warmup as a share of all steps) publish curves, not tables: \
warmup 0/0.5/1/2 % makes no lasting difference; max LR 1.5e-4 / 3e-4 / 6e-4: higher gives lower downstream and higher upstream loss; \
the constant 3e-5 baseline is best early and worst late; re-warmed continual beats from-scratch at equal tokens; re-warming on the same data shows the bump too; \
the latest checkpoint is the best start. SlimPajama loss about 2.5-2.9, Pile about 2.2-2.9.</p>\n\
<p>Ibrahim et al. 2024 (405M, Pile to SlimPajama, compute-equivalent replay, final losses):</p>\n\
<table><tr><th>replay</th><th>0 %</th><th>0.5 %</th><th>1 %</th><th>5 %</th><th>10 %</th><th>50 %</th><th>union</th></tr>\n\
<tr><td>Pile (upstream)</td><td>2.44</td><td>2.27</td><td>2.26</td><td>2.23</td><td>2.21</td><td>2.16</td><td>2.17</td></tr>\n\
<tr><td>SlimPajama (downstream)</td><td>2.50</td><td>2.50</td><td>2.50</td><td>2.51</td><td>2.51</td><td>2.54</td><td>2.53</td></tr>\n\
<tr><td>average</td><td>2.47</td><td>2.39</td><td>2.38</td><td>2.37</td><td>2.36</td><td>2.35</td><td>2.35</td></tr></table>\n\
<p>English to German (a strong shift): 25 % replay reaches the union's average loss (1.75).</p>\n",
    );
}

/// This study's final losses laid out as Ibrahim et al.'s replay table, beside theirs.
fn ours_html(h: &mut String, plan: &Plan, metrics: &BTreeMap<String, RunMetrics>) {
    let mut cols: Vec<(String, &RunMetrics)> = Vec::new();
    let mut replay: Vec<(f64, &PlannedRun)> = plan
        .runs
        .iter()
        .filter(|r| r.axes.contains(&Axis::Replay))
        .filter_map(|r| Some((r.settings()?.replay, r)))
        .collect();
    replay.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (share, r) in replay {
        if let Some(m) = metrics.get(&r.name).filter(|m| m.complete) {
            cols.push((format!("{} %", (share * 1e4).round() / 1e2), m));
        }
    }
    if let Some(m) = metrics
        .get(baseline_name(Baseline::Union))
        .filter(|m| m.complete)
    {
        cols.push(("union".into(), m));
    }
    if cols.is_empty() {
        return;
    }
    h.push_str(
        "<p>This study, the same layout (final validation losses):</p>\n<table><tr><th>replay</th>",
    );
    for (c, _) in &cols {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    for (label, f) in [
        (
            "upstream",
            &(|m: &RunMetrics| m.last().map(|p| p.upstream)) as &dyn Fn(&RunMetrics) -> Option<f64>,
        ),
        ("downstream", &|m: &RunMetrics| {
            m.last().map(|p| p.downstream)
        }),
        ("average", &|m: &RunMetrics| m.average()),
    ] {
        let _ = write!(h, "<tr><td>{label}</td>");
        for (_, m) in &cols {
            let _ = write!(h, "<td>{}</td>", opt(f(m)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// One run's curves as a page (`rewarm report --run DIR`): loss per validation set and the
/// LR against tokens, and the evaluations as a table.
pub fn write_run_report(run: &Path, out: &Path) -> Result<PathBuf> {
    let cfg = crate::run_dir::read_run_toml(&run.join(crate::run_dir::RUN_TOML))
        .with_context(|| format!("{}: not a run folder", run.display()))?;
    let log = crate::run_dir::read_log(run)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let name = run
        .file_name()
        .map_or("run".into(), |n| n.to_string_lossy().into_owned());
    let sets: Vec<String> = cfg.data.val.iter().map(|v| v.name.clone()).collect();
    let mut panels: Vec<Panel> = sets
        .iter()
        .map(|set| {
            let pts = log
                .iter()
                .filter_map(|l| {
                    let e = l.eval.iter().find(|e| &e.name == set)?;
                    Some((l.tokens as f64, e.loss))
                })
                .collect();
            Panel::lines(
                &format!("{set} validation"),
                "tokens",
                "loss",
                vec![Series::new(name.clone(), pts)],
            )
        })
        .collect();
    let train: Vec<(f64, f64)> = log
        .iter()
        .filter_map(|l| Some((l.tokens as f64, l.loss?)))
        .collect();
    panels.push(Panel::lines(
        "training loss",
        "tokens",
        "loss",
        vec![Series::new(name.clone(), train)],
    ));
    let lr: Vec<(f64, f64)> = log
        .iter()
        .filter_map(|l| Some((l.tokens as f64, l.lr?)))
        .collect();
    panels.push(Panel::lines(
        "learning rate",
        "tokens",
        "LR",
        vec![Series::new(name.clone(), lr)],
    ));
    let svg = render(&panels, 3, (460, 340))?;
    let svg = svg
        .find("<svg")
        .map_or(svg.clone(), |i| svg[i..].to_string());
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rewarm run</title><style>\
         body{font-family:sans-serif;max-width:1500px;margin:auto;padding:1em}svg{max-width:100%;height:auto}\
         table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}</style></head><body>\n",
    );
    let done = log.last().map_or(0, |l| l.step);
    let _ = writeln!(
        h,
        "<h1>Run {}</h1>\n<p>{done} of {} steps, {} tokens; {}.</p>\n{svg}",
        escape(&name),
        cfg.run.steps,
        log.last().map_or(0, |l| l.tokens),
        escape(&cfg.schedule.build(cfg.run.steps)?.describe()),
    );
    h.push_str("<table><tr><th>step</th><th>tokens</th>");
    for set in &sets {
        let _ = write!(
            h,
            "<th>{} loss</th><th>{} perplexity</th>",
            escape(set),
            escape(set)
        );
    }
    h.push_str("</tr>\n");
    for l in log.iter().filter(|l| !l.eval.is_empty()) {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", l.step, l.tokens);
        for set in &sets {
            match l.eval.iter().find(|e| &e.name == set) {
                Some(e) => {
                    let _ = write!(h, "<td>{:.4}</td><td>{:.3}</td>", e.loss, e.perplexity);
                }
                None => h.push_str("<td>—</td><td>—</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></body></html>\n");
    let page = out.join("report.html");
    outdir::write_file(&page, h.as_bytes())?;
    Ok(page)
}
