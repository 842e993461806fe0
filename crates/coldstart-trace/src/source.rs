//! Finds the tables of a release in folders and in the publishers' zip archives, and
//! tells each file's family, region and (for per-minute tables) table name from its path.
//!
//! The publishers ship `cold_start/R1.zip`, `per_request/R1/R1_00000_00009.zip`,
//! `quantiles/R2.zip` and a bare `runtime_triggerType/*.csv`; once extracted the same files
//! sit under `cold_start/R1/*.csv` and so on. Both are read, and zip members are streamed
//! without extracting them. An archive's directory is read once, however many members it
//! has, and every member reads through that one copy.
//!
//! Each table file is read once: two files that hold the same table of the same region (an
//! archive beside its extraction) are compared by content (xxHash3-128 of their bytes); the
//! same bytes are read once, different bytes are a problem that is reported.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use walkdir::WalkDir;

use crate::error::Error;
use crate::schema::{split_minute_table, Family};
use crate::zipdir;

/// Where a table file's bytes are.
#[derive(Debug, Clone)]
pub enum Location {
    Plain(PathBuf),
    /// Member `index` of an archive whose directory was read once; clones share it.
    ZipMember {
        archive: PathBuf,
        zip: zip::ZipArchive<SharedFile>,
        index: usize,
    },
}

/// A file read at positions of its own through one shared descriptor (`pread`), so that a
/// zip archive's parsed directory can be cloned for each member read on each thread.
#[derive(Debug, Clone)]
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl SharedFile {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            file: Arc::new(file),
            pos: 0,
            len,
        })
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
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
            Location::ZipMember { zip, index, .. } => {
                let mut zip = zip.clone();
                let lzma = zip
                    .by_index_raw(*index)
                    .ok()
                    .filter(|m| m.compression() == zip::CompressionMethod::Lzma)
                    .map(|m| (m.size(), m.crc32()));
                if let Some((size, crc)) = lzma {
                    // Read through our own decoder: the zip crate's fails on standard members.
                    let raw = zip
                        .by_index_raw(*index)
                        .with_context(|| format!("{}: corrupt zip member", self.display))?;
                    let mut member = crate::zip_lzma::ZipLzma::new(raw, size, crc)
                        .with_context(|| format!("{}: corrupt LZMA member", self.display))?;
                    return f(&mut member);
                }
                let mut member = zip
                    .by_index(*index)
                    .with_context(|| format!("{}: corrupt zip member", self.display))?;
                f(&mut member)
            }
        }
    }
}

/// Why a file found under the inputs is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Not a table of the release (another extension, a folder entry of a zip).
    NotATable,
    /// The same bytes are read through another path (overlapping inputs, a symlink, a zip
    /// beside its own extraction); nothing is lost.
    Duplicate,
    /// A file that looks like release data but cannot be read as placed: `--strict` fails on
    /// it, and ingest reports it.
    Problem,
}

/// A file (or zip member) found and not read, with the reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub file: String,
    pub kind: Skip,
    pub reason: String,
}

/// One file of a release table: family, region, per-minute table and file name.
type TableKey = (Family, String, Option<String>, String);

/// What a scan of the inputs found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    /// Files found and not read, each with why.
    pub skipped: Vec<Skipped>,
    /// Real files already taken (canonical paths; `archive!index` for zip members).
    seen_paths: HashSet<PathBuf>,
    /// Release tables already taken, by family, region, per-minute table and file name: the
    /// file taken for each, and its content hash once one was needed.
    seen_tables: HashMap<TableKey, (InputFile, Option<u128>)>,
}

/// xxHash3-128 of a file's bytes (decompressed, for a zip member).
fn content_hash(f: &InputFile) -> Result<u128> {
    f.read_with(|r| {
        let mut h = twox_hash::XxHash3_128::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = r
                .read(&mut buf)
                .with_context(|| format!("{}: cannot read", f.display))?;
            if n == 0 {
                break;
            }
            h.write(&buf[..n]);
        }
        Ok(h.finish_128())
    })
}

impl Discovery {
    fn skip(&mut self, file: impl Into<String>, kind: Skip, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            file: file.into(),
            kind,
            reason: reason.into(),
        });
    }

    /// The files `--strict` refuses and ingest reports as problems.
    pub fn problems(&self) -> impl Iterator<Item = &Skipped> {
        self.skipped.iter().filter(|s| s.kind == Skip::Problem)
    }

    /// Takes a classified table file unless the same release table was taken already.
    fn take(&mut self, f: InputFile, file_name: &str) {
        let key = (
            f.family,
            f.region.clone(),
            f.table.clone(),
            file_name.to_owned(),
        );
        let Some((first, first_hash)) = self.seen_tables.get_mut(&key) else {
            self.seen_tables.insert(key, (f.clone(), None));
            self.files.push(f);
            return;
        };
        let name = first.display.clone();
        if first.size != f.size {
            let why = format!(
                "the same release table as {name} ({} bytes) but {} bytes; only {name} is read",
                first.size, f.size
            );
            self.skip(f.display, Skip::Problem, why);
            return;
        }
        // Same name and size: the same table only if the bytes are the same.
        let a = match first_hash {
            Some(h) => Ok(*h),
            None => content_hash(first).inspect(|h| *first_hash = Some(*h)),
        };
        match (a, content_hash(&f)) {
            (Ok(a), Ok(b)) if a == b => {
                let why = format!("the same table file as {name}, byte for byte (read once)");
                self.skip(f.display, Skip::Duplicate, why);
            }
            (Ok(_), Ok(_)) => {
                let why = format!(
                    "the same release table as {name}, of the same size, but other bytes; only \
                     {name} is read"
                );
                self.skip(f.display, Skip::Problem, why);
            }
            (Err(e), _) | (_, Err(e)) => {
                let why = format!("cannot compare it with {name}: {e:#}; only {name} is read");
                self.skip(f.display, Skip::Problem, why);
            }
        }
    }
}

/// Scans folders, CSV files and zip archives for tables of the release. Symbolic links are
/// followed, each real file is read once (loops and overlapping inputs are reported, not
/// followed again), and every file not read is listed in [`Discovery::skipped`].
pub fn discover(inputs: &[PathBuf]) -> std::result::Result<Discovery, Error> {
    let mut d = Discovery::default();
    for input in inputs {
        if std::fs::metadata(input).is_err() {
            return Err(Error::NotFound {
                path: input.clone(),
            });
        }
        // Classify by the whole path, so `release/cold_start`, `cold_start/R1.zip` and
        // `quantiles/R2/requests/day_00.csv` each still say which table they hold.
        let input = input.canonicalize().map_err(|source| Error::Io {
            path: input.clone(),
            what: "cannot resolve path",
            source,
        })?;
        for entry in WalkDir::new(&input).follow_links(true).sort_by_file_name() {
            match entry {
                Ok(e) if e.file_type().is_dir() => {}
                Ok(e) => add_path(&mut d, e.path(), e.file_type().is_file())?,
                Err(e) => {
                    let at = e.path().map_or_else(|| input.clone(), Path::to_path_buf);
                    match e.loop_ancestor() {
                        Some(a) => d.skip(
                            at.display().to_string(),
                            Skip::Duplicate,
                            format!(
                                "a symbolic link back to {} (a loop; its files are read once)",
                                a.display()
                            ),
                        ),
                        None => d.skip(
                            at.display().to_string(),
                            Skip::Problem,
                            format!("cannot be read: {e}"),
                        ),
                    }
                }
            }
        }
    }
    d.files.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(d)
}

/// Every file under `dir`, recursively, in name order (symbolic links are not followed: for
/// folders this tool made).
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in WalkDir::new(dir).sort_by_file_name() {
        let e = e.with_context(|| format!("{}: cannot list folder", dir.display()))?;
        if !e.file_type().is_dir() {
            out.push(e.into_path());
        }
    }
    Ok(())
}

/// Compression methods this build decompresses.
fn readable_method(m: zip::CompressionMethod) -> bool {
    use zip::CompressionMethod as M;
    matches!(
        m,
        M::Stored | M::Deflated | M::Deflate64 | M::Bzip2 | M::Lzma | M::Zstd
    )
}

fn add_path(d: &mut Discovery, path: &Path, regular: bool) -> Result<()> {
    let display = path.display().to_string();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let is_zip = name.ends_with(".zip");
    if !is_zip && !name.ends_with(".csv") {
        d.skip(
            display,
            Skip::NotATable,
            "neither a CSV file nor a zip archive",
        );
        return Ok(());
    }
    if !regular {
        // FIFOs, devices, sockets: reading one could hang or never end.
        d.skip(
            display,
            Skip::Problem,
            "not a regular file (a FIFO, device or socket)",
        );
        return Ok(());
    }
    let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if !d.seen_paths.insert(real.clone()) {
        let why = if real == path {
            "named twice by the inputs (read once)".to_string()
        } else {
            format!("the same file as {} (read once)", real.display())
        };
        d.skip(display, Skip::Duplicate, why);
        return Ok(());
    }
    let rel_parts: Vec<String> = path
        .components()
        .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect();
    if !is_zip {
        match classify(&rel_parts) {
            Ok((family, region, table)) => d.take(
                InputFile {
                    display,
                    location: Location::Plain(path.to_path_buf()),
                    family,
                    region,
                    table,
                    size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                },
                name,
            ),
            Err((kind, why)) => d.skip(display, kind, why),
        }
        return Ok(());
    }
    let f = match SharedFile::open(path) {
        Ok(f) => f,
        Err(e) => {
            d.skip(display, Skip::Problem, format!("cannot open: {e}"));
            return Ok(());
        }
    };
    let mut zip = match zip::ZipArchive::new(f) {
        Ok(z) => z,
        Err(e) => {
            d.skip(
                display,
                Skip::Problem,
                format!("not a readable zip archive: {e}"),
            );
            return Ok(());
        }
    };
    // The zip crate keeps only the last of several members of one name: name the others.
    match zipdir::duplicate_names(path) {
        Ok(dups) => {
            for (member, n) in dups {
                d.skip(
                    format!("{display}!{member}"),
                    Skip::Problem,
                    format!("{n} members of the archive have this name; only the last is read"),
                );
            }
        }
        Err(e) => d.skip(display.clone(), Skip::Problem, format!("{e:#}")),
    }
    let shared = zip.clone();
    for index in 0..zip.len() {
        let member = match zip.by_index_raw(index) {
            Ok(m) => m,
            Err(e) => {
                d.skip(
                    format!("{display}!#{index}"),
                    Skip::Problem,
                    format!("corrupt zip directory entry: {e}"),
                );
                continue;
            }
        };
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
            d.skip(member_display, Skip::NotATable, "not a CSV file");
            continue;
        }
        if member.encrypted() {
            d.skip(
                member_display,
                Skip::Problem,
                "encrypted; coldstart reads unencrypted archives only",
            );
            continue;
        }
        if !readable_method(member.compression()) {
            let why = format!(
                "compressed with {:?}, which coldstart cannot decompress (it reads stored, deflate, \
                 deflate64, bzip2, LZMA and zstd members); re-pack the archive",
                member.compression()
            );
            d.skip(member_display, Skip::Problem, why);
            continue;
        }
        let file_name = parts.last().cloned().unwrap_or_default();
        match classify(&parts) {
            Ok((family, region, table)) => d.take(
                InputFile {
                    display: member_display,
                    location: Location::ZipMember {
                        archive: path.to_path_buf(),
                        zip: shared.clone(),
                        index,
                    },
                    family,
                    region,
                    table,
                    size: member.size(),
                },
                &file_name,
            ),
            Err((kind, why)) => d.skip(member_display, kind, why),
        }
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
///
/// A file outside the four family folders is not release data ([`Skip::NotATable`]); one
/// inside them that says no region or table is misplaced data ([`Skip::Problem`]).
pub fn classify(parts: &[String]) -> Result<(Family, String, Option<String>), (Skip, String)> {
    let Some(fpos) = parts
        .iter()
        .rposition(|p| Family::from_release_dir(p).is_some())
    else {
        return Err((
            Skip::NotATable,
            "not under cold_start/, per_request/, runtime_triggerType/ or quantiles/".into(),
        ));
    };
    classify_under(parts, fpos).map_err(|why| (Skip::Problem, why))
}

fn classify_under(
    parts: &[String],
    fpos: usize,
) -> Result<(Family, String, Option<String>), String> {
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
        let (kind, why) = classify(&parts("other/R1/x.csv")).unwrap_err();
        assert!(kind == Skip::NotATable && why.contains("not under"));
        let (kind, why) = classify(&parts("cold_start/x.csv")).unwrap_err();
        assert!(kind == Skip::Problem && why.contains("region"));
        let (kind, why) = classify(&parts("quantiles/R2/bogus/x.csv")).unwrap_err();
        assert!(kind == Skip::Problem && why.contains("bogus"));
    }
}
