//! rewarm's integration tests, linked as one binary (one copy of the dependencies on disk).
//! Each file is a module; `cargo test -p rewarm --test integration MODULE::` runs one.

mod checkpoint_files;
mod common;
mod data;
mod dist;
mod findings;
mod generate;
mod hints;
mod parity;
mod processes;
mod reliability;
mod retention;
mod study;
mod tasks;
mod train;
