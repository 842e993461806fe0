//! Bad input and hostile file systems: rewarm never deletes what it did not make, reads every
//! input file once (or says why not), skips and lists bad documents instead of aborting, and
//! refuses impossible sizes and out-of-vocabulary data with an error instead of a panic or a
//! hang.

use rewarm::checkpoint;
use rewarm::config::ModelConfig;
use rewarm::dataset::TokenDataset;
use rewarm::eval;
use rewarm::model::GptNeox;
use rewarm::run_config::RunConfig;
use rewarm::study::{preset, StudyConfig};
use rewarm::tokenize::{self, ReadOptions, TokenizeJob};
use std::path::{Path, PathBuf};
use std::process::Command;
use tch::Device;

use crate::common;
use common::{fixture, rewarm_bin, stderr, token_folder};

fn job<'a>(
    files: &'a [PathBuf],
    tok: &'a tokenizers::Tokenizer,
    out: &'a Path,
    force: bool,
) -> TokenizeJob<'a> {
    TokenizeJob {
        files,
        opts: Box::leak(Box::new(ReadOptions::default())),
        tokenizer: tok,
        out,
        val_fraction: 0.0,
        seed: 0,
        shard_tokens: 1 << 20,
        progress: false,
        force,
        unused: &[],
    }
}

fn tiny_model(vocab: i64) -> GptNeox {
    tch::manual_seed(1);
    GptNeox::new(&ModelConfig::custom(vocab, 16, 1, 2, 32), Device::Cpu, 0).unwrap()
}

#[test]
fn outputs_never_replace_a_folder_they_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v = d.join("v");
    std::fs::create_dir(&v).unwrap();
    std::fs::write(v.join("precious.txt"), "x").unwrap();
    let src = d.join("a.txt");
    std::fs::write(&src, "one document\n\nanother one").unwrap();
    let tok = tokenize::load_tokenizer(&fixture("tokenizer.json")).unwrap();
    let files = [src];
    // tokenize --out v
    let e = format!(
        "{:#}",
        tokenize::tokenize(&job(&files, &tok, &v, false)).unwrap_err()
    );
    assert!(e.contains("--force") && e.contains("v"), "{e}");
    // init --out v (a checkpoint)
    let model = tiny_model(64);
    let e = format!(
        "{:#}",
        checkpoint::save(&v, &model, None, false).unwrap_err()
    );
    assert!(e.contains("--force"), "{e}");
    // demo --out v
    let e = format!(
        "{:#}",
        rewarm::demo::run(&rewarm::demo::DemoOptions {
            out: v.clone(),
            upstream_steps: 1,
            downstream_steps: 1,
            threads: 1,
            progress: false,
            force: false,
        })
        .err()
        .unwrap()
    );
    assert!(e.contains("--force"), "{e}");
    assert_eq!(
        std::fs::read_to_string(v.join("precious.txt")).unwrap(),
        "x"
    );
    // Their own outputs are replaced on a re-run, and --force replaces anything.
    let t = d.join("tokens");
    tokenize::tokenize(&job(&files, &tok, &t, false)).unwrap();
    tokenize::tokenize(&job(&files, &tok, &t, false)).unwrap();
    let e = format!(
        "{:#}",
        checkpoint::save(&t, &model, None, false).unwrap_err()
    );
    assert!(e.contains("made by `rewarm tokenize`"), "{e}");
    let c = d.join("ck");
    checkpoint::save(&c, &model, None, false).unwrap();
    checkpoint::save(&c, &model, None, false).unwrap();
    tokenize::tokenize(&job(&files, &tok, &v, true)).unwrap();
    assert!(!v.join("precious.txt").exists() && v.join("train/index.json").exists());
}

#[cfg(unix)]
#[test]
fn folders_are_read_recursively_each_real_file_once_and_unread_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("in");
    std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
    std::fs::write(d.join("a.txt"), "alpha").unwrap();
    std::fs::write(d.join("sub/deeper/b.jsonl"), "{\"text\": \"beta\"}\n").unwrap();
    std::fs::write(d.join("sub/notes.csv"), "x,y").unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap(); // a loop
    std::os::unix::fs::symlink(d.join("a.txt"), d.join("sub/alias.txt")).unwrap();
    let (files, unused) = tokenize::expand_inputs(&[d.clone(), d.join("a.txt")]).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&d).unwrap().display().to_string())
        .collect();
    assert_eq!(names, vec!["a.txt", "sub/deeper/b.jsonl"], "{unused:?}");
    let why = |suffix: &str| {
        unused
            .iter()
            .find(|u| u.file.ends_with(suffix))
            .map(|u| u.reason.clone())
            .unwrap_or_else(|| panic!("{suffix} not reported: {unused:?}"))
    };
    assert!(why("notes.csv").contains(".jsonl"));
    assert!(why("alias.txt").contains("same file"));
    assert!(why("sub/up").contains("loop"), "{}", why("sub/up"));
    // The listing reaches skipped.tsv.
    let tok = tokenize::load_tokenizer(&fixture("tokenizer.json")).unwrap();
    let out = dir.path().join("out");
    let mut j = job(&files, &tok, &out, false);
    j.unused = &unused;
    let s = tokenize::tokenize(&j).unwrap();
    assert_eq!(s.stats.documents, 2);
    let tsv = std::fs::read_to_string(out.join("skipped.tsv")).unwrap();
    assert!(tsv.contains("notes.csv\t0\t"), "{tsv}");
}

#[test]
fn a_bad_byte_skips_its_document_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let txt = d.join("t.txt");
    std::fs::write(
        &txt,
        b"first paragraph\n\nsecond \xff paragraph\nstill second\n\nthird\n",
    )
    .unwrap();
    let jl = d.join("j.jsonl");
    std::fs::write(
        &jl,
        b"{\"text\": \"ok\"}\n{\"text\": \"bad \xfe\"}\n{\"text\": \"ok too\"}\n",
    )
    .unwrap();
    let mut stats = tokenize::ReadStats::default();
    let mut docs = Vec::new();
    tokenize::read_documents(
        &[txt.clone(), jl.clone()],
        &ReadOptions::default(),
        &mut stats,
        &mut |doc| {
            docs.push(doc);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(docs, vec!["first paragraph", "third", "ok", "ok too"]);
    let where_: Vec<(String, u64)> = stats
        .skipped
        .iter()
        .map(|s| {
            (
                s.file.file_name().unwrap().to_string_lossy().into_owned(),
                s.line,
            )
        })
        .collect();
    assert_eq!(where_, vec![("t.txt".into(), 3), ("j.jsonl".into(), 2)]);
    assert!(stats.skipped.iter().all(|s| s.reason.contains("not UTF-8")));
}

#[test]
fn dictionary_encoded_parquet_strings_are_read() {
    use arrow::array::{DictionaryArray, RecordBatch};
    use arrow::datatypes::Int32Type;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cat.parquet");
    let texts: DictionaryArray<Int32Type> = vec!["red fox", "blue whale", "red fox"]
        .into_iter()
        .collect();
    let batch = RecordBatch::try_from_iter([("text", std::sync::Arc::new(texts) as _)]).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&p).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let mut stats = tokenize::ReadStats::default();
    let mut docs = Vec::new();
    tokenize::read_documents(&[p], &ReadOptions::default(), &mut stats, &mut |doc| {
        docs.push(doc);
        Ok(())
    })
    .unwrap();
    assert_eq!(docs, vec!["red fox", "blue whale", "red fox"]);
}

#[test]
fn long_documents_are_tokenised_in_pieces_with_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tok = tokenize::load_tokenizer(&fixture("tokenizer.json")).unwrap();
    // 300 KB of words (cut at word starts: same ids as one piece) ...
    let words: String = (0..40_000).map(|i| format!("w{} ", i % 977)).collect();
    // ... and 200 KB without a space, of two-byte characters (cut at a character boundary).
    let blob = "é".repeat(100_000);
    for (name, text) in [("words", words.trim_end().to_string()), ("blob", blob)] {
        let src = d.join(format!("{name}.jsonl"));
        std::fs::write(&src, serde_json::json!({ "text": text }).to_string()).unwrap();
        let out = d.join(format!("out-{name}"));
        tokenize::tokenize(&job(&[src], &tok, &out, false)).unwrap();
        let ds = TokenDataset::open(&out).unwrap();
        let mut got = vec![0i64; ds.tokens() as usize];
        ds.read(0, &mut got);
        assert_eq!(ds.index.documents, 1);
        let eod = tokenize::eod_id(&tok).unwrap() as i64;
        assert_eq!(*got.last().unwrap(), eod);
        let whole: Vec<i64> = tok
            .encode(text.as_str(), false)
            .unwrap()
            .get_ids()
            .iter()
            .map(|&i| i as i64)
            .collect();
        if name == "words" {
            assert_eq!(&got[..got.len() - 1], &whole[..]);
        } else {
            // Decoding gives the text back whole.
            let ids: Vec<u32> = got[..got.len() - 1].iter().map(|&i| i as u32).collect();
            assert_eq!(tok.decode(&ids, false).unwrap(), text);
        }
    }
}

#[test]
fn out_of_vocabulary_data_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(64);
    // The index admits a larger vocabulary than the model has.
    let big = TokenDataset::open(&token_folder(
        &dir.path().join("big"),
        &[1, 2, 3, 4, 5],
        1000,
    ))
    .unwrap();
    let e = format!(
        "{:#}",
        eval::evaluate(&model, "v", &big, 2, 1, 0).unwrap_err()
    );
    assert!(e.contains("1000") && e.contains("64"), "{e}");
    // The index says 64 but a shard holds id 300.
    let lying = TokenDataset::open(&token_folder(
        &dir.path().join("lying"),
        &[1, 2, 300, 4, 5],
        64,
    ))
    .unwrap();
    let e = format!(
        "{:#}",
        eval::evaluate(&model, "v", &lying, 2, 1, 0).unwrap_err()
    );
    assert!(
        e.contains("token id 300") && e.contains("vocab_size 64"),
        "{e}"
    );
    // Zero sizes are refused instead of dividing by zero or looping.
    let ok =
        TokenDataset::open(&token_folder(&dir.path().join("ok"), &[1, 2, 3, 4, 5], 64)).unwrap();
    assert!(eval::evaluate(&model, "v", &ok, 0, 1, 0).is_err());
    assert!(eval::evaluate(&model, "v", &ok, 2, 0, 0).is_err());
    let r = eval::evaluate(&model, "v", &ok, 2, 1, 0).unwrap();
    assert_eq!(r.sequences, 2);
}

#[test]
fn impossible_model_sizes_are_refused_with_the_numbers() {
    let cfg = ModelConfig::custom(50304, 2_000_000, 1, 1, 4);
    let e = format!("{:#}", GptNeox::new(&cfg, Device::Cpu, 0).err().unwrap());
    assert!(e.contains("parameters") && e.contains("GiB"), "{e}");
}

#[test]
fn non_finite_weights_and_escaping_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = tiny_model(64);
    let ck = d.join("ck");
    checkpoint::save(&ck, &model, None, false).unwrap();
    let mut tensors = checkpoint::read_tensors(&ck.join("model.safetensors")).unwrap();
    let (name, t) = &mut tensors[3];
    let _ = t.get(0).fill_(f64::NAN);
    let bad = name.clone();
    let named: Vec<(String, &tch::Tensor)> = tensors.iter().map(|(n, t)| (n.clone(), t)).collect();
    checkpoint::write_tensors(&ck.join("model.safetensors"), &named).unwrap();
    let e = format!("{:#}", checkpoint::load(&ck, Device::Cpu).err().unwrap());
    assert!(e.contains(&bad) && e.contains("NaN"), "{e}");
    // A shard index pointing outside its folder.
    let t = token_folder(&d.join("t"), &[1, 2, 3], 64);
    let idx = std::fs::read_to_string(t.join("index.json"))
        .unwrap()
        .replace("\"shard-00000.bin\"", "\"../t/shard-00000.bin\"");
    std::fs::write(t.join("index.json"), idx).unwrap();
    let e = format!("{:#}", TokenDataset::open(&t).err().unwrap());
    assert!(e.contains("not a file inside"), "{e}");
    // A checkpoint index whose weight_map leaves the folder.
    let sh = d.join("sharded");
    std::fs::create_dir(&sh).unwrap();
    std::fs::copy(ck.join("config.json"), sh.join("config.json")).unwrap();
    std::fs::write(
        sh.join("model.safetensors.index.json"),
        r#"{"weight_map": {"gpt_neox.embed_in.weight": "/etc/passwd"}}"#,
    )
    .unwrap();
    let e = format!("{:#}", checkpoint::load(&sh, Device::Cpu).err().unwrap());
    assert!(
        e.contains("/etc/passwd") && e.contains("not a file inside"),
        "{e}"
    );
}

#[test]
fn cli_refuses_zero_steps_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), "hello world").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rewarm"))
        .args(["tokenize", "--tokenizer"])
        .arg(fixture("tokenizer.json"))
        .arg("--input")
        .arg(d.join("a.txt"))
        .arg("--out")
        .arg(d.join("o"))
        .args(["--shard-tokens", "0", "--quiet"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--shard-tokens"));
    std::fs::write(
        d.join("r.toml"),
        "[model]\npreset = \"14m\"\n[data]\nseq_len = 8\nbatch_size = 1\ntrain = [{ name = \"a\", path = \"x\" }]\n[schedule]\nkind = \"constant\"\nmax_lr = 1e-3\n[run]\nsteps = 5\nout = \"o\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_rewarm"))
        .args(["schedule", "--every", "0", "--config"])
        .arg(d.join("r.toml"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--every"));
}

#[test]
fn numeric_keys_are_checked_where_they_are_parsed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let base = toml::Value::try_from(preset::config("micro", &d.join("s")).unwrap()).unwrap();
    let study_err = |key: &str, value: toml::Value| -> String {
        let mut v = base.clone();
        let mut t = v.as_table_mut().unwrap();
        let path: Vec<&str> = key.split('.').collect();
        for k in &path[..path.len() - 1] {
            t = t
                .entry(k.to_string())
                .or_insert(toml::Value::Table(Default::default()))
                .as_table_mut()
                .unwrap();
        }
        t.insert(path[path.len() - 1].to_string(), value);
        let p = d.join("study.toml");
        std::fs::write(&p, toml::to_string(&v).unwrap()).unwrap();
        format!("{:#}", StudyConfig::load(&p).unwrap_err())
    };
    for (key, value, range) in [
        ("grid.reference.replay", toml::Value::Float(1.5), "[0, 1)"),
        ("upstream.final_lr", toml::Value::Float(-1e-4), "0 or more"),
        ("run.threads", toml::Value::Integer(-5), "0 (the default"),
        ("run.threads", toml::Value::Integer(100_000), "1024"),
        ("grid.reference.max_lr", toml::Value::Float(0.0), "positive"),
        ("upstream.min_ratio", toml::Value::Float(2.0), "[0, 1]"),
        ("optim.beta2", toml::Value::Float(1.0), "[0, 1)"),
        ("grid.infinite_constant", toml::Value::Float(-0.5), "[0, 1]"),
        ("run.dist_timeout_s", toml::Value::Integer(0), "a week"),
        ("data.batch_size", toml::Value::Integer(0), "at least 1"),
    ] {
        let e = study_err(key, value);
        assert!(
            e.contains("study.toml") && e.contains(&format!("{key} = ")) && e.contains(range),
            "{key}: {e}"
        );
    }
    // The run config, the same way.
    for (run, key, range) in [
        ("steps = 3\nthreads = -5", "run.threads", "0 (the default"),
        ("steps = 3\nlog_every = 0", "run.log_every", "at least 1"),
        (
            "steps = 3\neval_at = [9]",
            "run.eval_at",
            "steps 1 to run.steps (3)",
        ),
    ] {
        let p = common::config(d, "r", common::TINY, common::COSINE, run);
        let e = format!("{:#}", RunConfig::load(&p).unwrap_err());
        assert!(
            e.contains("r.toml") && e.contains(key) && e.contains(range),
            "{e}"
        );
    }
    let p = common::config(
        d,
        "r",
        &format!("{}\nvocab_size = 2000000", common::TINY),
        common::COSINE,
        "steps = 3",
    );
    let e = format!("{:#}", RunConfig::load(&p).unwrap_err());
    assert!(
        e.contains("model.vocab_size = 2000000") && e.contains("1048576"),
        "{e}"
    );
}

#[test]
fn tokenize_bounds_the_bpe_vocabulary_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let o = rewarm_bin()
        .args([
            "tokenize",
            "--train-bpe",
            "1000000000",
            "--input",
            "/nonexistent.txt",
            "--out",
        ])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(!o.status.success());
    assert!(
        e.contains("--train-bpe") && e.contains("1048576") && e.contains("embedding"),
        "{e}"
    );
    assert!(!e.contains("nonexistent"), "{e}");
}
