//! coldstart-trace's integration tests, linked as one binary (one copy of the dependencies on disk).
//! (`tests/fuzz.rs` links apart: it counts the bytes its process allocates.) Each file is a
//! module; `cargo test -p coldstart-trace --test integration MODULE::` runs one.

mod bad_input;
mod common;
mod errors;
mod input_faults;
mod reliability;
