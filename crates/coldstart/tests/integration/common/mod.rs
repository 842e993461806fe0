//! Helpers the CLI tests share: run the binary, expect success or failure.

#![allow(dead_code)]

use std::process::{Command, Output};

pub fn coldstart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldstart"))
        .args(args)
        .output()
        .expect("runs")
}

/// Runs `coldstart args`, which must succeed; its output.
pub fn ok_output(args: &[&str]) -> Output {
    let out = coldstart(args);
    assert!(
        out.status.success(),
        "coldstart {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `coldstart args`, which must succeed; its stdout.
pub fn ok(args: &[&str]) -> String {
    String::from_utf8(ok_output(args).stdout).unwrap()
}

pub fn fails(args: &[&str]) -> String {
    let out = coldstart(args);
    assert!(!out.status.success(), "coldstart {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}
