//! The paper's analyses (spec section 3), one file per figure. Each analysis reads the store
//! through SQL, finishes the statistics in Rust, and returns the tables behind its figure,
//! the figure's panels, its key numbers beside the published ones, and what it had to skip.

use anyhow::{Context, Result};

use crate::chart::Panel;
use crate::table::Table;

pub use crate::query::{
    floats, small_pool, sql_list, strings, Availability, By, Columns, Cx, Options,
};
pub use cdf::{cdf_table, component_cdfs, ecdf_points, ecdf_table, median_numbers};

mod cdf;
mod fig03;
mod fig04;
mod fig05;
mod fig06;
mod fig07;
mod fig08;
mod fig09;
mod fig10;
mod fig11;
mod fig12;
mod fig13;
mod fig14;
mod fig15;
mod fig16;
mod fig17;
pub mod fits;
pub mod size;

pub use coldstart_trace::target::{Target, Units, Verdict};

/// Regions with the functions table (runtimes, triggers); none: a note in `out` why the
/// analysis is skipped.
pub fn function_regions(cx: &Cx, out: &mut Output) -> Option<Vec<String>> {
    let regions = cx.regions("functions");
    if regions.is_empty() {
        out.skipped
            .push("no functions table (runtime, trigger types: R2 only in the release)".into());
        return None;
    }
    Some(regions)
}

/// One figure's result.
#[derive(Default)]
pub struct Output {
    /// The numbers behind the figure (file stem suffix, table); the first is the main one.
    pub tables: Vec<(String, Table)>,
    pub panels: Vec<Panel>,
    pub cols: usize,
    pub numbers: Vec<KeyNumber>,
    /// Parts left out and why (a region without per-request rows, say).
    pub skipped: Vec<String>,
}

impl Output {
    /// Nothing yet, its panels laid out in `cols` columns.
    pub fn new(cols: usize) -> Self {
        Output {
            cols,
            ..Default::default()
        }
    }

    /// Notes the regions of `all` that are not in `have`, as "R1, R3: {what}".
    pub fn skip_missing(&mut self, all: Vec<String>, have: &[String], what: &str) {
        let missing: Vec<String> = all.into_iter().filter(|r| !have.contains(r)).collect();
        if !missing.is_empty() {
            self.skipped.push(format!("{}: {what}", missing.join(", ")));
        }
    }

    /// No numbers at all: the analysis had nothing to work on.
    pub fn is_empty(&self) -> bool {
        self.tables.iter().all(|(_, t)| t.rows() == 0)
    }
}

/// A measured number beside the paper's, with the verdict of the published tolerance.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyNumber {
    pub what: String,
    pub measured: String,
    pub published: String,
    /// Within or outside the published number's tolerance, or not comparable at this store's
    /// size; None where the paper states no such number.
    pub verdict: Option<Verdict>,
    /// Why the number is not comparable, how it was brought to the paper's size, or what the
    /// published range is made of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KeyNumber {
    /// Not set beside the paper's, for the reason given.
    pub fn not_comparable(mut self, why: impl Into<String>) -> Self {
        self.verdict = Some(Verdict::NotComparable);
        self.note = Some(why.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The verdict as the page writes it, "—" where there is none.
    pub fn verdict_text(&self) -> &'static str {
        self.verdict.map_or("—", Verdict::as_str)
    }
}

/// A measured number the paper does not state (published "—"), or states only in words.
pub fn key(what: impl Into<String>, measured: impl Into<String>, published: &str) -> KeyNumber {
    KeyNumber {
        what: what.into(),
        measured: measured.into(),
        published: published.into(),
        verdict: None,
        note: None,
    }
}

/// `measured` judged against the published `target`, both written in `units`.
pub fn judged(what: impl Into<String>, measured: f64, units: Units, target: Target) -> KeyNumber {
    KeyNumber {
        what: what.into(),
        measured: measured_text(measured, units),
        published: target.text(units),
        verdict: Some(target.verdict(measured)),
        note: None,
    }
}

/// A claim the paper makes in words (`published`), and whether the store bears it out.
pub fn claim(
    what: impl Into<String>,
    measured: impl Into<String>,
    published: &str,
    holds: bool,
) -> KeyNumber {
    KeyNumber {
        verdict: Some(if holds {
            Verdict::Within
        } else {
            Verdict::Outside
        }),
        ..key(what, measured, published)
    }
}

/// A measured number as the key-number tables write it in `units`.
pub fn measured_text(v: f64, units: Units) -> String {
    match units {
        Units::Plain => num(v),
        Units::Percent => pct(v),
        Units::Times if v.is_finite() => format!("{}x", num(v)),
        Units::Times => num(v),
    }
}

pub trait Analysis: Sync {
    /// Figure id as the paper numbers it (`fig10a`).
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// One line saying what the chart shows.
    fn caption(&self) -> &'static str;
    /// What it groups by without `--by`; `None`: the analysis takes no `--by`.
    fn default_grouping(&self) -> Option<&'static str> {
        None
    }
    fn run(&self, cx: &Cx) -> Result<Output>;
}

/// A figure: its id, title and caption, and the routine that draws it. A routine that draws
/// several figures tells them apart by `param` (`()` for a figure of its own).
pub struct Figure<P = ()> {
    pub id: &'static str,
    pub title: &'static str,
    pub caption: &'static str,
    /// What it groups by without `--by`; `None`: it takes no `--by`.
    pub grouping: Option<&'static str>,
    pub param: P,
    run: fn(&Figure<P>, &Cx) -> Result<Output>,
}

/// A figure of its own, drawn by `run`.
pub fn figure(
    id: &'static str,
    title: &'static str,
    caption: &'static str,
    run: fn(&Figure, &Cx) -> Result<Output>,
) -> Figure {
    Figure::of((), id, title, caption, run)
}

impl<P: Sync + 'static> Figure<P> {
    /// One of the figures `run` draws, told apart by `param`.
    pub fn of(
        param: P,
        id: &'static str,
        title: &'static str,
        caption: &'static str,
        run: fn(&Figure<P>, &Cx) -> Result<Output>,
    ) -> Self {
        Figure {
            id,
            title,
            caption,
            grouping: None,
            param,
            run,
        }
    }

    /// Takes `--by`, grouping by `what` without it.
    pub fn grouped_by(self, what: &'static str) -> Self {
        Figure {
            grouping: Some(what),
            ..self
        }
    }

    pub fn boxed(self) -> Box<dyn Analysis> {
        Box::new(self)
    }
}

impl<P: Sync + 'static> Analysis for Figure<P> {
    fn id(&self) -> &'static str {
        self.id
    }
    fn title(&self) -> &'static str {
        self.title
    }
    fn caption(&self) -> &'static str {
        self.caption
    }
    fn default_grouping(&self) -> Option<&'static str> {
        self.grouping
    }
    fn run(&self, cx: &Cx) -> Result<Output> {
        (self.run)(self, cx)
    }
}

/// Every analysis of spec section 3, in the paper's order.
pub fn all() -> Vec<Box<dyn Analysis>> {
    let mut v: Vec<Box<dyn Analysis>> = Vec::new();
    v.extend(fig03::analyses());
    v.extend(fig04::analyses());
    v.extend(fig05::analyses());
    v.extend(fig06::analyses());
    v.extend(fig07::analyses());
    v.extend(fig08::analyses());
    v.extend(fig09::analyses());
    v.extend(fig10::analyses());
    v.extend(fig11::analyses());
    v.extend(fig12::analyses());
    v.extend(fig13::analyses());
    v.extend(fig14::analyses());
    v.extend(fig15::analyses());
    v.extend(fig16::analyses());
    v.extend(fig17::analyses());
    v
}

pub fn find(id: &str) -> Result<Box<dyn Analysis>> {
    let norm = id.to_ascii_lowercase().replace("fig0", "fig");
    all().into_iter().find(|a| a.id() == norm).with_context(|| {
        let ids: Vec<_> = all().iter().map(|a| a.id()).collect();
        format!("no analysis '{id}'; known: {}", ids.join(", "))
    })
}

/// Formats seconds (or any number) compactly for the key-number table.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// A share as a percentage; "n/a (no data)" where there is nothing to share (NaN).
pub fn pct(v: f64) -> String {
    if v.is_finite() {
        // `+ 0.0` turns an empty sum's -0.0 into 0.0.
        format!("{:.1} %", v * 100.0 + 0.0)
    } else {
        "n/a (no data)".into()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shares_without_data_say_so() {
        assert_eq!(super::pct(0.25), "25.0 %");
        assert_eq!(super::pct([0.0f64; 0].iter().sum()), "0.0 %");
        assert_eq!(super::pct(f64::NAN), "n/a (no data)");
    }
}
