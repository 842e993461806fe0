//! What the public trace readers share: a CSV file opened with its header checked by column
//! name, and the count of rejected rows with the first few reasons (file, line, field).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use coldstart_trace::parse::{clip, line_of, LineCap, LineEnd};

/// Reasons kept per file; the rest are only counted.
const EXAMPLES: usize = 20;
/// The most bytes of a value or header a message repeats.
const ECHO: usize = 200;

/// A CSV file with a header, read record by record (a line over the release readers' cap is
/// an error, so memory stays bounded).
pub struct CsvFile {
    pub path: PathBuf,
    pub reader: csv::Reader<LineCap<BufReader<File>>>,
    pub header: csv::StringRecord,
    /// How its lines end (known once the header is read), for [`CsvFile::line`].
    pub end: LineEnd,
}

impl CsvFile {
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(LineCap::new(BufReader::with_capacity(1 << 20, f)));
        let header = reader
            .headers()
            .with_context(|| format!("{}: cannot read the header", path.display()))?
            .clone();
        let end = reader.get_ref().line_end();
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            header,
            end,
        })
    }

    /// The position of each of `names` in the header; an error names the file, the missing
    /// column and the columns the header has.
    pub fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N]> {
        let mut out = [0; N];
        for (o, name) in out.iter_mut().zip(names) {
            *o = match self.header.iter().position(|h| h.trim() == name) {
                Some(i) => i,
                None => bail!(
                    "{}: missing column {name} (header has: {})",
                    self.path.display(),
                    clip(&self.header.iter().collect::<Vec<_>>().join(","), ECHO)
                ),
            };
        }
        Ok(out)
    }
}

/// Rows left out of a file, with the first reasons.
#[derive(Debug, Clone, Default)]
pub struct Rejects {
    pub count: u64,
    pub examples: Vec<String>,
}

impl Rejects {
    /// Counts a rejected row: `line` of `path`, `field`, and why.
    pub fn add(&mut self, path: &Path, line: u64, field: &str, why: impl std::fmt::Display) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(format!(
                "{}: line {line}: {field}: {}",
                path.display(),
                clip(&why.to_string(), ECHO)
            ));
        }
    }

    /// A note for the report, or none when nothing was rejected.
    pub fn note(&self, what: &str) -> Option<String> {
        (self.count > 0).then(|| {
            format!(
                "{} {what} rejected (first: {})",
                self.count,
                self.examples.join("; ")
            )
        })
    }
}

/// The line number of a record of a file whose lines end as `end` (1 = the header).
pub fn line(r: &csv::StringRecord, end: LineEnd) -> u64 {
    line_of(r.position(), end)
}

/// A field as text; a short row is an error naming how many fields it has.
pub fn field(r: &csv::StringRecord, i: usize) -> std::result::Result<&str, String> {
    r.get(i)
        .map(str::trim)
        .ok_or_else(|| format!("missing (the row has {} fields)", r.len()))
}

/// A field as a finite number >= 0.
pub fn number(r: &csv::StringRecord, i: usize) -> std::result::Result<f64, String> {
    let s = r.get(i).ok_or("missing")?.trim();
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("'{}' is not a number >= 0", clip(s, ECHO))),
    }
}
