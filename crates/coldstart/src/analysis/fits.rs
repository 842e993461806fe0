//! Distribution fits of cold start times and of the gaps between cold starts, read from the
//! store. Figures 10b and 10d and `coldstart fit` are this one routine.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use clap::ValueEnum;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::{floats, strings, Cx};
use crate::chart::Panel;
use crate::fit::{fit_all, fit_panel, fits_table, FitRow, Sample};
use crate::stats::sort;
use crate::table::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    ColdStartTime,
    InterArrival,
}

impl What {
    pub fn label(self) -> &'static str {
        match self {
            What::ColdStartTime => "cold start time (s)",
            What::InterArrival => "time between cold starts (s)",
        }
    }
}

/// Per group: the values of `what` (groups: one "all", or one per region).
pub fn samples(cx: &Cx, what: What, by_region: bool) -> Result<BTreeMap<String, Sample>> {
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let filter = cx.region_filter("region");
    match what {
        What::ColdStartTime => {
            cx.for_each(
                &format!(
                    "SELECT region, totalCost_cold_start FROM cold_starts WHERE true {filter}"
                ),
                |b| {
                    let r = strings(b.column(0))?;
                    let v = floats(b.column(1))?;
                    for (r, v) in r.into_iter().zip(v) {
                        let g = if by_region { r } else { "all".into() };
                        groups.entry(g).or_default().push(v);
                    }
                    Ok(())
                },
            )?;
        }
        What::InterArrival => {
            for (r, gaps) in inter_arrivals(cx)?.iter() {
                let g = if by_region { r.clone() } else { "all".into() };
                groups.entry(g).or_default().extend(gaps);
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(g, v)| (g, Sample::new(v)))
        .collect())
}

/// Gaps between consecutive cold starts of each region (all its functions), in time order;
/// computed once per report.
pub fn inter_arrivals(cx: &Cx) -> Result<std::rc::Rc<BTreeMap<String, Vec<f64>>>> {
    cx.memo("inter_arrivals", || gaps(cx))
}

fn gaps(cx: &Cx) -> Result<BTreeMap<String, Vec<f64>>> {
    let mut out = BTreeMap::new();
    for r in cx.regions("cold_starts") {
        let mut t = Vec::new();
        cx.for_each(
            &format!(
                "SELECT time FROM cold_starts WHERE region = '{}'",
                r.replace('\'', "''")
            ),
            |b| {
                t.extend(floats(b.column(0))?);
                Ok(())
            },
        )?;
        sort(&mut t);
        out.insert(r, t.windows(2).map(|w| w[1] - w[0]).collect());
    }
    Ok(out)
}

/// One group's sample and its four fits.
pub struct FitGroup {
    pub name: String,
    pub sample: Sample,
    pub fits: Vec<FitRow>,
}

/// Every group's fits of `what`.
pub struct Fits {
    pub what: What,
    pub groups: Vec<FitGroup>,
}

impl Fits {
    /// Fits `what` over all cold starts, or per region.
    pub fn compute(cx: &Cx, what: What, by_region: bool) -> Result<Self> {
        let groups = samples(cx, what, by_region)?
            .into_iter()
            .map(|(name, sample)| FitGroup {
                fits: fit_all(&sample.sorted),
                name,
                sample,
            })
            .collect();
        Ok(Self { what, groups })
    }

    /// The fits table: one row per group and law.
    pub fn table(&self) -> Table {
        let rows: Vec<(String, FitRow)> = self
            .groups
            .iter()
            .flat_map(|g| g.fits.iter().map(|f| (g.name.clone(), f.clone())))
            .collect();
        fits_table(&rows, &self.dropped())
    }

    /// Non-positive values left out of each group's fits.
    pub fn dropped(&self) -> BTreeMap<String, usize> {
        self.groups
            .iter()
            .map(|g| (g.name.clone(), g.sample.dropped))
            .collect()
    }

    /// One panel per group: the data's CDF against each fit, titled by `title(group)`.
    pub fn panels(&self, title: impl Fn(&str) -> String) -> Vec<Panel> {
        self.groups
            .iter()
            .map(|g| fit_panel(&title(&g.name), self.what.label(), &g.sample, &g.fits))
            .collect()
    }
}

/// The fits table, then a line for each group with values left out.
impl fmt::Display for Fits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batch = self.table().to_batch().map_err(|_| fmt::Error)?;
        writeln!(
            f,
            "{}",
            pretty_format_batches(&[batch]).map_err(|_| fmt::Error)?
        )?;
        for g in &self.groups {
            if g.sample.dropped > 0 {
                writeln!(
                    f,
                    "{}: {} non-positive values left out of the fits",
                    g.name, g.sample.dropped
                )?;
            }
        }
        Ok(())
    }
}
