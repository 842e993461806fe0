//! Reading documents for `rewarm tokenize`: which files, in which format (text, JSON lines
//! optionally zstd-compressed, Parquet), cut into documents, with what was skipped and why.

use super::*;

/// How documents are cut out of the inputs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// JSON / Parquet field holding the document text.
    pub text_field: String,
    /// Plain text: `paragraph` (blank-line separated), `line`, or `file`.
    pub text_docs: String,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            text_field: "text".into(),
            text_docs: "paragraph".into(),
        }
    }
}

/// A document that could not be used, with where it was.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub file: PathBuf,
    pub line: u64,
    pub reason: String,
}

#[derive(Default, Debug)]
pub struct ReadStats {
    pub documents: u64,
    pub skipped: Vec<Skipped>,
    pub bytes: u64,
}

pub(super) fn format_of(path: &Path) -> Result<&'static str> {
    let name = path.to_string_lossy().to_lowercase();
    Ok(
        if name.ends_with(".jsonl.zst") || name.ends_with(".json.zst") || name.ends_with(".zst") {
            "jsonl.zst"
        } else if name.ends_with(".jsonl") || name.ends_with(".json") {
            "jsonl"
        } else if name.ends_with(".parquet") {
            "parquet"
        } else if name.ends_with(".txt") || name.ends_with(".md") || name.ends_with(".text") {
            "text"
        } else {
            bail!(
                "{}: unknown input format (expected .txt, .jsonl, .jsonl.zst or .parquet)",
                path.display()
            )
        },
    )
}

/// Expands folders (recursively, following links, each real file once) into the input files
/// they hold, sorted so runs are reproducible. Files of other formats, special files and
/// link loops inside folders are returned as not read, with the reason, to be reported; an
/// explicitly named file of an unknown format is an error.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Skipped>)> {
    let mut out = Vec::new();
    let mut unused = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |f: PathBuf, out: &mut Vec<PathBuf>, unused: &mut Vec<Skipped>| {
        match std::fs::canonicalize(&f) {
            Ok(real) if !seen.insert(real.clone()) => unused.push(Skipped {
                file: f,
                line: 0,
                reason: format!("the same file as {} (read once)", real.display()),
            }),
            _ => out.push(f),
        }
    };
    for p in inputs {
        if p.is_dir() {
            let mut files = Vec::new();
            for e in walkdir::WalkDir::new(p)
                .follow_links(true)
                .sort_by_file_name()
            {
                let e = match e {
                    Ok(e) => e,
                    Err(err) => {
                        unused.push(Skipped {
                            file: err.path().map_or_else(|| p.clone(), Path::to_path_buf),
                            line: 0,
                            reason: format!("not read: {err}"),
                        });
                        continue;
                    }
                };
                let f = e.path().to_path_buf();
                if e.file_type().is_dir() {
                    continue;
                }
                if !e.file_type().is_file() {
                    unused.push(Skipped {
                        file: f,
                        line: 0,
                        reason: "not a regular file".into(),
                    });
                } else if format_of(&f).is_err() {
                    unused.push(Skipped {
                        file: f,
                        line: 0,
                        reason: "not .txt, .md, .jsonl, .jsonl.zst or .parquet".into(),
                    });
                } else {
                    files.push(f);
                }
            }
            if files.is_empty() {
                bail!(
                    "{}: no .txt, .jsonl, .jsonl.zst or .parquet files",
                    p.display()
                );
            }
            for f in files {
                add(f, &mut out, &mut unused);
            }
        } else if p.is_file() {
            format_of(p)?;
            add(p.clone(), &mut out, &mut unused);
        } else if p.exists() {
            bail!("{}: not a regular file or folder", p.display());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok((out, unused))
}

/// Streams every document of `files` to `sink`, in file order, counting skipped ones.
pub fn read_documents(
    files: &[PathBuf],
    opts: &ReadOptions,
    stats: &mut ReadStats,
    sink: &mut dyn FnMut(String) -> Result<()>,
) -> Result<()> {
    for file in files {
        let fmt = format_of(file)?;
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        stats.bytes += f.metadata().map(|m| m.len()).unwrap_or(0);
        let mut r = Reading {
            file,
            opts,
            stats: &mut *stats,
            sink: &mut *sink,
        };
        match fmt {
            "text" => r.text(f)?,
            "jsonl" => r.jsonl(Box::new(f))?,
            "jsonl.zst" => {
                let dec = zstd::Decoder::new(f)
                    .with_context(|| format!("{}: not a zstd stream", file.display()))?;
                r.jsonl(Box::new(dec))?
            }
            "parquet" => r.parquet(f)?,
            _ => unreachable!(),
        }
    }
    Ok(())
}

/// One input file being read: each document goes to `sink`, each unusable one to the skipped
/// list with its line (or row).
struct Reading<'a> {
    file: &'a Path,
    opts: &'a ReadOptions,
    stats: &'a mut ReadStats,
    sink: &'a mut dyn FnMut(String) -> Result<()>,
}

impl Reading<'_> {
    fn keep(&mut self, text: String) -> Result<()> {
        self.stats.documents += 1;
        (self.sink)(text)
    }

    fn skip(&mut self, line: u64, reason: String) {
        self.stats.skipped.push(Skipped {
            file: self.file.to_path_buf(),
            line,
            reason,
        })
    }

    fn text(&mut self, f: std::fs::File) -> Result<()> {
        let mut bytes = Vec::new();
        BufReader::new(f)
            .read_to_end(&mut bytes)
            .with_context(|| format!("reading {}", self.file.display()))?;
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        // Lines (1-based numbers) without their line ends, CRLF or LF.
        let lines = bytes
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        // A document: its first line number and its lines, checked as UTF-8 here so one bad byte
        // skips its document only.
        let opts = self.opts;
        let mut emit = |line: u64, doc: &[&[u8]]| -> Result<()> {
            let joined = doc.join(&b'\n');
            match std::str::from_utf8(&joined) {
                Ok(text) => {
                    let text = text.trim();
                    if !text.is_empty() {
                        self.keep(text.to_string())?;
                    }
                }
                Err(e) => self.skip(
                    line,
                    format!(
                        "not UTF-8 (invalid byte at offset {} of the document)",
                        e.valid_up_to()
                    ),
                ),
            }
            Ok(())
        };
        match opts.text_docs.as_str() {
            "file" => emit(1, &lines.collect::<Vec<_>>())?,
            "line" => {
                for (i, l) in lines.enumerate() {
                    emit(i as u64 + 1, &[l])?
                }
            }
            "paragraph" => {
                let mut para: Vec<&[u8]> = Vec::new();
                let mut start = 1;
                for (i, l) in lines.enumerate() {
                    if l.iter().all(|b| b.is_ascii_whitespace()) {
                        if !para.is_empty() {
                            emit(start, &para)?;
                            para.clear();
                        }
                    } else {
                        if para.is_empty() {
                            start = i as u64 + 1;
                        }
                        para.push(l);
                    }
                }
                if !para.is_empty() {
                    emit(start, &para)?;
                }
            }
            o => bail!("text_docs {o:?} is not paragraph, line or file"),
        }
        Ok(())
    }

    fn jsonl(&mut self, r: Box<dyn Read>) -> Result<()> {
        let mut reader = BufReader::with_capacity(1 << 20, r);
        let mut raw = Vec::new();
        let mut lineno = 0u64;
        loop {
            raw.clear();
            let n = reader.read_until(b'\n', &mut raw).with_context(|| {
                format!(
                    "{}: read failed after line {lineno} (corrupt or truncated stream?)",
                    self.file.display()
                )
            })?;
            if n == 0 {
                break;
            }
            lineno += 1;
            let line = match std::str::from_utf8(&raw) {
                Ok(l) => l,
                Err(e) => {
                    self.skip(
                        lineno,
                        format!(
                            "not UTF-8 (invalid byte at offset {} of the line)",
                            e.valid_up_to()
                        ),
                    );
                    continue;
                }
            };
            let l = line.trim_start_matches('\u{feff}').trim();
            if l.is_empty() {
                continue;
            }
            let field = &self.opts.text_field;
            let problem = match serde_json::from_str::<serde_json::Value>(l) {
                Err(e) => format!("not JSON: {e}"),
                Ok(v) => match v.get(field) {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => {
                        self.keep(s.clone())?;
                        continue;
                    }
                    Some(serde_json::Value::String(_)) => format!("field `{field}` is empty"),
                    Some(_) => format!("field `{field}` is not a string"),
                    None => format!("no field `{field}`"),
                },
            };
            self.skip(lineno, problem);
        }
        Ok(())
    }

    fn parquet(&mut self, f: std::fs::File) -> Result<()> {
        let (file, opts) = (self.file, self.opts);
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::DataType;
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .with_context(|| format!("{}: not a Parquet file", file.display()))?;
        let schema = builder.schema().clone();
        let col = schema.index_of(&opts.text_field).map_err(|_| {
            anyhow::anyhow!(
                "{}: no column `{}` (columns: {})",
                file.display(),
                opts.text_field,
                schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), [col]);
        let reader = builder.with_projection(mask).build()?;
        let mut row = 0u64;
        for batch in reader {
            let batch = batch.with_context(|| format!("{}: reading row group", file.display()))?;
            let mut a = batch.column(0).clone();
            // Dictionary-encoded strings (as pandas/pyarrow write categoricals) are read as strings.
            if let DataType::Dictionary(_, v) = a.data_type() {
                if matches!(
                    **v,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) {
                    a = arrow::compute::cast(&a, v).with_context(|| {
                        format!("{}: decoding column `{}`", file.display(), opts.text_field)
                    })?;
                }
            }
            let a = &a;
            let get = |i: usize| -> Option<&str> {
                if a.is_null(i) {
                    return None;
                }
                match a.data_type() {
                    DataType::Utf8 => Some(a.as_string::<i32>().value(i)),
                    DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i)),
                    DataType::Utf8View => Some(a.as_string_view().value(i)),
                    _ => None,
                }
            };
            if !matches!(
                a.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                bail!(
                    "{}: column `{}` has type {}, expected a string",
                    file.display(),
                    opts.text_field,
                    a.data_type()
                );
            }
            for i in 0..a.len() {
                row += 1;
                match get(i) {
                    Some(s) if !s.is_empty() => self.keep(s.to_string())?,
                    _ => self.skip(
                        row,
                        format!("row has a null or empty `{}`", opts.text_field),
                    ),
                }
            }
        }
        Ok(())
    }
}
