//! coldstart-sim's integration tests, linked as one binary (one copy of the dependencies on disk).
//! Each file is a module; `cargo test -p coldstart-sim --test integration MODULE::` runs one.

mod azure;
mod calibration;
mod common;
mod engine;
mod eviction;
mod fluid;
mod huawei2023;
mod merge;
