//! Every hint a message gives names something that exists: each backticked `rewarm <command>
//! --flag` and each bare `--flag` in the crate's string literals and CLI doc comments is checked
//! against clap's command tree, and each ownership marker names a real command.

use std::path::Path;

/// A string literal or doc comment of a Rust source, with its line.
struct Text {
    line: usize,
    text: String,
    doc: bool,
}

/// The string literals (plain, raw, byte) and doc comments of a Rust source, in order.
fn texts(src: &str) -> Vec<Text> {
    let b = src.as_bytes();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c == b'/' && next == Some(b'/') {
            let end = src[i..].find('\n').map_or(b.len(), |e| i + e);
            let text = &src[i..end];
            if text.starts_with("///") || text.starts_with("//!") {
                out.push(Text {
                    line,
                    text: text[3..].to_string(),
                    doc: true,
                });
            }
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            let end = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            line += src[i..end].matches('\n').count();
            i = end;
        } else if (c == b'r' || c == b'b')
            && (i == 0 || !ident(b[i - 1]))
            && matches!(next, Some(b'"' | b'#' | b'r'))
        {
            // r"..", r#".."#, b"..", br"..": find the opening quote and the hashes.
            let mut j = i + 1;
            let raw = c == b'r' || next == Some(b'r');
            if c == b'b' && next == Some(b'r') {
                j += 1;
            }
            let hashes = b[j..].iter().take_while(|&&h| h == b'#').count();
            j += hashes;
            if b.get(j) != Some(&b'"') {
                i += 1;
                continue;
            }
            let start = j + 1;
            let end = if raw {
                let close = format!("\"{}", "#".repeat(hashes));
                start + src[start..].find(&close).unwrap()
            } else {
                closing_quote(b, start)
            };
            out.push(Text {
                line,
                text: src[start..end].to_string(),
                doc: false,
            });
            line += src[start..end].matches('\n').count();
            i = end + 1 + hashes;
        } else if c == b'"' {
            let end = closing_quote(b, i + 1);
            out.push(Text {
                line,
                text: src[i + 1..end].to_string(),
                doc: false,
            });
            line += src[i + 1..end].matches('\n').count();
            i = end + 1;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '"') or a lifetime ('a).
            if next == Some(b'\\') {
                // Past the escaped character to the closing quote.
                i += 3 + src[i + 3..].find('\'').unwrap() + 1;
            } else {
                let ch = src[i + 1..].chars().next().unwrap();
                let after = i + 1 + ch.len_utf8();
                i = if b.get(after) == Some(&b'\'') {
                    after + 1
                } else {
                    i + 1
                };
            }
        } else if ident(c) {
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The index of the `"` ending a string literal whose text starts at `start`.
fn closing_quote(b: &[u8], mut j: usize) -> usize {
    while b[j] != b'"' {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    j
}

/// The `--flag` names in `text` (not `--` alone, not inside a longer word).
fn flags(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices("--") {
        let before = i.checked_sub(1).map(|k| b[k]);
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'!') {
            continue;
        }
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        let name = name.trim_end_matches('-');
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(name.to_string());
        }
    }
    out
}

/// The subcommands of a source file's messages can reach (a `--flag` named outside a
/// backticked `rewarm <sub> ...` must exist in each); files not listed reach all of them.
fn reach(file: &str, all: &[String]) -> Vec<String> {
    let list: &[&str] = match file {
        "study/mod.rs" => &["study"],
        f if f.starts_with("study/") => &["study", "report"],
        "launch.rs" => &["launch"],
        "demo.rs" => &["demo"],
        "generate.rs" => &["generate"],
        f if f.starts_with("tokenize/") => &["tokenize", "study", "demo"],
        "train.rs" | "run_dir.rs" | "run_config.rs" => &["train", "study", "demo"],
        f => match f.strip_prefix("cmd/").and_then(|f| f.strip_suffix(".rs")) {
            Some(sub) if sub != "mod" => return vec![sub.to_string()],
            _ => return all.to_vec(),
        },
    };
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_hint_names_a_real_command_and_flag() {
    use clap::CommandFactory;
    let mut cli = rewarm::cmd::Cli::command();
    cli.build();
    let global: Vec<String> = cli
        .get_arguments()
        .filter_map(|a| a.get_long().map(String::from))
        .chain(["help".to_string(), "version".to_string()])
        .collect();
    let commands: std::collections::BTreeMap<String, Vec<String>> = cli
        .get_subcommands()
        .map(|s| {
            let mut f: Vec<String> = s
                .get_arguments()
                .filter_map(|a| a.get_long().map(String::from))
                .collect();
            f.extend(global.iter().cloned());
            (s.get_name().to_string(), f)
        })
        .collect();
    let all: Vec<String> = commands.keys().cloned().collect();
    assert!(all.len() >= 9 && commands["study"].contains(&"jobs".to_string()));

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut checked = 0;
    for e in walkdir::WalkDir::new(&src).sort_by_file_name() {
        let e = e.unwrap();
        if e.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let file = e
            .path()
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let code = std::fs::read_to_string(e.path()).unwrap();
        // Ownership markers name the command in outdir's messages (`made by ...`).
        for (n, l) in code.lines().enumerate() {
            let l = l.trim();
            if let Some(rest) = l
                .strip_prefix("pub const OWNER: &str = \"")
                .or_else(|| l.strip_prefix("const OWNER: &str = \""))
            {
                let owner = rest.trim_end_matches("\";");
                let sub = owner.strip_prefix("rewarm ").unwrap_or("");
                checked += 1;
                if !commands.contains_key(sub) {
                    problems.push(format!(
                        "{file}:{}: OWNER {owner:?} is no rewarm command",
                        n + 1
                    ));
                }
            }
        }
        let reached = reach(&file, &all);
        for t in texts(&code) {
            // Doc comments become help text only in cmd/ (clap's about and help).
            if t.doc && !file.starts_with("cmd/") {
                continue;
            }
            let mut bare = String::new();
            // A page's HTML quotes commands in <code> as the terminal's messages do in backticks.
            let text = t.text.replace("<code>", "`").replace("</code>", "`");
            for (k, part) in text.split('`').enumerate() {
                let quoted = k % 2 == 1;
                let Some(rest) = part.strip_prefix("rewarm ").filter(|_| quoted) else {
                    if !t.doc {
                        bare.push_str(part);
                        bare.push(' ');
                    }
                    continue;
                };
                // `rewarm launch --nproc 2 -- train --config x`: two commands.
                for cmd in rest.split(" -- ") {
                    let sub = cmd.split_whitespace().next().unwrap_or("");
                    checked += 1;
                    let Some(known) = commands.get(sub) else {
                        problems.push(format!(
                            "{file}:{}: `rewarm {cmd}`: no command {sub:?}",
                            t.line
                        ));
                        continue;
                    };
                    for f in flags(cmd) {
                        if !known.contains(&f) {
                            problems
                                .push(format!("{file}:{}: `rewarm {sub}` has no --{f}", t.line));
                        }
                    }
                }
            }
            for f in flags(&bare) {
                checked += 1;
                for sub in &reached {
                    if !commands[sub].contains(&f) {
                        problems.push(format!(
                            "{file}:{}: --{f} is named where `rewarm {sub}` can show it, but {sub} has no --{f}: {:?}",
                            t.line, t.text
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} hints found: is the scanner reading the sources?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_hint_scanner_reads_literals_as_rustc_does() {
    let src = r####"
        let c = '"'; let q = '\''; fn f<'a>(x: &'a str) {}
        // "--not-a-literal"
        /// `rewarm doc --help`
        let s = "one \" --flag-a `rewarm study --jobs 2`";
        let r = r#"raw "--flag-b" "#;
        let b = b"--bytes";
        /* "--in-block" */
        let t = "x<!--html-->y";
    "####;
    let t = texts(src);
    let lits: Vec<&str> = t
        .iter()
        .filter(|t| !t.doc)
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(
        lits,
        vec![
            r#"one \" --flag-a `rewarm study --jobs 2`"#,
            r#"raw "--flag-b" "#,
            "--bytes",
            "x<!--html-->y"
        ]
    );
    assert_eq!(t.iter().filter(|t| t.doc).count(), 1);
    assert_eq!(flags(lits[0]), vec!["flag-a", "jobs"]);
    assert!(flags(lits[3]).is_empty());
    assert_eq!(t[1].line, 5);
}
