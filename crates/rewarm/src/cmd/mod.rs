//! The `rewarm` subcommands, one file each: its arguments (clap) and what it runs. The binary
//! only parses and dispatches.

pub mod demo;
pub mod eval;
pub mod init;
pub mod launch;
pub mod report;
pub mod schedule;
pub mod study;
pub mod tokenize;
pub mod train;
