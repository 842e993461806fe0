//! Helpers the CLI tests share: run the binary, expect success or failure.

#![allow(dead_code)]

use std::process::{Command, Output};

pub fn coldstart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coldstart"))
        .args(args)
        .output()
        .expect("runs")
}

pub fn ok(args: &[&str]) -> String {
    let out = coldstart(args);
    assert!(
        out.status.success(),
        "coldstart {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn fails(args: &[&str]) -> String {
    let out = coldstart(args);
    assert!(!out.status.success(), "coldstart {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}
