//! Every hint a message gives names something that exists: each `--flag` written in the
//! coldstart crates' code (messages, help text) is a flag of some `coldstart` subcommand, and
//! each `coldstart <command>` named in backticks is a real subcommand. The flags come from the
//! binary's own `--help`, so the check follows the CLI as built.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn help(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_coldstart"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

/// `--name` tokens in `text`.
fn flags(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'-'
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_lowercase()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
        if starts {
            let mut j = i + 2;
            while j < b.len()
                && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'-')
            {
                j += 1;
            }
            out.push(text[i + 2..j].trim_end_matches('-').to_string());
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn every_flag_and_command_a_message_names_exists() {
    let top = help(&[]);
    let subs: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|s| s != "help")
        .collect();
    assert!(
        subs.len() >= 8 && subs.contains(&"simulate".to_string()),
        "{subs:?}"
    );
    let mut known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &subs {
        known.insert(s.clone(), flags(&help(&[s])).into_iter().collect());
    }
    let all: BTreeSet<&String> = known.values().flatten().collect();
    assert!(all.contains(&"sweep-points".to_string()) && all.contains(&"force".to_string()));

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    let mut checked = 0;
    for krate in ["coldstart", "coldstart-sim", "coldstart-trace", "outdir"] {
        for e in walkdir(&root.join(krate).join("src")) {
            let code = std::fs::read_to_string(&e).unwrap();
            let name = e.strip_prefix(&root).unwrap().display().to_string();
            for (n, line) in code.lines().enumerate() {
                let t = line.trim_start();
                // Comments are not messages; doc comments of the CLI are its help text.
                if t.starts_with("//") && !(t.starts_with("///") && name.contains("/cmd/")) {
                    continue;
                }
                for f in flags(line) {
                    checked += 1;
                    if !all.contains(&f) {
                        problems.push(format!("{name}:{}: --{f} is no coldstart flag", n + 1));
                    }
                }
                for (k, part) in line.split('`').enumerate() {
                    if let Some(rest) = part.strip_prefix("coldstart ").filter(|_| k % 2 == 1) {
                        let sub = rest.split_whitespace().next().unwrap_or("");
                        checked += 1;
                        if !known.contains_key(sub) {
                            problems
                                .push(format!("{name}:{}: `coldstart {sub}` is no command", n + 1));
                        } else {
                            for f in flags(rest) {
                                if !known[sub].contains(&f) {
                                    problems.push(format!(
                                        "{name}:{}: `coldstart {sub}` has no --{f}",
                                        n + 1
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} hints found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    out.sort();
    out
}
