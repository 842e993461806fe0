//! Helpers shared by the ingest tests: small releases written to a temporary folder, the
//! release's headers and rows, and readers of the resulting store.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use coldstart_trace::ingest::{FileReport, REJECTS};
use coldstart_trace::{ingest, IngestOptions, Manifest};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

pub const COLD_HEADER: &str =
    "day,time,clusterName,funcName,userID,requestID,totalCost_cold_start,\
podAllocationCost,deployCodeCost,deployDependencyCost,schedulingCost,podID";
pub const COLD_ROW_1: &str =
    "30,2592001.5,1,400,418,82f1aa19,2.239314,0.027161815,0.045,0.454,1.713152185,pool22-300-128-0000618412";
pub const COLD_ROW_2: &str =
    "30,2592002.25,2,401,418,82f1aa20,0.5,0.1,0.1,0,0.3,pool24-600-512-0000577863";
pub const REQ_HEADER: &str =
    "time_worker,time_frontend,requestID,clusterName,funcName,podID,userID,\
totalCost_worker,workerCost,runtimeCost,totalCost_frontend,frontendCost,busCost,readBodyCost,\
writeRspCost,cpu_usage,memory_usage,requestBodySize";

pub fn opts() -> IngestOptions {
    IngestOptions {
        progress: false,
        threads: 2,
        ..IngestOptions::default()
    }
}

pub fn release(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
    dir
}

pub fn run(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf, Manifest) {
    let rel = release(files);
    let store = rel.path().join("store");
    let m = ingest(&[rel.path().join("rel")], &store, &opts()).unwrap();
    (rel, store, m)
}

pub fn report<'a>(m: &'a Manifest, needle: &str) -> &'a FileReport {
    m.files
        .iter()
        .find(|f| f.file.contains(needle))
        .unwrap_or_else(|| panic!("no report for {needle}"))
}

pub fn rejects(store: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(store.join(REJECTS)).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

pub fn read_table(store: &Path, table: &str) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut stack = vec![store.join(table)];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let r = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        out.extend(r.map(|b| b.unwrap()));
    }
    out
}

pub fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> &'a T {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}
