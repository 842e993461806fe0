//! TensorBoard scalar event files (`events.out.tfevents.*`), readable by `tensorboard --logdir`:
//! TFRecord framing (length, masked CRC-32C of the length, data, masked CRC-32C of the data)
//! around `tensorflow.Event` protocol buffers, one scalar per event as PyTorch's
//! `SummaryWriter.add_scalar` writes them (tested byte for byte against its output).

use anyhow::{Context, Result};
use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5")]
    what: Option<What>,
    #[prost(message, optional, tag = "10")]
    source_metadata: Option<SourceMetadata>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

#[derive(Clone, PartialEq, prost::Message)]
struct SourceMetadata {
    #[prost(string, tag = "1")]
    writer: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    // A member of the proto's `value` oneof, so 0.0 is written too.
    #[prost(oneof = "Kind", tags = "2")]
    kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
}

const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

fn masked_crc(bytes: &[u8]) -> u32 {
    let c = CRC32C.checksum(bytes);
    c.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord: length, its masked CRC, the data, its masked CRC (all little-endian).
fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// Appends scalar events to a new event file in a folder.
pub struct EventWriter {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl EventWriter {
    /// Creates `dir/events.out.tfevents.<seconds>.<host>.<pid>` starting with the file-version
    /// event, as TensorBoard expects.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        let wall = now();
        let base = format!(
            "events.out.tfevents.{}.{host}.{}",
            wall as u64,
            std::process::id()
        );
        // A second writer of the same process within the same second gets the next suffix.
        let mut n = 0u32;
        let (path, file) = loop {
            let name = if n == 0 {
                base.clone()
            } else {
                format!("{base}.{n}")
            };
            let path = dir.join(name);
            match std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .open(&path)
            {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        };
        let mut w = Self {
            path,
            file: std::io::BufWriter::new(file),
        };
        w.write(&Event {
            wall_time: wall,
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
            source_metadata: Some(SourceMetadata {
                writer: "rewarm".into(),
            }),
        })?;
        w.flush()?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, e: &Event) -> Result<()> {
        self.file
            .write_all(&record(&e.encode_to_vec()))
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// One event per scalar, at `step` and `wall_time` (seconds since the epoch; `None`: now).
    pub fn scalars<S: AsRef<str>>(
        &mut self,
        step: i64,
        wall_time: Option<f64>,
        values: &[(S, f64)],
    ) -> Result<()> {
        let wall = wall_time.unwrap_or_else(now);
        for (tag, v) in values {
            self.write(&Event {
                wall_time: wall,
                step,
                what: Some(What::Summary(Summary {
                    value: vec![Value {
                        tag: tag.as_ref().to_string(),
                        kind: Some(Kind::SimpleValue(*v as f32)),
                    }],
                })),
                source_metadata: None,
            })?;
        }
        Ok(())
    }

    /// Pushes buffered events to the file (TensorBoard reads files while they grow).
    pub fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// The records of an event file (framing and CRCs checked), for tests and tools.
pub fn read_records(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        anyhow::ensure!(
            rest.len() >= 12,
            "{}: truncated record header",
            path.display()
        );
        let len = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
        anyhow::ensure!(
            crc == masked_crc(&rest[..8]),
            "{}: bad length CRC",
            path.display()
        );
        anyhow::ensure!(
            rest.len() >= 16 + len,
            "{}: truncated record",
            path.display()
        );
        let data = &rest[12..12 + len];
        let crc = u32::from_le_bytes(rest[12 + len..16 + len].try_into().expect("4 bytes"));
        anyhow::ensure!(crc == masked_crc(data), "{}: bad data CRC", path.display());
        out.push(data.to_vec());
        rest = &rest[16 + len..];
    }
    Ok(out)
}

/// The file-version string of an event record, if it is one (tests).
pub fn file_version(record: &[u8]) -> Option<String> {
    match Event::decode(record).ok()?.what? {
        What::FileVersion(v) => Some(v),
        What::Summary(_) => None,
    }
}

/// (step, wall time, tag, value) of each scalar in an event record (tests and tools).
pub fn scalars_of(record: &[u8]) -> Vec<(i64, f64, String, f32)> {
    let Ok(e) = Event::decode(record) else {
        return vec![];
    };
    match e.what {
        Some(What::Summary(s)) => s
            .value
            .into_iter()
            .filter_map(|v| match v.kind {
                Some(Kind::SimpleValue(x)) => Some((e.step, e.wall_time, v.tag, x)),
                None => None,
            })
            .collect(),
        _ => vec![],
    }
}
