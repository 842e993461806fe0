//! The store's layout on disk, owned here: ingest writes it through [`StoreLayout`], and
//! everything that reads a store (SQL, the analyses) finds its files and facts through it.
//!
//! ```text
//! STORE/.made-by                      `coldstart ingest` (ownership marker)
//! STORE/_manifest.json                format version, inputs, counts, warnings; written last
//! STORE/_rejects.csv                  file,line,column,value,reason of every reject
//! STORE/<table>/<region>/<name>.parquet
//! ```
//!
//! Each Parquet file holds every column of its table, `region` included, and region folders
//! are plain names (`R1`, not `region=R1`): readers that treat `key=value` folders as
//! partitions (pyarrow and so pandas, DuckDB with `hive_partitioning`) would otherwise see
//! `region` twice, once as a string and once as a partition dictionary, and refuse to merge
//! them. So pandas, pyarrow, polars and DuckDB all read a table folder as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};

use crate::error::Error;
use serde::Deserialize;

use crate::schema::Family;

pub const MANIFEST: &str = "_manifest.json";
pub const REJECTS: &str = "_rejects.csv";
/// Version 2: region folders are plain names. Version 1 (`region=R1`) stores are refused.
pub const FORMAT_VERSION: u32 = 2;

/// The paths of one store.
#[derive(Debug, Clone)]
pub struct StoreLayout {
    root: PathBuf,
}

/// What the readers need of a manifest (the rest is for people); its version is checked first.
#[derive(Deserialize)]
struct ManifestHead {
    files: Vec<ManifestFile>,
}

#[derive(Deserialize)]
struct ManifestFile {
    table: String,
    region: String,
    #[serde(default)]
    minute_table: Option<String>,
    #[serde(default)]
    output: Option<String>,
}

/// Which regions each table holds, and which per-minute tables each region has.
#[derive(Debug, Default, Clone)]
pub struct Contents {
    pub tables: BTreeMap<String, BTreeSet<String>>,
    pub minute: BTreeMap<String, BTreeSet<String>>,
}

impl StoreLayout {
    /// The layout of a store at `root` (to be written, or checked by [`StoreLayout::open`]).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn manifest(&self) -> PathBuf {
        self.root.join(MANIFEST)
    }

    pub fn rejects(&self) -> PathBuf {
        self.root.join(REJECTS)
    }

    /// The folder of one table, whose Parquet files (in region folders) make the table.
    pub fn table_dir(&self, family: Family) -> PathBuf {
        self.root.join(family.table_name())
    }

    /// Where the `index`th input's Parquet file goes, relative to the root:
    /// `table/R1/[minute table-]<source file stem>-<index>.parquet`.
    pub fn parquet_file(
        family: Family,
        region: &str,
        minute_table: Option<&str>,
        source: &str,
        index: usize,
    ) -> String {
        let stem: String = source
            .rsplit(['/', '!'])
            .next()
            .unwrap_or("part")
            .trim_end_matches(".csv")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let table = minute_table.map(|t| format!("{t}-")).unwrap_or_default();
        format!(
            "{}/{region}/{table}{stem}-{index:05}.parquet",
            family.table_name()
        )
    }

    /// Opens a complete store: its manifest (written last) must exist and be of this format
    /// version. Returns the layout and what the store holds, read from the manifest.
    pub fn open(root: &Path) -> Result<(Self, Contents), Error> {
        if !root.is_dir() {
            return Err(Error::NoStore {
                path: root.to_path_buf(),
            });
        }
        let layout = Self::new(root);
        let path = layout.manifest();
        let bytes = std::fs::read(&path).map_err(|source| Error::Incomplete {
            path: root.to_path_buf(),
            source,
        })?;
        let version: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: manifest is not valid JSON", path.display()))?;
        match version.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(Error::FormatVersion {
                    path: root.to_path_buf(),
                    found,
                })
            }
            None => {
                return Err(anyhow!("{}: manifest has no format_version", path.display()).into())
            }
        }
        let head: ManifestHead = serde_json::from_value(version)
            .with_context(|| format!("{}: unreadable manifest", path.display()))?;
        let mut c = Contents::default();
        for f in head.files.iter().filter(|f| f.output.is_some()) {
            c.tables
                .entry(f.table.clone())
                .or_default()
                .insert(f.region.clone());
            if let Some(t) = &f.minute_table {
                c.minute
                    .entry(f.region.clone())
                    .or_default()
                    .insert(t.clone());
            }
        }
        Ok((layout, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_and_safe() {
        let p = StoreLayout::parquet_file(
            Family::MinuteMetric,
            "R2",
            Some("requests"),
            "/x/quantiles.zip!R2/requests/day 00.csv",
            7,
        );
        assert_eq!(p, "minute_metrics/R2/requests-day_00-00007.parquet");
    }

    #[test]
    fn other_versions_are_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join(MANIFEST),
            r#"{"format_version": 1, "files": []}"#,
        )
        .unwrap();
        let e = format!("{:#}", StoreLayout::open(d.path()).unwrap_err());
        assert!(
            e.contains("format version 1") && e.contains("coldstart ingest"),
            "{e}"
        );
        std::fs::write(
            d.path().join(MANIFEST),
            r#"{"format_version": 2, "files": [
                {"table": "cold_starts", "region": "R1", "output": "x"},
                {"table": "minute_metrics", "region": "R2", "minute_table": "requests", "output": "y"},
                {"table": "minute_metrics", "region": "R2", "minute_table": "num_pods"}]}"#,
        )
        .unwrap();
        let (_, c) = StoreLayout::open(d.path()).unwrap();
        assert_eq!(c.tables["cold_starts"].len(), 1);
        assert_eq!(c.minute["R2"].iter().collect::<Vec<_>>(), ["requests"]);
    }
}
