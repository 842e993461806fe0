//! `coldstart report`: every analysis, its CSV tables and SVG chart, and one `index.html`
//! that opens from disk, with the key numbers beside the paper's. Built in a temporary folder
//! and renamed into place, so an interrupted run never leaves a half-written report.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::analysis::{self, Cx, KeyNumber, Options, Output, Verdict};
use crate::chart;

/// How one analysis ended; `report.json` and the page's CSS classes spell it in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Its input tables hold no rows.
    Skipped,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What happened to one analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub caption: String,
    pub seconds: f64,
    pub status: Status,
    pub files: Vec<String>,
    pub notes: Vec<String>,
    pub numbers: Vec<KeyNumber>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub store: String,
    /// The store's size against the paper's trace, which volume-dependent numbers go through.
    pub size: analysis::size::StoreSize,
    pub seconds: f64,
    pub entries: Vec<Entry>,
}

/// How many key numbers got each verdict.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verdicts {
    pub within: usize,
    pub outside: usize,
    pub not_comparable: usize,
}

impl std::fmt::Display for Verdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} published numbers within tolerance, {} outside, {} not comparable at this store's size",
            self.within,
            self.within + self.outside + self.not_comparable,
            self.outside,
            self.not_comparable
        )
    }
}

impl Summary {
    /// The verdicts of every key number with a published one beside it.
    pub fn verdicts(&self) -> Verdicts {
        let mut v = Verdicts::default();
        for n in self.entries.iter().flat_map(|e| &e.numbers) {
            match n.verdict {
                Some(Verdict::Within) => v.within += 1,
                Some(Verdict::Outside) => v.outside += 1,
                Some(Verdict::NotComparable) => v.not_comparable += 1,
                None => {}
            }
        }
        v
    }

    /// Ids of the analyses with this status.
    pub fn with_status(&self, status: Status) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.status == status)
            .map(|e| e.id.as_str())
            .collect()
    }
}

/// What the report writes in the ownership marker of its folder.
pub const OWNER: &str = "coldstart report";

/// Runs every analysis and writes the report folder `out`, built beside it and swapped in
/// whole. An existing `out` is replaced only when it is empty or a report, unless `force`.
pub fn report(store: &Path, out: &Path, opts: Options, force: bool) -> Result<Summary> {
    let start = Instant::now();
    // Refuses a foreign `out` before any analysis runs; dropped on error, it leaves nothing.
    let staging = outdir::Staging::new(out, OWNER, force)?;
    let cx = Cx::open(store, opts)?;
    let dir = staging.path().to_path_buf();
    let all = analysis::all();
    let bar = ProgressBar::new(all.len() as u64).with_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} analyses  {msg}  (ETA {eta})",
    )?);
    let mut entries = Vec::new();
    for a in &all {
        bar.set_message(format!("{} {}", a.id(), a.title()));
        let t = Instant::now();
        let result = a.run(&cx);
        let seconds = t.elapsed().as_secs_f64();
        let mut entry = Entry {
            id: a.id().into(),
            title: a.title().into(),
            caption: a.caption().into(),
            seconds,
            status: Status::Ok,
            files: Vec::new(),
            notes: Vec::new(),
            numbers: Vec::new(),
        };
        match result {
            Ok(o) => write_output(&dir, a.id(), o, &mut entry)?,
            Err(e) => {
                entry.status = Status::Failed;
                entry.notes.push(format!("{e:#}"));
            }
        }
        let line = format!(
            "{:<7} {:<8} {:>7.2} s  {}",
            entry.id, entry.status, entry.seconds, entry.title
        );
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
        entries.push(entry);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let size = analysis::size::of(&cx)?.as_ref().clone();
    let summary = Summary {
        store: store.display().to_string(),
        size,
        seconds: start.elapsed().as_secs_f64(),
        entries,
    };
    put(&dir, "index.html", html(&summary).as_bytes())?;
    put(&dir, "report.json", &serde_json::to_vec_pretty(&summary)?)?;
    staging.commit()?;
    Ok(summary)
}

/// Writes `name` into the report being built in `dir`; an error (a full disk) names the file.
fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(dir.join(name), bytes)
        .with_context(|| format!("writing {}", dir.join(name).display()))
}

fn write_output(dir: &Path, id: &str, o: Output, entry: &mut Entry) -> Result<()> {
    entry.notes = o.skipped.clone();
    entry.numbers = o.numbers.clone();
    if o.is_empty() {
        entry.status = Status::Skipped;
        if entry.notes.is_empty() {
            entry.notes.push("its input tables hold no rows".into());
        }
        return Ok(());
    }
    for (name, t) in &o.tables {
        let file = format!("{id}_{name}.csv");
        put(dir, &file, &t.to_csv()?)?;
        entry.files.push(file);
    }
    if !o.panels.is_empty() {
        let svg = chart::render(&o.panels, o.cols.max(1), (560, 400))?;
        let file = format!("{id}.svg");
        put(dir, &file, svg.as_bytes())?;
        entry.files.insert(0, file);
    }
    Ok(())
}

pub use charts::page::escape;
use charts::page::{Cell, Page, Table};

/// A key number's verdict cell, coloured by its class, with the note beside it.
fn verdict_cell(n: &KeyNumber) -> Cell {
    let class = match n.verdict {
        Some(Verdict::Within) => "within",
        Some(Verdict::Outside) => "outside",
        Some(Verdict::NotComparable) => "nc",
        None => "none",
    };
    let note = n.note.as_deref().map_or(String::new(), |t| {
        format!("<br><small>{}</small>", escape(t))
    });
    Cell::html(format!("{}{note}", escape(n.verdict_text()))).class(class)
}

fn html(s: &Summary) -> String {
    let mut h = Page::new("coldstart report").style(
        "body{max-width:1800px}.skipped{color:#a60}.failed{color:#c00}\
         td.within{color:#161}td.outside{color:#b00;font-weight:bold}td.nc{color:#777}\
         td small{color:#555;font-weight:normal}",
    );
    h.heading(1, "", "Serverless cold starts: the paper's analyses");
    h.html(&format!(
        "<p>Store <code>{}</code>; {} analyses in {:.1} s. Each figure below is drawn from the \
         CSV files linked under it. Reference: Joosen et al., <i>Serverless Cold Starts and \
         Where to Find Them</i>, EuroSys 2025.</p>",
        escape(&s.store),
        s.entries.len(),
        s.seconds
    ));
    let nav: Vec<String> = s
        .entries
        .iter()
        .map(|e| charts::page::link(&format!("#{}", e.id), &e.id))
        .collect();
    h.html(&format!("<nav>{}</nav>", nav.join("")));
    h.heading(2, "key-numbers", "Key numbers against the paper");
    h.para(&format!(
        "The numbers the paper publishes (spec sections 4 and 7), measured on this store, each \
         with the published tolerance and its verdict: {}. Each figure's section lists all of its \
         numbers. The store is {}; times between cold starts are set beside the paper's at the \
         trace's size (they scale as 1/size), and numbers that need more data than the store \
         holds are marked not comparable.",
        s.verdicts(),
        s.size.text()
    ));
    let mut key = Table::new(&["figure", "what", "measured", "published", "verdict"]);
    for e in &s.entries {
        for n in e.numbers.iter().filter(|n| n.verdict.is_some()) {
            key.row([
                Cell::html(charts::page::link(&format!("#{}", e.id), &e.id)),
                Cell::text(&n.what),
                Cell::text(&n.measured),
                Cell::text(&n.published),
                verdict_cell(n),
            ]);
        }
    }
    h.table(&key);
    let skipped: Vec<&Entry> = s
        .entries
        .iter()
        .filter(|e| e.status != Status::Ok)
        .collect();
    if !skipped.is_empty() {
        h.heading(2, "", "Skipped or failed");
        let mut list = String::from("<ul>\n");
        for e in skipped {
            let _ = writeln!(
                list,
                "<li class=\"{}\"><b>{}</b> {}: {}</li>",
                e.status.as_str(),
                escape(&e.id),
                e.status.as_str(),
                escape(&e.notes.join("; "))
            );
        }
        list.push_str("</ul>");
        h.html(&list);
    }
    for e in &s.entries {
        h.html(&format!("<section id=\"{}\">", escape(&e.id)));
        h.heading(2, "", &format!("{}: {}", e.id, e.title));
        h.para(&e.caption);
        for f in e.files.iter().filter(|f| f.ends_with(".svg")) {
            h.image(f, &e.title);
        }
        let csv: Vec<&String> = e.files.iter().filter(|f| f.ends_with(".csv")).collect();
        h.data_links(&csv);
        if !e.numbers.is_empty() {
            let mut t = Table::new(&["number", "measured", "published", "verdict"]);
            for n in &e.numbers {
                t.row([
                    Cell::text(&n.what),
                    Cell::text(&n.measured),
                    Cell::text(&n.published),
                    verdict_cell(n),
                ]);
            }
            h.table(&t);
        }
        for n in &e.notes {
            h.html(&format!(
                "<p class=\"{}\">Note: {}</p>",
                e.status.as_str(),
                escape(n)
            ));
        }
        h.html(&format!(
            "<p><small>{:.2} s</small></p></section>",
            e.seconds
        ));
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_names_the_file() {
        // /dev/full refuses every write with ENOSPC, as a full disk does.
        if !Path::new("/dev/full").exists() {
            return;
        }
        let e = format!(
            "{:#}",
            put(Path::new("/dev"), "full", b"<html>").unwrap_err()
        );
        assert!(
            e.contains("writing /dev/full") && e.contains("No space left"),
            "{e}"
        );
    }
}
