//! The study's report: one HTML page that opens from disk (charts inlined as SVG) with the
//! findings checked, curves per grid axis, a table per run and the published numbers beside
//! ours; `runs.csv` and `findings.csv` beside it hold the same tables as data.

use super::config::{Axis, Baseline};
use super::findings::{self, Finding, Interval, Results};
use super::metrics::RunMetrics;
use super::plan::{baseline_name, Kind, Plan, PlannedRun, REFERENCE, UPSTREAM};
use anyhow::{Context, Result};
use charts::page::{escape, Cell, Page, Table};
use charts::{render, Panel, Series};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `rewarm report` writes in the ownership marker of its output folder.
pub const OWNER: &str = "rewarm report";

fn opt(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{v:.4}"))
}

/// A validation curve over a run's seeds: at each evaluation of the first seed that every
/// seed has, the mean, and the band from the lowest to the highest seed; one seed, its curve.
fn over_seeds(seeds: &[&RunMetrics], f: fn(&super::metrics::Point) -> f64) -> Series {
    let first = seeds[0];
    if seeds.len() < 2 {
        let pts = first
            .points
            .iter()
            .map(|p| (p.tokens as f64, f(p)))
            .collect();
        return Series::new("", pts);
    }
    let mut pts = Vec::new();
    let mut band = Vec::new();
    for p in &first.points {
        let at: Vec<f64> = seeds
            .iter()
            .filter_map(|m| m.points.iter().find(|q| q.step == p.step).map(f))
            .collect();
        if at.len() == seeds.len() {
            let x = p.tokens as f64;
            let mean = at.iter().sum::<f64>() / at.len() as f64;
            let (lo, hi) = at
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            pts.push((x, mean));
            band.push((x, lo, hi));
        }
    }
    Series::new("", pts).band(band)
}

/// Three panels (upstream loss, downstream loss, LR) against tokens, one line per run: with
/// several seeds, the seeds' mean with a band over their range.
fn curves(title: &str, runs: &[(&str, Vec<&RunMetrics>)]) -> Result<String> {
    let named = |f: fn(&super::metrics::Point) -> f64| -> Vec<Series> {
        runs.iter()
            .map(|(n, seeds)| Series {
                name: n.to_string(),
                ..over_seeds(seeds, f)
            })
            .collect()
    };
    let up = named(|p| p.upstream);
    let down = named(|p| p.downstream);
    let lr = runs
        .iter()
        .map(|(n, seeds)| {
            let pts = seeds[0].lr.iter().map(|(t, v)| (*t as f64, *v)).collect();
            Series::new(n.to_string(), pts)
        })
        .collect();
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
    render(&panels, 3, (460, 340))
}

/// The stability gap: upstream and downstream loss and the LR against tokens on a log axis,
/// so the first evaluations (steps 1, 2, 4, ...) spread out instead of sitting on the y axis;
/// `branch` is the loss of the checkpoint the runs start from (step 0, which a log axis cannot
/// show), drawn as a flat line.
fn gap_curves(runs: &[(&str, &RunMetrics)], branch: (f64, f64)) -> Result<String> {
    let span = runs
        .iter()
        .flat_map(|(_, m)| m.points.iter().map(|p| p.tokens))
        .filter(|t| *t > 0);
    let (lo, hi) = span.fold((u64::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let panel = |what: &str, f: &dyn Fn(&super::metrics::Point) -> f64, at: f64| {
        let mut series: Vec<Series> = runs
            .iter()
            .map(|(n, m)| {
                Series::new(
                    n.to_string(),
                    m.points.iter().map(|p| (p.tokens as f64, f(p))).collect(),
                )
            })
            .collect();
        if lo <= hi {
            series.push(Series::new(
                "branch point",
                vec![(lo as f64, at), (hi as f64, at)],
            ));
        }
        Panel::lines(
            &format!("stability gap: {what} validation"),
            "tokens (log)",
            "loss",
            series,
        )
        .log_x()
    };
    let lr = runs
        .iter()
        .map(|(n, m)| {
            Series::new(
                n.to_string(),
                m.lr.iter().map(|(t, v)| (*t as f64, *v)).collect(),
            )
        })
        .collect();
    let panels = vec![
        panel("upstream", &|p| p.upstream, branch.0),
        panel("downstream", &|p| p.downstream, branch.1),
        Panel::lines("stability gap: learning rate", "tokens (log)", "LR", lr).log_x(),
    ];
    render(&panels, 3, (460, 340))
}

/// The continual runs on axis `a`'s chart with their value on it, in its order.
fn on_axis(plan: &Plan, a: Axis) -> Vec<(f64, &PlannedRun)> {
    let mut runs: Vec<(f64, &PlannedRun)> = plan
        .runs
        .iter()
        .filter(|r| r.axes.contains(&a))
        .filter_map(|r| Some((r.settings()?.sort_key(a, &plan.starts), r)))
        .collect();
    runs.sort_by(|x, y| x.0.total_cmp(&y.0));
    runs
}

/// Runs by name with their metrics, in chart order.
type Named<'a> = Vec<(String, &'a RunMetrics)>;

/// The runs the stability-gap chart compares: the warmup axis (which only shapes the early
/// bump) and the constant-LR baseline, all from the reference's start checkpoint; with the
/// branch point's losses (the reference's first evaluation).
fn gap_runs<'a>(
    plan: &Plan,
    metrics: &'a BTreeMap<String, RunMetrics>,
) -> Option<(Named<'a>, (f64, f64))> {
    let branch = metrics.get(REFERENCE)?.points.first()?;
    let mut names: Vec<&str> = on_axis(plan, Axis::Warmup)
        .iter()
        .map(|(_, r)| r.name.as_str())
        .collect();
    if !names.contains(&REFERENCE) {
        names.insert(0, REFERENCE);
    }
    names.push(baseline_name(Baseline::Constant));
    let runs: Named = names
        .iter()
        .filter_map(|n| metrics.get(*n).map(|m| (n.to_string(), m)))
        .collect();
    (runs.len() >= 2).then_some((runs, (branch.upstream, branch.downstream)))
}

/// The tool that wrote the report: rewarm's version (the build records no commit).
pub fn tool_version() -> String {
    format!("rewarm {}", env!("CARGO_PKG_VERSION"))
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
        FINDING_HEADER,
        &finding_rows(&found),
    )?;

    let mut h = Page::new("rewarm study")
        .style(".holds{color:#070}.does-not-hold{color:#b00}.inconclusive{color:#a60}.not-tested{color:#888}td.tests{min-width:22em}");
    let done = plan
        .runs
        .iter()
        .filter(|r| metrics.get(&r.name).is_some_and(|m| m.complete))
        .count();
    h.heading(
        1,
        "",
        "Continual pre-training study: how to (re)warm the model",
    );
    h.html(&format!(
        "<p>Study <code>{}</code>: {} runs, {done} finished{}; written by {} (the config is <a href=\"#config\">at the end</a>). \
         Upstream and downstream validation loss are measured on the same held-out sequences for every run, at the same token counts. \
         References: Gupta et al. 2023, <i>Continual Pre-Training of Large Language Models: How to (re)warm your model?</i>; \
         Ibrahim et al. 2024, <i>Simple and Scalable Strategies to Continually Pre-train Large Language Models</i>.</p>",
        escape(&study.display().to_string()),
        plan.runs.len(),
        if plan.skipped.is_empty() {
            String::new()
        } else {
            format!(", left out: {}", escape(&plan.skipped.join(", ")))
        },
        escape(&tool_version()),
    ));
    findings_html(&mut h, &found);
    if let Some((runs, branch)) = gap_runs(plan, &metrics) {
        h.heading(2, "", "Stability gap");
        h.para("The first evaluations (steps 1, 2, 4, ... after the branch point) on a log token axis: the warmup lengths and the constant-LR baseline against the loss of the checkpoint they start from.");
        let refs: Vec<(&str, &RunMetrics)> = runs.iter().map(|(n, m)| (n.as_str(), *m)).collect();
        h.html("<section>");
        h.svg(&gap_curves(&refs, branch)?);
        h.html("</section>");
    }
    h.heading(2, "", "Curves");
    if plan.seeds.len() > 1 {
        h.para(&format!(
            "Each line is the mean of a run's {} seeds at each evaluation, and its shaded band the range from the lowest to the highest seed.",
            plan.seeds.len()
        ));
    }
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
        // Each run with its repeats under the later seeds that finished.
        let refs: Vec<(&str, Vec<&RunMetrics>)> = runs
            .iter()
            .map(|(n, m)| {
                let mut seeds = vec![*m];
                let done = |r: &PlannedRun| metrics.get(&r.name).filter(|m| m.complete);
                seeds.extend(plan.repeats_of(n).filter_map(done));
                (n.as_str(), seeds)
            })
            .collect();
        h.html("<section>");
        h.heading(3, "", title);
        h.svg(&curves(title, &refs)?);
        h.html("</section>");
    }
    h.heading(2, "", "Runs");
    h.para("Forgetting: final upstream loss minus the upstream loss at the branch point. Bumps: the largest rise of a validation loss above its branch-point value in the first half of a run (runs that start from a checkpoint). Average: of the final upstream and downstream losses.");
    h.data_links(&["runs.csv", "findings.csv"]);
    let mut t = Table::new(RUN_HEADER);
    for r in &rows {
        t.row(r.iter().map(String::as_str));
    }
    h.table(&t);
    tasks_html(&mut h, out, plan, &metrics)?;
    published_html(&mut h);
    ours_html(&mut h, plan, &metrics);
    config_html(&mut h, study);
    let page = out.join("report.html");
    outdir::write_file(&page, h.finish().as_bytes())?;
    Ok((page, found))
}

/// The downstream task scores of each run's last evaluation (`[eval] tasks`), as a table and
/// `tasks.csv`; nothing when no run scored tasks.
fn tasks_html(
    h: &mut Page,
    out: &Path,
    plan: &Plan,
    metrics: &BTreeMap<String, RunMetrics>,
) -> Result<()> {
    let header = [
        "run",
        "step",
        "task",
        "kind",
        "examples",
        "acc",
        "acc_norm",
        "perplexity",
    ];
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    let rows: Vec<Vec<String>> = plan
        .runs
        .iter()
        .filter_map(|r| metrics.get(&r.name).map(|m| (r, m)))
        .flat_map(|(r, m)| {
            m.tasks.iter().map(move |t| {
                vec![
                    r.name.clone(),
                    m.tasks_step.to_string(),
                    t.task.clone(),
                    t.kind.clone(),
                    t.examples.to_string(),
                    format!("{:.4}", t.acc),
                    opt(t.acc_norm),
                    opt(t.perplexity),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    write_csv(&out.join("tasks.csv"), &header, &rows)?;
    h.heading(2, "tasks", "Downstream tasks");
    h.para("Each run's scores at its last evaluation on the study's [eval] tasks, by log-likelihood as lm-evaluation-harness scores them (accuracy; accuracy per character of the choice; perplexity of the last word).");
    h.data_links(&["tasks.csv"]);
    let mut t = Table::new(&header);
    for r in &rows {
        t.row(r.iter().map(String::as_str));
    }
    h.table(&t);
    Ok(())
}

/// The study's config as the study saved it (`study.toml` in the study folder) and the tool
/// that wrote the page.
fn config_html(h: &mut Page, study: &Path) {
    h.heading(2, "config", "Study config");
    let saved = study.join("study.toml");
    match std::fs::read_to_string(&saved) {
        Ok(text) => h.html(&format!(
            "<p>The study's config, as saved in <code>study.toml</code> (paths relative to the study folder):</p>\n<pre>{}</pre>",
            escape(&text)
        )),
        Err(_) => h.para(&format!("{} could not be read.", saved.display())),
    };
}

/// The study's own report, in the study folder.
pub fn write_study(dir: &Path, plan: &Plan) -> Result<(PathBuf, Vec<Finding>)> {
    write_report(dir, dir, plan)
}

/// `findings.csv`: a row per test of each finding (one row for a finding not tested), with
/// its mean over the seeds and the 95 % interval.
const FINDING_HEADER: &[&str] = &[
    "finding",
    "source",
    "verdict",
    "seeds",
    "test",
    "mean",
    "ci95_low",
    "ci95_high",
    "interval",
    "side",
    "threshold",
    "unit",
    "test_verdict",
    "statement",
    "evidence",
];

fn finding_rows(found: &[Finding]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for f in found {
        let head = |test: Vec<String>| {
            let mut row = vec![
                f.id.to_string(),
                f.source.to_string(),
                f.verdict.as_str().to_string(),
                f.seeds.to_string(),
            ];
            row.extend(test);
            row.extend([f.statement.to_string(), f.evidence.clone()]);
            row
        };
        if f.tests.is_empty() {
            rows.push(head(vec![String::new(); 9]));
        }
        for t in &f.tests {
            rows.push(head(vec![
                t.label.clone(),
                t.mean.to_string(),
                t.lo.to_string(),
                t.hi.to_string(),
                t.interval.describe(),
                t.side.symbol().to_string(),
                t.threshold.to_string(),
                t.unit.to_string(),
                t.verdict.as_str().to_string(),
            ]));
        }
    }
    rows
}

fn findings_html(h: &mut Page, found: &[Finding]) {
    h.heading(2, "", "Findings");
    let seeds = found.iter().map(|f| f.seeds).max().unwrap_or(0);
    let boot = found
        .iter()
        .flat_map(|f| &f.tests)
        .find_map(|t| match t.interval {
            Interval::Bootstrap {
                upstream,
                downstream,
            } => Some((upstream, downstream)),
            _ => None,
        });
    h.html(&format!(
        "<p>Each finding is measured on every seed as a few tests (an effect in nats or percent against the finding's threshold). \
A test holds when its 95 % interval lies on the claimed side of the threshold, does not hold when it lies on the other side, \
and is inconclusive when it straddles it; a finding holds when all its tests hold. {}</p>",
        match (seeds > 1, boot) {
            (true, _) => format!("This study has {seeds} seeds: each interval is Student's t over the seeds, and the seeds column says how many each verdict rests on."),
            (false, Some((u, d))) => format!("This study has one seed: each interval is a paired bootstrap's ({} replicates) over the {u} upstream and {d} downstream validation sequences every run was evaluated on. \
It covers the evaluation sets' sampling noise, not the seed-to-seed noise of training, which is larger; give <code>[grid] seeds</code> (or <code>rewarm study --seeds 3</code>) to judge over seeds.", super::bootstrap::REPLICATES),
            (false, None) => "This study has one seed and its runs logged no per-sequence losses, so there are no intervals: each verdict is its point estimate's and may lie inside the noise; give <code>[grid] seeds</code> (or <code>rewarm study --seeds 3</code>) to judge over seeds.".to_string(),
        }
    ));
    let mut t = Table::new(&[
        "finding",
        "source",
        "statement",
        "verdict",
        "seeds",
        "tests (mean [95 % interval] against the threshold)",
        "numbers (first seed)",
        "threshold",
    ]);
    for f in found {
        let class = f.verdict.as_str().replace(' ', "-");
        let tests = f
            .tests
            .iter()
            .map(|t| escape(&t.describe()))
            .collect::<Vec<_>>()
            .join("<br>");
        t.row([
            Cell::text(f.id),
            Cell::text(f.source),
            Cell::text(f.statement),
            Cell::html(format!("<b>{}</b>", escape(f.verdict.as_str()))).class(&class),
            Cell::text(&f.seeds.to_string()),
            Cell::html(tests).class("tests"),
            Cell::text(&f.evidence),
            Cell::text(&f.threshold),
        ]);
    }
    h.table(&t);
}

fn published_html(h: &mut Page) {
    h.heading(2, "", "Published numbers");
    h.html(
        "\
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
fn ours_html(h: &mut Page, plan: &Plan, metrics: &BTreeMap<String, RunMetrics>) {
    let mut cols: Vec<(String, &RunMetrics)> = Vec::new();
    for (share, r) in on_axis(plan, Axis::Replay) {
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
    h.para("This study, the same layout (final validation losses):");
    let mut header = vec!["replay".to_string()];
    header.extend(cols.iter().map(|(c, _)| c.clone()));
    let mut t = Table::new(&header);
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
        let mut row = vec![label.to_string()];
        row.extend(cols.iter().map(|(_, m)| opt(f(m))));
        t.row(row);
    }
    h.table(&t);
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
    let mut h = Page::new("rewarm run");
    let done = log.last().map_or(0, |l| l.step);
    h.heading(1, "", &format!("Run {name}"));
    h.para(&format!(
        "{done} of {} steps, {} tokens; {}.",
        cfg.run.steps,
        log.last().map_or(0, |l| l.tokens),
        cfg.schedule.build(cfg.run.steps)?.describe(),
    ));
    h.svg(&svg);
    let mut header = vec!["step".to_string(), "tokens".to_string()];
    for set in &sets {
        header.push(format!("{set} loss"));
        header.push(format!("{set} perplexity"));
    }
    let mut t = Table::new(&header);
    for l in log.iter().filter(|l| !l.eval.is_empty()) {
        let mut row = vec![l.step.to_string(), l.tokens.to_string()];
        for set in &sets {
            match l.eval.iter().find(|e| &e.name == set) {
                Some(e) => {
                    row.push(format!("{:.4}", e.loss));
                    row.push(format!("{:.3}", e.perplexity));
                }
                None => row.extend(["—".to_string(), "—".to_string()]),
            }
        }
        t.row(row);
    }
    h.table(&t);
    let page = out.join("report.html");
    outdir::write_file(&page, h.finish().as_bytes())?;
    Ok(page)
}
