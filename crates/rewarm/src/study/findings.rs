//! The findings of spec section 3 (Gupta et al. 2023) and the replay and schedule findings of
//! Ibrahim et al. (2024), each measured on every seed of a study as a few tests (an effect in
//! nats or percent against the finding's threshold) and judged over the seeds ([`verdict`]):
//! holds, does not hold, inconclusive, or not tested by this grid.

use super::config::{Axis, Baseline};
use super::metrics::{Point, RunMetrics};
use super::plan::{baseline_name, Kind, Plan, PlannedRun, REFERENCE};
pub use super::verdict::{Estimate, Interval, Side, Test, Verdict};
use std::collections::BTreeMap;

/// A validation loss "rises" (a bump) when it goes this far above its branch-point value.
pub const BUMP_NATS: f64 = 0.01;
/// Orderings ("higher LR, lower loss") tolerate reversals this small.
pub const ORDER_NATS: f64 = 0.005;
/// Losses "barely differ" when their spread is within this share of their mean.
pub const SAME_SHARE: f64 = 0.01;
/// Replay "costs little downstream" / "matches the union" within this share.
pub const REPLAY_SHARE: f64 = 0.02;

#[derive(Clone, Debug)]
pub struct Finding {
    pub id: &'static str,
    /// The paper and the place in it (or in the spec) that states the finding.
    pub source: &'static str,
    pub statement: &'static str,
    pub threshold: String,
    pub verdict: Verdict,
    /// The numbers of the first seed that tested it (or why it was not tested).
    pub evidence: String,
    /// Each test over the seeds, with its interval.
    pub tests: Vec<Estimate>,
    /// The seeds the verdict rests on: the fewest any of its tests was measured on.
    pub seeds: usize,
}

/// The finished runs' metrics by name, with the plan that made them.
pub struct Results<'a> {
    pub plan: &'a Plan,
    pub metrics: &'a BTreeMap<String, RunMetrics>,
}

impl<'a> Results<'a> {
    /// The metrics of each seed's runs under the names of the runs they repeat (the first
    /// seed's runs under their own): what one seed's findings read. Runs no seed repeats (the
    /// upstream run) are in every seed's.
    pub fn by_seed(&self) -> Vec<BTreeMap<String, RunMetrics>> {
        let seeds = self.plan.seeds.len().max(1);
        (0..seeds)
            .map(|k| {
                self.plan
                    .runs
                    .iter()
                    .filter(|r| r.seed_index == k || !self.plan.repeated(r))
                    .filter_map(|r| {
                        let m = self.metrics.get(&r.name)?;
                        Some((
                            r.repeats.clone().unwrap_or_else(|| r.name.clone()),
                            m.clone(),
                        ))
                    })
                    .collect()
            })
            .collect()
    }

    fn get(&self, name: &str) -> Option<&RunMetrics> {
        self.metrics.get(name).filter(|m| m.complete)
    }

    /// The finished continual runs of an axis, ordered by the axis value, with their labels.
    fn axis(&self, a: Axis) -> Vec<(&PlannedRun, &RunMetrics)> {
        let mut v: Vec<(&PlannedRun, &RunMetrics)> = self
            .plan
            .runs
            .iter()
            .filter(|r| r.axes.contains(&a) && matches!(r.kind, Kind::Continual(_)))
            .filter_map(|r| Some((r, self.get(&r.name)?)))
            .collect();
        v.sort_by(|x, y| {
            let k = |r: &PlannedRun| {
                r.settings()
                    .map_or(0.0, |s| s.sort_key(a, &self.plan.starts))
            };
            k(x.0).total_cmp(&k(y.0))
        });
        v
    }
}

fn f4(x: f64) -> String {
    format!("{x:.4}")
}

fn list(v: &[(&PlannedRun, &RunMetrics)], f: impl Fn(&Point) -> f64) -> String {
    v.iter()
        .map(|(r, m)| format!("{} {}", r.name, m.last().map_or("—".into(), |p| f4(f(p)))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tests of an ordering along `v`: between neighbours, `f` of the later run minus the
/// earlier's at most ORDER_NATS (`down`: the loss should fall) or at least -ORDER_NATS.
fn order_tests(
    v: &[(&PlannedRun, &RunMetrics)],
    f: impl Fn(&Point) -> f64,
    down: bool,
    what: &str,
) -> Vec<Test> {
    v.windows(2)
        .map(|w| {
            let x = |i: usize| w[i].1.last().map_or(f64::NAN, &f);
            let label = format!("{} − {} {what}", w[1].0.name, w[0].0.name);
            if down {
                Test::new(label, x(1) - x(0), Side::AtMost, ORDER_NATS)
            } else {
                Test::new(label, x(1) - x(0), Side::AtLeast, -ORDER_NATS)
            }
        })
        .collect()
}

/// What a finding claims, before the numbers judge it.
struct Claim {
    id: &'static str,
    source: &'static str,
    statement: &'static str,
    threshold: String,
}

/// What a finding measured on one seed: its tests and the numbers behind them, or why it
/// was not tested.
enum Measured {
    Tests(Vec<Test>, String),
    NotTested(String),
}

impl Claim {
    /// The tests that decide the finding, with the numbers that show them.
    fn tests(self, tests: Vec<Test>, evidence: String) -> (Claim, Measured) {
        (self, Measured::Tests(tests, evidence))
    }

    /// Not tested by this grid, and why.
    fn not_tested(self, why: &str) -> (Claim, Measured) {
        (self, Measured::NotTested(why.into()))
    }
}

/// Gupta et al. 2023, "Continual Pre-Training of Large Language Models: How to (re)warm your
/// model?"; Ibrahim et al. 2024, "Simple and Scalable Strategies to Continually Pre-train
/// Large Language Models" (TMLR). Each source names where the finding is stated.
const GUPTA: &str = "Gupta et al. 2023 (spec section 3)";
const IBRAHIM: &str = "Ibrahim et al. 2024 (spec section 3, follow-up)";

type Check = fn(&Results) -> (Claim, Measured);

/// Every finding's check, in the report's order: one function each.
const FINDINGS: [Check; 13] = [
    stability_gap,
    warmup_length,
    max_lr_adapts,
    max_lr_forgets,
    constant_lr,
    constant_lr_early,
    start_checkpoint,
    beats_scratch,
    replay_keeps_upstream,
    replay_costs_little,
    replay_matches_union,
    same_data_bump,
    infinite_schedules,
];

/// Every finding, measured on each seed and judged over the seeds; with one seed, judged on
/// the intervals of a paired bootstrap over the evaluation sequences when the runs logged
/// their per-sequence losses.
pub fn check(r: &Results) -> Vec<Finding> {
    let views = r.by_seed();
    let boot = match views.as_slice() {
        [one] => replicate_tests(r.plan, one),
        _ => None,
    };
    FINDINGS
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let measured: Vec<(Claim, Measured)> = views
                .iter()
                .map(|m| {
                    f(&Results {
                        plan: r.plan,
                        metrics: m,
                    })
                })
                .collect();
            judge(measured, boot.as_ref().map(|(i, v)| (*i, &v[k])))
        })
        .collect()
}

/// A finding's test values by label, one per bootstrap replicate.
type Replicated = BTreeMap<String, Vec<f64>>;

/// Each finding's test values over the bootstrap replicates of one seed's runs, and the
/// interval they give; None when the runs logged no shared sequence losses.
fn replicate_tests(
    plan: &Plan,
    runs: &BTreeMap<String, RunMetrics>,
) -> Option<(Interval, Vec<Replicated>)> {
    let mut values = vec![Replicated::new(); FINDINGS.len()];
    let (upstream, downstream) = super::bootstrap::replicates(runs, |m| {
        let r = Results { plan, metrics: m };
        for (k, f) in FINDINGS.iter().enumerate() {
            if let (_, Measured::Tests(tests, _)) = f(&r) {
                for t in tests {
                    values[k].entry(t.label).or_default().push(t.value);
                }
            }
        }
    })?;
    let interval = Interval::Bootstrap {
        upstream,
        downstream,
    };
    Some((interval, values))
}

/// One finding over the seeds: the estimates of the seeds that tested it (one seed's with
/// the bootstrap's replicates, when there are some).
fn judge(measured: Vec<(Claim, Measured)>, boot: Option<(Interval, &Replicated)>) -> Finding {
    let tested: Vec<(&[Test], &str)> = measured
        .iter()
        .filter_map(|(_, m)| match m {
            Measured::Tests(t, e) => Some((t.as_slice(), e.as_str())),
            Measured::NotTested(_) => None,
        })
        .collect();
    let tests = match (tested.as_slice(), boot) {
        ([(one, _)], Some((interval, values))) => {
            super::verdict::bootstrapped(one, values, interval)
        }
        _ => super::verdict::estimates(&tested.iter().map(|t| t.0).collect::<Vec<_>>()),
    };
    let evidence = match (tested.first(), &measured[0].1) {
        (Some((_, e)), _) => e.to_string(),
        (None, Measured::NotTested(why)) => why.clone(),
        (None, Measured::Tests(..)) => unreachable!("a seed with tests is tested"),
    };
    let verdict = super::verdict::overall(&tests);
    // What the verdict rests on: the fewest seeds any of its tests was measured on.
    let seeds = tests.iter().map(|t| t.seeds).min().unwrap_or(0);
    let claim = &measured[0].0;
    Finding {
        id: claim.id,
        source: claim.source,
        statement: claim.statement,
        threshold: claim.threshold.clone(),
        verdict,
        evidence,
        tests,
        seeds,
    }
}

/// Finding 1: re-warming raises both losses for a while, then downstream falls below the constant run's.
fn stability_gap(r: &Results) -> (Claim, Measured) {
    let reference = r.get(REFERENCE);
    let constant = r.get(baseline_name(Baseline::Constant));
    let claim = Claim {
        id: "1 stability gap",
        source: GUPTA,
        statement: "Re-warming first raises both upstream and downstream validation loss for a while, then downstream loss falls below the no-re-warm baseline.",
        threshold: format!("a rise of at least {BUMP_NATS} nats above the branch-point loss in the first half of the reference run; final downstream loss below the constant-LR run's"),
    };
    let (Some(m), Some(c)) = (reference, constant) else {
        return claim.not_tested("needs the reference run and the constant baseline");
    };
    let (up, down) = (m.bump(|p| p.upstream), m.bump(|p| p.downstream));
    let (fd, cd) = (
        m.last().map(|p| p.downstream),
        c.last().map(|p| p.downstream),
    );
    let (Some(u), Some(d), Some(fd), Some(cd)) = (up, down, fd, cd) else {
        return claim.not_tested("the reference run has no branch-point evaluation");
    };
    let evidence = format!(
        "upstream rises {} (peak at {} tokens), downstream rises {} (peak at {} tokens, back under its start {}); final downstream {} re-warmed vs {} constant",
        f4(u.height),
        u.peak_tokens,
        f4(d.height),
        d.peak_tokens,
        d.gone_tokens.map_or("never".into(), |t| format!("at {t} tokens")),
        f4(fd),
        f4(cd)
    );
    claim.tests(
        vec![
            Test::new("upstream rise", u.height, Side::AtLeast, BUMP_NATS),
            Test::new("downstream rise", d.height, Side::AtLeast, BUMP_NATS),
            Test::new(
                "reference − constant final downstream",
                fd - cd,
                Side::Below,
                0.0,
            ),
        ],
        evidence,
    )
}

/// Finding 2: warmup length barely changes the final losses.
fn warmup_length(r: &Results) -> (Claim, Measured) {
    let claim = Claim {
        id: "2 warmup length",
        source: GUPTA,
        statement: "Warmup length (0 .. 2 %) barely changes the final losses; it only shapes the early bump.",
        threshold: format!("spread of the final upstream and downstream losses across warmup lengths within {} % of their mean", SAME_SHARE * 100.0),
    };
    let v = r.axis(Axis::Warmup);
    if v.len() < 2 {
        return claim.not_tested("needs at least two warmup lengths");
    }
    let spread = |f: &dyn Fn(&Point) -> f64| {
        let xs: Vec<f64> = v.iter().filter_map(|(_, m)| m.last().map(f)).collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        (hi - lo, (hi - lo) / mean)
    };
    let (du, su) = spread(&|p: &Point| p.upstream);
    let (dd, sd) = spread(&|p: &Point| p.downstream);
    let bumps = v
        .iter()
        .map(|(r, m)| {
            let b = m.bump(|p| p.downstream);
            format!("{} {}", r.name, b.map_or("—".into(), |b| f4(b.height)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let evidence = format!(
        "final downstream: {} (spread {} = {:.2} %); final upstream: {} (spread {} = {:.2} %); downstream bump heights: {bumps}",
        list(&v, |p| p.downstream),
        f4(dd),
        sd * 100.0,
        list(&v, |p| p.upstream),
        f4(du),
        su * 100.0
    );
    let share = SAME_SHARE * 100.0;
    claim.tests(
        vec![
            Test::percent("final downstream spread", sd * 100.0, Side::AtMost, share),
            Test::percent("final upstream spread", su * 100.0, Side::AtMost, share),
        ],
        evidence,
    )
}

/// An ordering along an axis: `loss` of the final points, in the axis's order, never moves
/// the wrong way (up when `down`, else down) by more than ORDER_NATS between neighbours.
struct Ordering {
    axis: Axis,
    claim: Claim,
    /// What the evidence lists, e.g. "final downstream by max LR".
    listed: &'static str,
    /// Why it is not tested with fewer than two runs.
    needs: &'static str,
    loss: fn(&Point) -> f64,
    /// The loss named in the tests, e.g. "final downstream".
    what: &'static str,
    down: bool,
}

fn ordering(r: &Results, o: Ordering) -> (Claim, Measured) {
    let v = r.axis(o.axis);
    if v.len() < 2 {
        return o.claim.not_tested(o.needs);
    }
    let evidence = format!("{}: {}", o.listed, list(&v, o.loss));
    let tests = order_tests(&v, o.loss, o.down, o.what);
    o.claim.tests(tests, evidence)
}

/// Findings 3a and 3b: the max-LR runs ordered on the final downstream loss (falling) or the
/// final upstream loss (rising).
fn max_lr_order(
    r: &Results,
    id: &'static str,
    statement: &'static str,
    downstream: bool,
) -> (Claim, Measured) {
    let (listed, what, loss): (_, _, fn(&Point) -> f64) = if downstream {
        ("final downstream by max LR", "final downstream", |p| {
            p.downstream
        })
    } else {
        ("final upstream by max LR", "final upstream", |p| p.upstream)
    };
    let threshold =
        format!("each higher max LR at most {ORDER_NATS} nats worse on the loss it should lower");
    ordering(
        r,
        Ordering {
            axis: Axis::MaxLr,
            claim: Claim {
                id,
                source: GUPTA,
                statement,
                threshold,
            },
            listed,
            needs: "needs at least two max LRs",
            loss,
            what,
            down: downstream,
        },
    )
}

/// Finding 3a: a higher max LR gives a lower final downstream loss.
fn max_lr_adapts(r: &Results) -> (Claim, Measured) {
    let statement = "Higher max LR gives lower final downstream loss.";
    max_lr_order(r, "3a max LR adapts", statement, true)
}

/// Finding 3b: a higher max LR gives a higher final upstream loss.
fn max_lr_forgets(r: &Results) -> (Claim, Measured) {
    let statement = "Higher max LR gives higher final upstream loss (more forgetting).";
    max_lr_order(r, "3b max LR forgets", statement, false)
}

/// Finding 3c: the constant small LR forgets least and adapts least.
fn constant_lr(r: &Results) -> (Claim, Measured) {
    let constant = r.get(baseline_name(Baseline::Constant));
    let v = r.axis(Axis::MaxLr);
    let claim = Claim {
        id: "3c constant LR",
        source: GUPTA,
        statement: "The constant small LR (no re-warm) forgets least and adapts least.",
        threshold: format!("the constant run's final upstream loss at most {ORDER_NATS} nats above, and its final downstream loss at most {ORDER_NATS} nats below, every re-warmed max-LR run's"),
    };
    let Some(c) = constant.and_then(|c| c.last()).filter(|_| !v.is_empty()) else {
        return claim.not_tested("needs the constant baseline and the max-LR runs");
    };
    let mut tests = Vec::new();
    for (run, m) in &v {
        let p = m.last();
        let up = p.map_or(f64::NAN, |p| c.upstream - p.upstream);
        let down = p.map_or(f64::NAN, |p| c.downstream - p.downstream);
        let name = &run.name;
        tests.push(Test::new(
            format!("constant − {name} final upstream"),
            up,
            Side::AtMost,
            ORDER_NATS,
        ));
        tests.push(Test::new(
            format!("constant − {name} final downstream"),
            down,
            Side::AtLeast,
            -ORDER_NATS,
        ));
    }
    let evidence = format!(
        "constant: upstream {}, downstream {}; re-warmed upstream {}; downstream {}",
        f4(c.upstream),
        f4(c.downstream),
        list(&v, |p| p.upstream),
        list(&v, |p| p.downstream)
    );
    claim.tests(tests, evidence)
}

/// Finding 3d: the constant small LR is best early and worst late downstream.
fn constant_lr_early(r: &Results) -> (Claim, Measured) {
    let constant = r.get(baseline_name(Baseline::Constant));
    let claim = Claim {
        id: "3d constant LR early",
        source: "Gupta et al. 2023, their max-LR curves (a reading of the curves, not among the findings they state; spec section 6)",
        statement: "The constant small LR is best early and worst late (downstream).",
        threshold: format!("at the first evaluation after 5 % of the run (past the warmups) the constant run's downstream loss at most {ORDER_NATS} nats above every re-warmed max-LR run's, and at the end above all of them"),
    };
    let v = r.axis(Axis::MaxLr);
    let Some(c) = constant.filter(|_| !v.is_empty()) else {
        return claim.not_tested("needs the constant baseline and the max-LR runs");
    };
    let early_step = |m: &RunMetrics| m.last().map_or(0, |p| p.step).div_ceil(20).max(1);
    let first = |m: &RunMetrics| {
        let s = early_step(m);
        m.points.iter().find(|p| p.step >= s).map(|p| p.downstream)
    };
    let (c0, c1) = (first(c), c.last().map(|p| p.downstream));
    let diff = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => a - b,
        _ => f64::NAN,
    };
    let mut tests = Vec::new();
    for (run, m) in &v {
        let name = &run.name;
        let early = diff(c0, first(m));
        tests.push(Test::new(
            format!("constant − {name} early downstream"),
            early,
            Side::AtMost,
            ORDER_NATS,
        ));
        let late = diff(c1, m.last().map(|p| p.downstream));
        tests.push(Test::new(
            format!("constant − {name} final downstream"),
            late,
            Side::Above,
            0.0,
        ));
    }
    let at = c
        .points
        .iter()
        .find(|p| p.step >= early_step(c))
        .map_or(0, |p| p.tokens);
    let evidence = format!(
        "downstream at {at} tokens: constant {}, {}; at the end: constant {}, {}",
        c0.map_or("—".into(), f4),
        v.iter()
            .map(|(r, m)| format!("{} {}", r.name, first(m).map_or("—".into(), f4)))
            .collect::<Vec<_>>()
            .join(", "),
        c1.map_or("—".into(), f4),
        list(&v, |p| p.downstream)
    );
    claim.tests(tests, evidence)
}

/// Finding 4: an earlier start checkpoint is no better than the final one.
fn start_checkpoint(r: &Results) -> (Claim, Measured) {
    let claim = Claim {
        id: "4 start checkpoint",
        source: GUPTA,
        statement: "Starting from an earlier (not fully decayed) checkpoint is no better than starting from the final one.",
        threshold: format!("the final checkpoint's run at most {ORDER_NATS} nats above every earlier start on final downstream loss"),
    };
    let v = r.axis(Axis::Start);
    let fin = v
        .iter()
        .find(|(r, _)| r.settings().is_some_and(|s| s.start == "final"));
    let Some((fr, fm)) = fin.filter(|_| v.len() >= 2) else {
        return claim.not_tested("needs the final and at least one earlier start");
    };
    let fd = fm.last().map_or(f64::NAN, |p| p.downstream);
    let tests = v
        .iter()
        .filter(|(r, _)| r.name != fr.name)
        .map(|(r, m)| {
            let d = fd - m.last().map_or(f64::NAN, |p| p.downstream);
            Test::new(
                format!("{} − {} final downstream", fr.name, r.name),
                d,
                Side::AtMost,
                ORDER_NATS,
            )
        })
        .collect();
    let evidence = format!("final downstream by start: {}", list(&v, |p| p.downstream));
    claim.tests(tests, evidence)
}

/// Finding 5: continual pre-training beats scratch at the same token budget.
fn beats_scratch(r: &Results) -> (Claim, Measured) {
    let reference = r.get(REFERENCE);
    let claim = Claim {
        id: "5 beats scratch",
        source: GUPTA,
        statement: "Continual pre-training beats training from scratch on the downstream data at the same token budget.",
        threshold: "the reference run's downstream loss below the scratch run's at the end and at every shared evaluation after the first tenth".to_string(),
    };
    let (Some(m), Some(s)) = (reference, r.get(baseline_name(Baseline::Scratch))) else {
        return claim.not_tested("needs the reference run and the scratch baseline");
    };
    let end = m.tokens;
    let shared: Vec<(f64, f64)> = m
        .points
        .iter()
        .filter(|p| p.tokens * 10 >= end)
        .filter_map(|p| {
            s.points
                .iter()
                .find(|q| q.tokens == p.tokens)
                .map(|q| (p.downstream, q.downstream))
        })
        .collect();
    let wins = shared.iter().filter(|(a, b)| a < b).count();
    let worst = shared.iter().map(|(a, b)| a - b).fold(f64::NAN, f64::max);
    let (fm, fs) = (
        m.last().map_or(f64::NAN, |p| p.downstream),
        s.last().map_or(f64::NAN, |p| p.downstream),
    );
    let evidence = format!(
        "final downstream {} continual vs {} scratch; continual lower at {wins} of {} shared evaluations",
        f4(fm),
        f4(fs),
        shared.len()
    );
    claim.tests(
        vec![
            Test::new(
                "reference − scratch final downstream",
                fm - fs,
                Side::Below,
                0.0,
            ),
            Test::new(
                "reference − scratch downstream, worst shared evaluation",
                worst,
                Side::Below,
                0.0,
            ),
        ],
        evidence,
    )
}

/// R1: more replay gives less forgetting.
fn replay_keeps_upstream(r: &Results) -> (Claim, Measured) {
    ordering(
        r,
        Ordering {
            axis: Axis::Replay,
            claim: Claim {
                id: "R1 replay keeps upstream",
                source: "Ibrahim et al. 2024, Pile → SlimPajama replay table (spec section 6)",
                statement:
                    "More replay of upstream data gives less forgetting (lower final upstream loss).",
                threshold: format!(
                    "each larger replay share at most {ORDER_NATS} nats higher on final upstream loss"
                ),
            },
            listed: "final upstream by replay share",
            needs: "needs at least two replay shares",
            loss: |p| p.upstream,
            what: "final upstream",
            down: true,
        },
    )
}

/// R2: replay costs little downstream.
fn replay_costs_little(r: &Results) -> (Claim, Measured) {
    let v = r.axis(Axis::Replay);
    let claim = Claim {
        id: "R2 replay costs little downstream",
        source: "Ibrahim et al. 2024, Pile → SlimPajama replay table (spec section 6)",
        statement: "Replay costs little downstream (SlimPajama 2.50 with none, 2.51 with 5-10 %, 2.54 with 50 %).",
        threshold: format!(
            "the largest share's final downstream loss within {} % of no replay's",
            REPLAY_SHARE * 100.0
        ),
    };
    let none = v
        .iter()
        .find(|(r, _)| r.settings().is_some_and(|s| s.replay == 0.0));
    let (Some((_, n)), Some((lr, lm))) = (none, v.last().filter(|_| v.len() >= 2)) else {
        return claim.not_tested("needs no replay and at least one replay share");
    };
    let (a, b) = (
        n.last().map_or(f64::NAN, |p| p.downstream),
        lm.last().map_or(f64::NAN, |p| p.downstream),
    );
    let change = (b / a - 1.0) * 100.0;
    let evidence = format!(
        "final downstream {} with no replay, {} with {} ({change:+.2} %)",
        f4(a),
        f4(b),
        lr.name,
    );
    let label = format!("{} vs no replay, final downstream", lr.name);
    let test = Test::percent(label, change, Side::AtMost, REPLAY_SHARE * 100.0);
    claim.tests(vec![test], evidence)
}

/// R3: re-warming with replay matches training on the union.
fn replay_matches_union(r: &Results) -> (Claim, Measured) {
    let v = r.axis(Axis::Replay);
    let claim = Claim {
        id: "R3 replay matches union",
        source: IBRAHIM,
        statement: "Re-warming, re-decaying and replaying a share of upstream data matches training from scratch on the union of both corpora (average of the two losses).",
        threshold: format!(
            "the best replay run's average final loss within {} % of the union run's (or below it)",
            REPLAY_SHARE * 100.0
        ),
    };
    let best = v
        .iter()
        .filter_map(|(r, m)| Some((r, m.average()?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let union = r
        .get(baseline_name(Baseline::Union))
        .and_then(|u| u.average());
    let (Some((br, ba)), Some(ua)) = (best, union) else {
        return claim.not_tested("needs replay runs and the union baseline");
    };
    let change = (ba / ua - 1.0) * 100.0;
    let evidence = format!(
        "average loss {} for {} vs {} for the union ({change:+.2} %)",
        f4(ba),
        br.name,
        f4(ua),
    );
    let test = Test::percent(
        "best replay run vs union, average final loss",
        change,
        Side::AtMost,
        REPLAY_SHARE * 100.0,
    );
    claim.tests(vec![test], evidence)
}

/// R4: re-warming on the same data shows the bump too.
fn same_data_bump(r: &Results) -> (Claim, Measured) {
    let claim = Claim {
        id: "R4 same-data bump",
        source: "Gupta et al. 2023, their re-warming on the Pile itself (not among spec section 3's findings)",
        statement: "Re-warming on the same (upstream) data shows the loss bump too.",
        threshold: format!("the same-data run's upstream loss rises at least {BUMP_NATS} nats above its branch-point value"),
    };
    let Some(b) = r
        .get(baseline_name(Baseline::SameData))
        .and_then(|m| m.bump(|p| p.upstream))
    else {
        return claim.not_tested("needs the same-data baseline");
    };
    let evidence = format!(
        "upstream rises {} (peak at {} tokens)",
        f4(b.height),
        b.peak_tokens
    );
    let test = Test::new(
        "same-data upstream rise",
        b.height,
        Side::AtLeast,
        BUMP_NATS,
    );
    claim.tests(vec![test], evidence)
}

/// S1: schedules without a full re-decay end as well as cosine.
fn infinite_schedules(r: &Results) -> (Claim, Measured) {
    let claim = Claim {
        id: "S1 infinite schedules",
        source: IBRAHIM,
        statement: "Schedules without a full re-decay (warmup-stable-decay, infinite) end as well as cosine.",
        threshold: format!(
            "their final downstream and upstream losses within {} % of the cosine run's",
            SAME_SHARE * 100.0
        ),
    };
    let v = r.axis(Axis::Schedule);
    let cos = v
        .iter()
        .find(|(r, _)| r.settings().is_some_and(|s| s.schedule.name() == "cosine"));
    let Some((cr, c)) = cos
        .filter(|_| v.len() >= 2)
        .and_then(|(r, m)| Some((r, m.last()?)))
    else {
        return claim.not_tested("needs cosine and another schedule family");
    };
    let mut tests = Vec::new();
    for (run, m) in v.iter().filter(|(r, _)| r.name != cr.name) {
        let p = m.last();
        let rel = |f: fn(&Point) -> f64| p.map_or(f64::NAN, |p| (f(p) / f(c) - 1.0) * 100.0);
        let share = SAME_SHARE * 100.0;
        let name = &run.name;
        tests.push(Test::percent(
            format!("{name} vs cosine, final downstream"),
            rel(|p| p.downstream),
            Side::AtMost,
            share,
        ));
        tests.push(Test::percent(
            format!("{name} vs cosine, final upstream"),
            rel(|p| p.upstream),
            Side::AtMost,
            share,
        ));
    }
    let evidence = format!(
        "final downstream: {}; final upstream: {}",
        list(&v, |p| p.downstream),
        list(&v, |p| p.upstream)
    );
    claim.tests(tests, evidence)
}
