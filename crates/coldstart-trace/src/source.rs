//! Finds the tables of a release in folders and in the publishers' zip archives, and
//! tells each file's family, region and (for per-minute tables) table name from its path.
//!
//! The publishers ship `cold_start/R1.zip`, `per_request/R1/R1_00000_00009.zip`,
//! `quantiles/R2.zip` and a bare `runtime_triggerType/*.csv`; once extracted the same files
//! sit under `cold_start/R1/*.csv` and so on. Both are read, and zip members are streamed
//! without extracting them.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::schema::{split_minute_table, Family};

/// Where a table file's bytes are.
#[derive(Debug, Clone)]
pub enum Location {
    Plain(PathBuf),
    ZipMember { archive: PathBuf, index: usize },
}

/// One CSV of the release, classified.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path shown in messages: `dir/file.csv`, or `archive.zip!member.csv` inside a zip.
    pub display: String,
    pub location: Location,
    pub family: Family,
    pub region: String,
    /// Per-minute table name (e.g. `totalCost_quantile_050`), for [`Family::MinuteMetric`].
    pub table: Option<String>,
    /// Uncompressed size in bytes.
    pub size: u64,
}

impl InputFile {
    /// Streams the file's bytes to `f`; zip members are decompressed on the fly (and their
    /// checksum verified at the end), never extracted to disk.
    pub fn read_with<T>(&self, f: impl FnOnce(&mut dyn Read) -> Result<T>) -> Result<T> {
        match &self.location {
            Location::Plain(p) => {
                let mut file =
                    File::open(p).with_context(|| format!("{}: cannot open", self.display))?;
                f(&mut file)
            }
            Location::ZipMember { archive, index } => {
                let file = File::open(archive)
                    .with_context(|| format!("{}: cannot open", archive.display()))?;
                let mut zip = zip::ZipArchive::new(BufReader::new(file)).with_context(|| {
                    format!("{}: not a readable zip archive", archive.display())
                })?;
                let mut member = zip
                    .by_index(*index)
                    .with_context(|| format!("{}: corrupt zip member", self.display))?;
                f(&mut member)
            }
        }
    }
}

/// What a scan of the inputs found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    /// Files that are not tables of the release, with the reason.
    pub ignored: Vec<(String, String)>,
}

/// Scans folders, CSV files and zip archives for tables of the release.
pub fn discover(inputs: &[PathBuf]) -> Result<Discovery> {
    let mut d = Discovery::default();
    for input in inputs {
        if !input.exists() {
            bail!("{}: no such file or folder", input.display());
        }
        // Classify by the whole path, so `release/cold_start`, `cold_start/R1.zip` and
        // `quantiles/R2/requests/day_00.csv` each still say which table they hold.
        let input = input
            .canonicalize()
            .with_context(|| format!("{}: cannot resolve path", input.display()))?;
        if input.is_dir() {
            let mut paths = Vec::new();
            walk(&input, &mut paths)?;
            for p in paths {
                add_path(&mut d, &p)?;
            }
        } else {
            add_path(&mut d, &input)?;
        }
    }
    d.files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(d)
}

/// Every file under `dir`, recursively, in name order.
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list folder", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("{}: cannot list folder", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn add_path(d: &mut Discovery, path: &Path) -> Result<()> {
    let display = path.display().to_string();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let rel_parts: Vec<String> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect();
    if name.ends_with(".zip") {
        let f = File::open(path).with_context(|| format!("{display}: cannot open"))?;
        let mut zip = zip::ZipArchive::new(BufReader::new(f))
            .with_context(|| format!("{display}: not a readable zip archive"))?;
        for index in 0..zip.len() {
            let member = zip
                .by_index_raw(index)
                .with_context(|| format!("{display}: corrupt zip directory entry {index}"))?;
            if member.is_dir() {
                continue;
            }
            let member_name = member.name().to_owned();
            let member_display = format!("{display}!{member_name}");
            let mut parts = rel_parts.clone();
            if let Some(last) = parts.last_mut() {
                *last = last.trim_end_matches(".zip").to_owned();
            }
            parts.extend(
                member_name
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
            if !member_name.ends_with(".csv") {
                d.ignored.push((member_display, "not a CSV file".into()));
                continue;
            }
            match classify(&parts) {
                Ok((family, region, table)) => d.files.push(InputFile {
                    display: member_display,
                    location: Location::ZipMember {
                        archive: path.to_path_buf(),
                        index,
                    },
                    family,
                    region,
                    table,
                    size: member.size(),
                }),
                Err(why) => d.ignored.push((member_display, why)),
            }
        }
    } else if name.ends_with(".csv") {
        match classify(&rel_parts) {
            Ok((family, region, table)) => d.files.push(InputFile {
                display,
                location: Location::Plain(path.to_path_buf()),
                family,
                region,
                table,
                size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            }),
            Err(why) => d.ignored.push((display, why)),
        }
    } else {
        d.ignored
            .push((display, "neither a CSV file nor a zip archive".into()));
    }
    Ok(())
}

/// A region folder or archive name: `R1`, `R2`, ... or `R1_00000_00009` (request parts).
fn region_of(part: &str) -> Option<&str> {
    let head = part.split(['_', '.']).next()?;
    let digits = head.strip_prefix('R')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

/// Tells family, region and per-minute table name from a file's path components.
pub fn classify(parts: &[String]) -> Result<(Family, String, Option<String>), String> {
    let Some(fpos) = parts
        .iter()
        .rposition(|p| Family::from_release_dir(p).is_some())
    else {
        return Err(
            "not under cold_start/, per_request/, runtime_triggerType/ or quantiles/".into(),
        );
    };
    let family = Family::from_release_dir(&parts[fpos]).expect("checked above");
    let dirs = &parts[fpos + 1..parts.len() - 1];
    let rpos = dirs.iter().position(|p| region_of(p).is_some());
    let region = match (rpos, family) {
        (Some(i), _) => region_of(&dirs[i]).expect("checked").to_owned(),
        // The release ships runtimes and triggers for R2 only, with no region in the path.
        (None, Family::Function) => "R2".to_owned(),
        (None, _) => return Err(format!("no region folder (R1..R5) under {}/", parts[fpos])),
    };
    let table = if family == Family::MinuteMetric {
        let after: Vec<&String> = match rpos {
            Some(i) => dirs[i + 1..]
                .iter()
                .filter(|d| region_of(d).is_none())
                .collect(),
            None => Vec::new(),
        };
        let Some(t) = after.first() else {
            return Err("no per-minute table folder (e.g. requests/) under quantiles/R*/".into());
        };
        if split_minute_table(t).is_none() {
            return Err(format!(
                "'{t}' is not a per-minute table name (metric_stat)"
            ));
        }
        Some((*t).clone())
    } else {
        None
    };
    Ok((family, region, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &str) -> Vec<String> {
        p.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn classifies_extracted_and_zipped_paths() {
        let (f, r, t) = classify(&parts("cold_start/R1/day_00.csv")).unwrap();
        assert_eq!((f, r.as_str(), t), (Family::ColdStart, "R1", None));
        let (f, r, _) = classify(&parts("per_request/R1/R1_00000_00009/R1/00003.csv")).unwrap();
        assert_eq!((f, r.as_str()), (Family::Request, "R1"));
        let (f, r, t) =
            classify(&parts("x/quantiles/R2/totalCost_quantile_050/day_03.csv")).unwrap();
        assert_eq!(
            (f, r.as_str(), t.as_deref()),
            (Family::MinuteMetric, "R2", Some("totalCost_quantile_050"))
        );
        let (f, r, t) = classify(&parts("quantiles/R2/R2/requests/d.csv")).unwrap();
        assert_eq!(
            (f, r.as_str(), t.as_deref()),
            (Family::MinuteMetric, "R2", Some("requests"))
        );
        let (f, r, _) = classify(&parts(
            "runtime_triggerType/df_funcID_runtime_triggerType.csv",
        ))
        .unwrap();
        assert_eq!((f, r.as_str()), (Family::Function, "R2"));
    }

    #[test]
    fn unclassifiable_paths_say_why() {
        assert!(classify(&parts("other/R1/x.csv"))
            .unwrap_err()
            .contains("not under"));
        assert!(classify(&parts("cold_start/x.csv"))
            .unwrap_err()
            .contains("region"));
        assert!(classify(&parts("quantiles/R2/bogus/x.csv"))
            .unwrap_err()
            .contains("bogus"));
    }
}
