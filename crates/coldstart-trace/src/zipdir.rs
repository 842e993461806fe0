//! The names in a zip archive's central directory, as written: the `zip` crate keys members
//! by name and so keeps only the last of several members that share one. This reads the
//! directory records themselves (APPNOTE 4.3.12, 4.3.14–16) to find such names, so that no
//! member is dropped without a word.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::{bail, Context, Result};

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
/// A central directory larger than this is not scanned (a release archive's is kilobytes).
const MAX_DIRECTORY: u64 = 256 << 20;

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?).into())
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?).into())
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Names that more than one member of the archive at `path` carries, with how many carry each.
pub fn duplicate_names(path: &Path) -> Result<Vec<(String, usize)>> {
    let bad = || format!("{}: unreadable zip central directory", path.display());
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let len = f.metadata()?.len();
    // The end record sits in the last 22 bytes plus a comment of at most 64 KiB.
    let tail_len = len.min(22 + 0xFFFF);
    let mut tail = vec![0u8; tail_len as usize];
    f.seek(SeekFrom::Start(len - tail_len))?;
    f.read_exact(&mut tail).with_context(bad)?;
    let Some(at) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == Some(EOCD.into()))
    else {
        bail!("{}: no end of central directory record", path.display());
    };
    let eocd_pos = len - tail_len + at as u64;
    let mut entries = u16_at(&tail, at + 10)
        .context("short record")
        .with_context(bad)?;
    let mut size = u32_at(&tail, at + 12)
        .context("short record")
        .with_context(bad)?;
    let mut end = eocd_pos;
    if entries == 0xFFFF || size == 0xFFFF_FFFF {
        // Zip64: the locator just before the end record points at the zip64 end record.
        let mut loc = [0u8; 20];
        f.seek(SeekFrom::Start(eocd_pos.checked_sub(20).with_context(bad)?))?;
        f.read_exact(&mut loc).with_context(bad)?;
        if u32_at(&loc, 0) != Some(ZIP64_LOCATOR.into()) {
            bail!("{}: zip64 locator missing", path.display());
        }
        let rec_pos = u64_at(&loc, 8).with_context(bad)?;
        let mut rec = [0u8; 56];
        f.seek(SeekFrom::Start(rec_pos))?;
        f.read_exact(&mut rec).with_context(bad)?;
        if u32_at(&rec, 0) != Some(ZIP64_EOCD.into()) {
            bail!("{}: zip64 end record missing", path.display());
        }
        entries = u64_at(&rec, 32).with_context(bad)?;
        size = u64_at(&rec, 40).with_context(bad)?;
        end = rec_pos;
    }
    if size > MAX_DIRECTORY {
        bail!(
            "{}: central directory of {size} bytes is larger than {MAX_DIRECTORY}",
            path.display()
        );
    }
    // Measured back from the end record, which also covers data prepended to the archive.
    let start = end.checked_sub(size).with_context(bad)?;
    let mut dir = vec![0u8; size as usize];
    f.seek(SeekFrom::Start(start))?;
    f.read_exact(&mut dir).with_context(bad)?;
    let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    let mut i = 0usize;
    for _ in 0..entries {
        if u32_at(&dir, i) != Some(CENTRAL.into()) {
            bail!("{}: central directory entry out of place", path.display());
        }
        let name_len = u16_at(&dir, i + 28).with_context(bad)? as usize;
        let extra_len = u16_at(&dir, i + 30).with_context(bad)? as usize;
        let comment_len = u16_at(&dir, i + 32).with_context(bad)? as usize;
        let name = dir.get(i + 46..i + 46 + name_len).with_context(bad)?;
        *counts.entry(name.to_vec()).or_default() += 1;
        i += 46 + name_len + extra_len + comment_len;
    }
    Ok(counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(name, n)| (String::from_utf8_lossy(&name).into_owned(), n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn finds_members_that_share_a_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.zip");
        let mut z = zip::ZipWriter::new(File::create(&p).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        for name in ["x.csv", "y.csv", "z.csv"] {
            z.start_file(name, o).unwrap();
            z.write_all(b"a\n").unwrap();
        }
        z.set_comment("a comment");
        z.finish().unwrap();
        assert!(duplicate_names(&p).unwrap().is_empty());
        // Rename z.csv to x.csv in both the local header and the directory.
        let mut bytes = std::fs::read(&p).unwrap();
        for i in 0..bytes.len() - 5 {
            if &bytes[i..i + 5] == b"z.csv" {
                bytes[i] = b'x';
            }
        }
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(duplicate_names(&p).unwrap(), [("x.csv".to_string(), 2)]);
        // and the zip crate indeed shows two members, not three
        let z = zip::ZipArchive::new(File::open(&p).unwrap()).unwrap();
        assert_eq!(z.len(), 2);
    }
}
