//! The findings of spec section 3 (Gupta et al. 2023) and the replay and schedule findings of
//! Ibrahim et al. (2024), each checked against a study's final numbers: holds, does not hold
//! (with the numbers that contradict it), or not tested by this grid.

use super::config::{Axis, Baseline};
use super::metrics::{Point, RunMetrics};
use super::plan::{baseline_name, Kind, Plan, PlannedRun, REFERENCE};
use std::collections::BTreeMap;

/// A validation loss "rises" (a bump) when it goes this far above its branch-point value.
pub const BUMP_NATS: f64 = 0.01;
/// Orderings ("higher LR, lower loss") tolerate reversals this small.
pub const ORDER_NATS: f64 = 0.005;
/// Losses "barely differ" when their spread is within this share of their mean.
pub const SAME_SHARE: f64 = 0.01;
/// Replay "costs little downstream" / "matches the union" within this share.
pub const REPLAY_SHARE: f64 = 0.02;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    DoesNotHold,
    NotTested,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::NotTested => "not tested",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub id: &'static str,
    pub source: &'static str,
    pub statement: &'static str,
    pub threshold: String,
    pub verdict: Verdict,
    pub evidence: String,
}

/// The finished runs' metrics by name, with the plan that made them.
pub struct Results<'a> {
    pub plan: &'a Plan,
    pub metrics: &'a BTreeMap<String, RunMetrics>,
}

impl Results<'_> {
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

fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Holds
    } else {
        Verdict::DoesNotHold
    }
}

/// Whether `f` of the runs, in their order, never rises (`down`) or never falls by more than
/// ORDER_NATS between neighbours.
fn monotone(v: &[(&PlannedRun, &RunMetrics)], f: impl Fn(&Point) -> f64, down: bool) -> bool {
    let xs: Vec<f64> = v.iter().filter_map(|(_, m)| m.last().map(&f)).collect();
    xs.windows(2).all(|w| {
        if down {
            w[1] <= w[0] + ORDER_NATS
        } else {
            w[1] >= w[0] - ORDER_NATS
        }
    })
}

/// What a finding claims, before the numbers judge it.
struct Claim {
    id: &'static str,
    source: &'static str,
    statement: &'static str,
    threshold: String,
}

impl Claim {
    /// Holds or does not, with the numbers that show it.
    fn judge(self, holds: bool, evidence: String) -> Finding {
        self.finding(verdict(holds), evidence)
    }

    /// Not tested by this grid, and why.
    fn not_tested(self, why: &str) -> Finding {
        self.finding(Verdict::NotTested, why.into())
    }

    fn finding(self, verdict: Verdict, evidence: String) -> Finding {
        Finding {
            id: self.id,
            source: self.source,
            statement: self.statement,
            threshold: self.threshold,
            verdict,
            evidence,
        }
    }
}

const GUPTA: &str = "Gupta et al. 2023";
const IBRAHIM: &str = "Ibrahim et al. 2024";

/// Every finding's check, in the report's order: one function each.
const FINDINGS: [fn(&Results) -> Finding; 13] = [
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

pub fn check(r: &Results) -> Vec<Finding> {
    FINDINGS.iter().map(|f| f(r)).collect()
}

/// Finding 1: re-warming raises both losses for a while, then downstream falls below the constant run's.
fn stability_gap(r: &Results) -> Finding {
    let reference = r.get(REFERENCE);
    let constant = r.get(baseline_name(Baseline::Constant));
    let claim = Claim {
        id: "1 stability gap",
        source: GUPTA,
        statement: "Re-warming first raises both upstream and downstream validation loss for a while, then downstream loss falls below the no-re-warm baseline.",
        threshold: format!("a rise of at least {BUMP_NATS} nats above the branch-point loss in the first half of the reference run; final downstream loss below the constant-LR run's"),
    };
    match (reference, constant) {
        (Some(m), Some(c)) => {
            let up = m.bump(|p| p.upstream);
            let down = m.bump(|p| p.downstream);
            let (fd, cd) = (
                m.last().map(|p| p.downstream),
                c.last().map(|p| p.downstream),
            );
            match (up, down, fd, cd) {
                (Some(u), Some(d), Some(fd), Some(cd)) => claim.judge(u.height >= BUMP_NATS && d.height >= BUMP_NATS && fd < cd, format!(
                        "upstream rises {} (peak at {} tokens), downstream rises {} (peak at {} tokens, back under its start {}); final downstream {} re-warmed vs {} constant",
                        f4(u.height),
                        u.peak_tokens,
                        f4(d.height),
                        d.peak_tokens,
                        d.gone_tokens.map_or("never".into(), |t| format!("at {t} tokens")),
                        f4(fd),
                        f4(cd)
                    )),
                _ => claim.not_tested("the reference run has no branch-point evaluation"),
            }
        }
        _ => claim.not_tested("needs the reference run and the constant baseline"),
    }
}

/// Finding 2: warmup length barely changes the final losses.
fn warmup_length(r: &Results) -> Finding {
    let claim = Claim {
        id: "2 warmup length",
        source: GUPTA,
        statement: "Warmup length (0 .. 2 %) barely changes the final losses; it only shapes the early bump.",
        threshold: format!("spread of the final upstream and downstream losses across warmup lengths within {} % of their mean", SAME_SHARE * 100.0),
    };
    let v = r.axis(Axis::Warmup);
    if v.len() < 2 {
        claim.not_tested("needs at least two warmup lengths")
    } else {
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
                format!(
                    "{} {}",
                    r.name,
                    m.bump(|p| p.downstream)
                        .map_or("—".into(), |b| f4(b.height))
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        claim.judge(su <= SAME_SHARE && sd <= SAME_SHARE, format!(
                "final downstream: {} (spread {} = {:.2} %); final upstream: {} (spread {} = {:.2} %); downstream bump heights: {bumps}",
                list(&v, |p| p.downstream),
                f4(dd),
                sd * 100.0,
                list(&v, |p| p.upstream),
                f4(du),
                su * 100.0
            ))
    }
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
    down: bool,
}

fn ordering(r: &Results, o: Ordering) -> Finding {
    let v = r.axis(o.axis);
    if v.len() < 2 {
        return o.claim.not_tested(o.needs);
    }
    let evidence = format!("{}: {}", o.listed, list(&v, o.loss));
    o.claim.judge(monotone(&v, o.loss, o.down), evidence)
}

/// Findings 3a and 3b: the max-LR runs ordered on the final downstream loss (falling) or the
/// final upstream loss (rising).
fn max_lr_order(
    r: &Results,
    id: &'static str,
    statement: &'static str,
    downstream: bool,
) -> Finding {
    let (listed, loss): (_, fn(&Point) -> f64) = if downstream {
        ("final downstream by max LR", |p| p.downstream)
    } else {
        ("final upstream by max LR", |p| p.upstream)
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
            down: downstream,
        },
    )
}

/// Finding 3a: a higher max LR gives a lower final downstream loss.
fn max_lr_adapts(r: &Results) -> Finding {
    let statement = "Higher max LR gives lower final downstream loss.";
    max_lr_order(r, "3a max LR adapts", statement, true)
}

/// Finding 3b: a higher max LR gives a higher final upstream loss.
fn max_lr_forgets(r: &Results) -> Finding {
    let statement = "Higher max LR gives higher final upstream loss (more forgetting).";
    max_lr_order(r, "3b max LR forgets", statement, false)
}

/// Finding 3c: the constant small LR forgets least and adapts least.
fn constant_lr(r: &Results) -> Finding {
    let constant = r.get(baseline_name(Baseline::Constant));
    let v = r.axis(Axis::MaxLr);

    let claim = Claim {
        id: "3c constant LR",
        source: GUPTA,
        statement: "The constant small LR (no re-warm) forgets least and adapts least.",
        threshold: format!("the constant run's final upstream loss at most {ORDER_NATS} nats above, and its final downstream loss at most {ORDER_NATS} nats below, every re-warmed max-LR run's"),
    };
    match (constant.and_then(|c| c.last()), v.is_empty()) {
        (Some(c), false) => {
            let forgets_least = v.iter().all(|(_, m)| {
                m.last()
                    .is_some_and(|p| c.upstream <= p.upstream + ORDER_NATS)
            });
            let adapts_least = v.iter().all(|(_, m)| {
                m.last()
                    .is_some_and(|p| c.downstream >= p.downstream - ORDER_NATS)
            });
            claim.judge(
                forgets_least && adapts_least,
                format!(
                    "constant: upstream {}, downstream {}; re-warmed upstream {}; downstream {}",
                    f4(c.upstream),
                    f4(c.downstream),
                    list(&v, |p| p.upstream),
                    list(&v, |p| p.downstream)
                ),
            )
        }
        _ => claim.not_tested("needs the constant baseline and the max-LR runs"),
    }
}

/// Finding 3d: the constant small LR is best early and worst late downstream.
fn constant_lr_early(r: &Results) -> Finding {
    let constant = r.get(baseline_name(Baseline::Constant));
    let claim = Claim {
        id: "3d constant LR early",
        source: GUPTA,
        statement: "The constant small LR is best early and worst late (downstream).",
        threshold: format!("at the first evaluation after 5 % of the run (past the warmups) the constant run's downstream loss at most {ORDER_NATS} nats above every re-warmed max-LR run's, and at the end above all of them"),
    };
    let v = r.axis(Axis::MaxLr);
    match constant {
        Some(c) if !v.is_empty() => {
            let early_step = |m: &RunMetrics| m.last().map_or(0, |p| p.step).div_ceil(20).max(1);
            let first = |m: &RunMetrics| {
                let s = early_step(m);
                m.points.iter().find(|p| p.step >= s).map(|p| p.downstream)
            };
            let (c0, c1) = (first(c), c.last().map(|p| p.downstream));
            let early = v.iter().all(|(_, m)| match (c0, first(m)) {
                (Some(a), Some(b)) => a <= b + ORDER_NATS,
                _ => false,
            });
            let late = v.iter().all(|(_, m)| match (c1, m.last()) {
                (Some(a), Some(p)) => a > p.downstream,
                _ => false,
            });
            let at = c
                .points
                .iter()
                .find(|p| p.step >= early_step(c))
                .map_or(0, |p| p.tokens);
            claim.judge(
                early && late,
                format!(
                    "downstream at {at} tokens: constant {}, {}; at the end: constant {}, {}",
                    c0.map_or("—".into(), f4),
                    v.iter()
                        .map(|(r, m)| format!("{} {}", r.name, first(m).map_or("—".into(), f4)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    c1.map_or("—".into(), f4),
                    list(&v, |p| p.downstream)
                ),
            )
        }
        _ => claim.not_tested("needs the constant baseline and the max-LR runs"),
    }
}

/// Finding 4: an earlier start checkpoint is no better than the final one.
fn start_checkpoint(r: &Results) -> Finding {
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
    match fin {
        Some((_, fm)) if v.len() >= 2 => {
            let fd = fm.last().map_or(f64::NAN, |p| p.downstream);
            claim.judge(
                v.iter()
                    .all(|(_, m)| m.last().is_some_and(|p| fd <= p.downstream + ORDER_NATS)),
                format!("final downstream by start: {}", list(&v, |p| p.downstream)),
            )
        }
        _ => claim.not_tested("needs the final and at least one earlier start"),
    }
}

/// Finding 5: continual pre-training beats scratch at the same token budget.
fn beats_scratch(r: &Results) -> Finding {
    let reference = r.get(REFERENCE);
    let claim = Claim {
        id: "5 beats scratch",
        source: GUPTA,
        statement: "Continual pre-training beats training from scratch on the downstream data at the same token budget.",
        threshold: "the reference run's downstream loss below the scratch run's at the end and at every shared evaluation after the first tenth".to_string(),
    };
    match (reference, r.get(baseline_name(Baseline::Scratch))) {
        (Some(m), Some(s)) => {
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
            let (fm, fs) = (
                m.last().map_or(f64::NAN, |p| p.downstream),
                s.last().map_or(f64::NAN, |p| p.downstream),
            );
            claim.judge(fm < fs && wins == shared.len(), format!(
                    "final downstream {} continual vs {} scratch; continual lower at {wins} of {} shared evaluations",
                    f4(fm),
                    f4(fs),
                    shared.len()
                ))
        }
        _ => claim.not_tested("needs the reference run and the scratch baseline"),
    }
}

/// R1: more replay gives less forgetting.
fn replay_keeps_upstream(r: &Results) -> Finding {
    ordering(
        r,
        Ordering {
            axis: Axis::Replay,
            claim: Claim {
                id: "R1 replay keeps upstream",
                source: IBRAHIM,
                statement:
                    "More replay of upstream data gives less forgetting (lower final upstream loss).",
                threshold: format!(
                    "each larger replay share at most {ORDER_NATS} nats higher on final upstream loss"
                ),
            },
            listed: "final upstream by replay share",
            needs: "needs at least two replay shares",
            loss: |p| p.upstream,
            down: true,
        },
    )
}
/// R2: replay costs little downstream.
fn replay_costs_little(r: &Results) -> Finding {
    let v = r.axis(Axis::Replay);

    let claim = Claim {
        id: "R2 replay costs little downstream",
        source: IBRAHIM,
        statement: "Replay costs little downstream (SlimPajama 2.50 with none, 2.51 with 5-10 %, 2.54 with 50 %).",
        threshold: format!(
        "the largest share's final downstream loss within {} % of no replay's",
        REPLAY_SHARE * 100.0
    ),
    };
    let none = v
        .iter()
        .find(|(r, _)| r.settings().is_some_and(|s| s.replay == 0.0));
    match (none, v.last()) {
        (Some((_, n)), Some((lr, lm))) if v.len() >= 2 => {
            let (a, b) = (
                n.last().map_or(f64::NAN, |p| p.downstream),
                lm.last().map_or(f64::NAN, |p| p.downstream),
            );
            claim.judge(
                b <= a * (1.0 + REPLAY_SHARE),
                format!(
                    "final downstream {} with no replay, {} with {} ({:+.2} %)",
                    f4(a),
                    f4(b),
                    lr.name,
                    (b / a - 1.0) * 100.0
                ),
            )
        }
        _ => claim.not_tested("needs no replay and at least one replay share"),
    }
}

/// R3: re-warming with replay matches training on the union.
fn replay_matches_union(r: &Results) -> Finding {
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
    match (
        best,
        r.get(baseline_name(Baseline::Union))
            .and_then(|u| u.average()),
    ) {
        (Some((br, ba)), Some(ua)) => claim.judge(
            ba <= ua * (1.0 + REPLAY_SHARE),
            format!(
                "average loss {} for {} vs {} for the union ({:+.2} %)",
                f4(ba),
                br.name,
                f4(ua),
                (ba / ua - 1.0) * 100.0
            ),
        ),
        _ => claim.not_tested("needs replay runs and the union baseline"),
    }
}

/// R4: re-warming on the same data shows the bump too.
fn same_data_bump(r: &Results) -> Finding {
    let claim = Claim {
        id: "R4 same-data bump",
        source: GUPTA,
        statement: "Re-warming on the same (upstream) data shows the loss bump too.",
        threshold: format!("the same-data run's upstream loss rises at least {BUMP_NATS} nats above its branch-point value"),
    };
    match r
        .get(baseline_name(Baseline::SameData))
        .and_then(|m| m.bump(|p| p.upstream))
    {
        Some(b) => claim.judge(
            b.height >= BUMP_NATS,
            format!(
                "upstream rises {} (peak at {} tokens)",
                f4(b.height),
                b.peak_tokens
            ),
        ),
        None => claim.not_tested("needs the same-data baseline"),
    }
}

/// S1: schedules without a full re-decay end as well as cosine.
fn infinite_schedules(r: &Results) -> Finding {
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
    match cos {
        Some((_, cm)) if v.len() >= 2 => {
            let c = cm.last().cloned();
            let ok = v.iter().all(|(_, m)| match (m.last(), &c) {
                (Some(p), Some(c)) => {
                    p.downstream <= c.downstream * (1.0 + SAME_SHARE)
                        && p.upstream <= c.upstream * (1.0 + SAME_SHARE)
                }
                _ => false,
            });
            claim.judge(
                ok,
                format!(
                    "final downstream: {}; final upstream: {}",
                    list(&v, |p| p.downstream),
                    list(&v, |p| p.upstream)
                ),
            )
        }
        _ => claim.not_tested("needs cosine and another schedule family"),
    }
}
