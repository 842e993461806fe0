//! `rewarm generate`: the key-value cache against the full forward pass, greedy decoding
//! against `transformers`' `generate(do_sample=False)` (fixtures from
//! scripts/make-rewarm-fixtures.sh), seeded sampling, stop strings and bad inputs.

use crate::common;

use common::{fixture, rewarm_bin, stderr};
use rewarm::checkpoint;
use rewarm::generate::{generate, Finish, Options};
use rewarm::model::KvCache;
use std::path::{Path, PathBuf};
use tch::{Device, IndexOp, Kind, Tensor};

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

/// Prefill then one token at a time: at every step the cached logits equal the last position
/// of a full forward pass over the sequence so far; a left-padded row equals its row alone.
#[test]
fn kv_cache_logits_equal_full_forward() {
    // Fixed tokens in 3..64 (no global generator, which other tests of this binary share): the
    // same sums on every run.
    let ids: Vec<i64> = (0..48).map(|i| 3 + (i * 37 + 11) % 61).collect();
    for name in ["neox-tiny-gen", "neox-tiny-seq", "neox-tiny-tied"] {
        let model = checkpoint::load(&fixture(name), Device::Cpu).unwrap();
        let g = Tensor::from_slice(&ids).view([2, 24]);
        let seqs = g.copy();
        let (prefill, pad) = (8, 3);
        tch::no_grad(|| {
            // Row 1's first `pad` prompt tokens are padding: its real sequence starts later.
            let mut valid = Tensor::ones([2, prefill], (Kind::Bool, Device::Cpu));
            let _ = valid.i((1, 0..pad)).fill_(0);
            let mut cache = KvCache::new();
            let mut logits = model
                .forward_cached(&seqs.i((.., 0..prefill)), &valid, &mut cache)
                .unwrap();
            for t in prefill..=24 {
                let last = logits.i((.., -1, ..));
                let full0 = model.forward(&seqs.i((0..1, 0..t))).i((0, -1, ..));
                let full1 = model.forward(&seqs.i((1..2, pad..t))).i((0, -1, ..));
                let e0 = max_abs(&last.i(0), &full0);
                let e1 = max_abs(&last.i(1), &full1);
                // f32 rounding: the cached and the full pass reach the same logits (of order
                // 1-10) through different kernels; random tokens once reached 1.007e-5.
                assert!(e0 < 5e-5 && e1 < 5e-5, "{name} step {t}: {e0:e} {e1:e}");
                if t == 24 {
                    break;
                }
                valid = Tensor::ones([2, 1], (Kind::Bool, Device::Cpu));
                logits = model
                    .forward_cached(&seqs.i((.., t..t + 1)), &valid, &mut cache)
                    .unwrap();
            }
        });
    }
}

/// Greedy tokens equal transformers' for single prompts, a left-padded batch and a
/// repetition penalty.
#[test]
fn greedy_matches_transformers() {
    for name in ["neox-tiny", "neox-tiny-seq", "neox-tiny-gen"] {
        let model = checkpoint::load(&fixture(name), Device::Cpu).unwrap();
        let text = std::fs::read_to_string(fixture(name).join("generate.json")).unwrap();
        let exp: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ids =
            |v: &serde_json::Value| -> Vec<Vec<i64>> { serde_json::from_value(v.clone()).unwrap() };
        for case in exp["cases"].as_array().unwrap() {
            let opts = Options {
                max_new_tokens: exp["max_new_tokens"].as_u64().unwrap() as usize,
                repetition_penalty: case["repetition_penalty"].as_f64().unwrap(),
                eos: exp["eos"].as_i64(),
                ..Options::default()
            };
            let got = generate(&model, &ids(&case["prompts"]), &opts, |_, _| false).unwrap();
            let got: Vec<Vec<i64>> = got.into_iter().map(|g| g.ids).collect();
            assert_eq!(got, ids(&case["new"]), "{name} {}", case["case"]);
        }
    }
}

fn gen_model() -> rewarm::model::GptNeox {
    checkpoint::load(&fixture("neox-tiny-gen"), Device::Cpu).unwrap()
}

const PROMPTS: [&[i64]; 3] = [&[5, 9, 13, 40], &[7], &[33, 34, 35, 36, 37, 38]];

fn prompts() -> Vec<Vec<i64>> {
    PROMPTS.iter().map(|p| p.to_vec()).collect()
}

#[test]
fn seeded_sampling_is_reproducible_and_top_k_one_is_greedy() {
    let model = gen_model();
    let sample = |seed: u64, top_k: usize, top_p: f64| {
        let o = Options {
            max_new_tokens: 16,
            temperature: 1.0,
            top_k,
            top_p,
            seed,
            ..Options::default()
        };
        generate(&model, &prompts(), &o, |_, _| false).unwrap()
    };
    assert_eq!(sample(1, 0, 1.0), sample(1, 0, 1.0));
    assert_eq!(sample(1, 5, 0.9), sample(1, 5, 0.9));
    assert_ne!(sample(1, 0, 1.0), sample(2, 0, 1.0));
    let greedy = generate(
        &model,
        &prompts(),
        &Options {
            max_new_tokens: 16,
            ..Options::default()
        },
        |_, _| false,
    )
    .unwrap();
    assert_eq!(sample(3, 1, 1.0), greedy);
    assert!(greedy
        .iter()
        .all(|g| g.ids.len() == 16 && g.finish == Finish::Length));
}

#[test]
fn a_stop_test_ends_its_sequence_only() {
    let model = gen_model();
    let o = Options {
        max_new_tokens: 10,
        ..Options::default()
    };
    let out = generate(&model, &prompts(), &o, |row, new| {
        row == 1 && new.len() == 3
    })
    .unwrap();
    assert_eq!(out[1].ids.len(), 3);
    assert_eq!(out[1].finish, Finish::Stop);
    assert_eq!(out[0].ids.len(), 10);
}

/// A model over the fixture tokenizer's 300 tokens with a 48-token context, made by
/// `rewarm init`.
fn cli_model(dir: &Path) -> PathBuf {
    let cfg = dir.join("config.json");
    std::fs::write(
        &cfg,
        r#"{"vocab_size": 320, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 64, "max_position_embeddings": 48, "initializer_range": 0.5}"#,
    )
    .unwrap();
    let out = dir.join("model");
    let o = rewarm_bin()
        .args(["init", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    out
}

fn run_generate(model: &Path, args: &[&str]) -> std::process::Output {
    rewarm_bin()
        .args(["generate", "--device", "cpu", "--checkpoint"])
        .arg(model)
        .arg("--tokenizer")
        .arg(fixture("tokenizer.json"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_stop_strings_out_file_and_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let model = cli_model(dir.path());
    let prompts = dir.path().join("prompts.jsonl");
    std::fs::write(
        &prompts,
        "{\"prompt\": \"The quiet river\"}\n\n{\"prompt\": \"ERROR gateway\"}\n",
    )
    .unwrap();
    let out = dir.path().join("out.jsonl");
    let run = |extra: &[&str]| {
        let mut a = vec!["--prompts", prompts.to_str().unwrap(), "--ignore-eos"];
        a.extend_from_slice(extra);
        let o = run_generate(&model, &a);
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    run(&["--max-new-tokens", "12", "--out", out.to_str().unwrap()]);
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["prompt"], "The quiet river");
    assert_eq!(records[0]["new_tokens"], 12);
    // Stop at a piece of the first continuation: it is cut before it, and ends there.
    let full = records[0]["completion"].as_str().unwrap().to_string();
    let stop: String = full
        .chars()
        .skip(full.chars().count() / 2)
        .take(2)
        .collect();
    assert!(!stop.trim().is_empty(), "{full:?}");
    // An existing --out file is kept without --force.
    let o = run_generate(&model, &["--prompt", "hi", "--out", out.to_str().unwrap()]);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = run(&[
        "--max-new-tokens",
        "12",
        "--stop",
        &stop,
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let rec: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let cut = rec["completion"].as_str().unwrap();
    assert!(
        full.starts_with(cut) && cut.len() < full.len(),
        "{cut:?} of {full:?}"
    );
    assert!(!cut.contains(stop.as_str()));
    assert_eq!(rec["finish"], "stop");
    assert!(
        text.starts_with(&format!("The quiet river{cut}\n")),
        "{text}"
    );

    // Bad inputs name the file and line.
    let bad = |name: &str, content: &str, want: &[&str]| {
        let f = dir.path().join(name);
        std::fs::write(&f, content).unwrap();
        let o = run_generate(&model, &["--prompts", f.to_str().unwrap()]);
        let e = stderr(&o);
        assert!(!o.status.success());
        for w in want {
            assert!(e.contains(w), "{name}: {e}");
        }
    };
    bad("empty.txt", "\n\n", &["empty.txt: no prompts"]);
    let long = "word ".repeat(200);
    bad(
        "long.txt",
        &format!("hello\n{long}\n"),
        &["long.txt line 2", "longer than the model's context of 48"],
    );
    bad(
        "nofield.jsonl",
        "{\"text\": \"hi\"}\n",
        &["nofield.jsonl line 1", "no \"prompt\" field"],
    );
    // An empty stop string would end every continuation at its first token.
    let o = run_generate(&model, &["--prompt", "hi", "--stop", ""]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("empty stop string"), "{}", stderr(&o));
}
