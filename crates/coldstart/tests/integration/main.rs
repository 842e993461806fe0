//! coldstart's integration tests, linked as one binary (one copy of the dependencies on disk).
//! Each file is a module; `cargo test -p coldstart --test integration MODULE::` runs one.

mod analyses;
mod cli_safety;
mod common;
mod hints;
mod limits;
mod month_check;
mod report;
mod roundtrip;
mod simulate;
