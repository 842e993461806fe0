//! Charts of runs (validation perplexity per step) and of schedules.

use crate::run_dir::read_log;
use anyhow::Result;
use charts::{render, Panel, Series};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One panel per validation set (perplexity against step), one line per run, plus the
/// training loss; written atomically as SVG.
pub fn draw_runs(runs: &[(String, PathBuf)], out: &Path) -> Result<()> {
    let mut per_set: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    let mut train = Vec::new();
    for (name, dir) in runs {
        let log = read_log(dir)?;
        let mut sets: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for l in &log {
            for e in &l.eval {
                sets.entry(e.name.clone())
                    .or_default()
                    .push((l.step as f64, e.perplexity));
            }
        }
        for (set, pts) in sets {
            per_set
                .entry(set)
                .or_default()
                .push(Series::new(name.clone(), pts));
        }
        train.push(Series::new(
            name.clone(),
            log.iter()
                .filter_map(|l| l.loss.map(|v| (l.step as f64, v)))
                .collect(),
        ));
    }
    let mut panels: Vec<Panel> = per_set
        .into_iter()
        .map(|(set, series)| {
            Panel::lines(&format!("{set} validation"), "step", "perplexity", series).log_y()
        })
        .collect();
    panels.push(Panel::lines("training loss", "step", "loss", train));
    let svg = render(&panels, panels.len().min(3), (480, 340))?;
    outdir::write_file(out, svg.as_bytes())
}

/// LR against step for a schedule.
pub fn draw_schedule(points: &[(f64, f64)], title: &str, out: &Path) -> Result<()> {
    let panel = Panel::lines(
        title,
        "step",
        "learning rate",
        vec![Series::new("lr", points.to_vec())],
    );
    outdir::write_file(out, render(&[panel], 1, (640, 400))?.as_bytes())
}
