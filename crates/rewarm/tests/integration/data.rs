//! Tokenisation and token datasets: formats, parity with Hugging Face `tokenizers`, splits,
//! sampling order and mixing, and the errors bad input gets.

use rewarm::dataset::{DatasetError, Mixture, TokenDataset};
use rewarm::tokenize::{self, ReadOptions, TokenizeJob};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[derive(serde::Deserialize)]
struct Expected {
    docs: Vec<String>,
    ids: Vec<Vec<u32>>,
    eod: u32,
}

fn expected() -> Expected {
    serde_json::from_str(&std::fs::read_to_string(fixture("tokenizer_expected.json")).unwrap())
        .unwrap()
}

fn run(files: &[PathBuf], out: &Path, val: f64) -> anyhow::Result<tokenize::TokenizeSummary> {
    let tok = tokenize::load_tokenizer(&fixture("tokenizer.json"))?;
    tokenize::tokenize(&TokenizeJob {
        files,
        opts: &ReadOptions::default(),
        tokenizer: &tok,
        out,
        val_fraction: val,
        seed: 3,
        shard_tokens: 7, // tiny shards, so reads cross shard boundaries
        progress: false,
        force: false,
        unused: &[],
    })
}

fn all_tokens(dir: &Path) -> Vec<i64> {
    let ds = TokenDataset::open(dir).unwrap();
    let mut v = vec![0i64; ds.tokens() as usize];
    ds.read(0, &mut v);
    v
}

fn write_jsonl(path: &Path, docs: &[String]) {
    let mut f = std::fs::File::create(path).unwrap();
    for d in docs {
        writeln!(
            f,
            "{}",
            serde_json::json!({ "text": d, "meta": {"set": "x"} })
        )
        .unwrap();
    }
}

fn write_parquet(path: &Path, docs: &[String]) {
    use arrow::array::{ArrayRef, StringArray};
    use arrow::record_batch::RecordBatch;
    let arr: ArrayRef = std::sync::Arc::new(StringArray::from(docs.to_vec()));
    let batch = RecordBatch::try_from_iter([("text", arr)]).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn ids_match_hf_tokenizers_in_every_format() {
    let e = expected();
    let mut want: Vec<i64> = Vec::new();
    for ids in &e.ids {
        want.extend(ids.iter().map(|&i| i as i64));
        want.push(e.eod as i64);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // JSON lines, zstd JSON lines (the Pile / SlimPajama format), Parquet, plain text.
    write_jsonl(&d.join("a.jsonl"), &e.docs);
    let raw = std::fs::read(d.join("a.jsonl")).unwrap();
    std::fs::write(
        d.join("b.jsonl.zst"),
        zstd::encode_all(&raw[..], 3).unwrap(),
    )
    .unwrap();
    write_parquet(&d.join("c.parquet"), &e.docs);
    std::fs::write(
        d.join("d.txt"),
        format!("\u{feff}{}\r\n", e.docs.join("\r\n\r\n")),
    )
    .unwrap();
    for f in ["a.jsonl", "b.jsonl.zst", "c.parquet", "d.txt"] {
        let out = d.join(format!("out-{f}"));
        let s = run(&[d.join(f)], &out, 0.0).unwrap();
        assert_eq!(s.stats.documents, 3, "{f}");
        assert_eq!(s.train.dtype, "u16");
        assert!(s.train.shards.len() > 3, "{f}: small shards expected");
        assert_eq!(all_tokens(&out.join("train")), want, "{f}");
        assert!(out.join("tokenizer.json").exists());
    }
}

#[test]
fn validation_split_is_deterministic_and_complete() {
    let docs: Vec<String> = (0..200)
        .map(|i| format!("document number {i} about the river"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    write_jsonl(&dir.path().join("x.jsonl"), &docs);
    let a = run(&[dir.path().join("x.jsonl")], &dir.path().join("a"), 0.2).unwrap();
    let b = run(&[dir.path().join("x.jsonl")], &dir.path().join("b"), 0.2).unwrap();
    let va = a.val.as_ref().unwrap();
    assert_eq!(a.train.documents + va.documents, 200);
    assert!(
        (20..=60).contains(&va.documents),
        "{} validation documents",
        va.documents
    );
    assert_eq!(
        all_tokens(&dir.path().join("a/val")),
        all_tokens(&dir.path().join("b/val"))
    );
    assert_eq!(b.train.tokens, a.train.tokens);
    // Re-running into the same folder replaces it whole.
    run(&[dir.path().join("x.jsonl")], &dir.path().join("a"), 0.2).unwrap();
    assert_eq!(
        all_tokens(&dir.path().join("a/val")),
        all_tokens(&dir.path().join("b/val"))
    );
}

#[test]
fn skipped_documents_are_counted_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mixed.jsonl");
    std::fs::write(
        &p,
        "{\"text\": \"good one\"}\n{\"body\": \"no text field\"}\nnot json at all\n{\"text\": 5}\n\n{\"text\": \"good two\"}\n",
    )
    .unwrap();
    let s = run(std::slice::from_ref(&p), &dir.path().join("out"), 0.0).unwrap();
    assert_eq!(s.stats.documents, 2);
    let lines: Vec<u64> = s.stats.skipped.iter().map(|k| k.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    assert!(s.stats.skipped[0].reason.contains("no field `text`"));
    let tsv = std::fs::read_to_string(dir.path().join("out/skipped.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), 4);
    assert!(tsv.contains("mixed.jsonl\t2\tno field `text`"));
}

#[test]
fn bad_inputs_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Corrupt zstd: valid start, garbage after.
    let mut z = zstd::encode_all(&b"{\"text\": \"hello\"}\n".repeat(1000)[..], 3).unwrap();
    let n = z.len();
    z.truncate(n / 2);
    z.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    std::fs::write(d.join("bad.jsonl.zst"), z).unwrap();
    let e = format!(
        "{:#}",
        run(&[d.join("bad.jsonl.zst")], &d.join("o1"), 0.0).unwrap_err()
    );
    assert!(e.contains("bad.jsonl.zst"), "{e}");
    assert!(!d.join("o1").exists(), "no partial output");
    // Unknown tokenizer file.
    std::fs::write(d.join("tok.json"), "{\"not\": \"a tokenizer\"}").unwrap();
    let e = format!(
        "{:#}",
        tokenize::load_tokenizer(&d.join("tok.json")).err().unwrap()
    );
    assert!(e.contains("tok.json") && e.contains("tokenizer"), "{e}");
    let e = format!(
        "{:#}",
        tokenize::load_tokenizer(&d.join("missing.json"))
            .err()
            .unwrap()
    );
    assert!(e.contains("missing.json"), "{e}");
    // Parquet without the text column.
    {
        use arrow::array::{ArrayRef, Int32Array};
        let arr: ArrayRef = std::sync::Arc::new(Int32Array::from(vec![1, 2]));
        let batch = arrow::record_batch::RecordBatch::try_from_iter([("body", arr)]).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(d.join("p.parquet")).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let e = format!(
        "{:#}",
        run(&[d.join("p.parquet")], &d.join("o2"), 0.0).unwrap_err()
    );
    assert!(
        e.contains("p.parquet") && e.contains("no column `text`") && e.contains("body"),
        "{e}"
    );
    // Unknown extension, and a folder with nothing usable.
    std::fs::write(d.join("x.csv"), "a,b").unwrap();
    let e = format!(
        "{:#}",
        tokenize::expand_inputs(&[d.join("x.csv")]).unwrap_err()
    );
    assert!(
        e.contains("x.csv") && e.contains("unknown input format"),
        "{e}"
    );
    std::fs::create_dir(d.join("empty")).unwrap();
    assert!(tokenize::expand_inputs(&[d.join("empty")]).is_err());
}

#[test]
fn shard_index_mismatches_are_caught() {
    let e = expected();
    let dir = tempfile::tempdir().unwrap();
    write_jsonl(&dir.path().join("a.jsonl"), &e.docs);
    let out = dir.path().join("out");
    run(&[dir.path().join("a.jsonl")], &out, 0.0).unwrap();
    let shard = out.join("train/shard-00001.bin");
    let bytes = std::fs::read(&shard).unwrap();
    std::fs::write(&shard, &bytes[..bytes.len() - 2]).unwrap();
    let typed = TokenDataset::open(&out.join("train")).err().unwrap();
    assert!(
        matches!(&typed, DatasetError::ShardSize { shard, expected, found, .. }
            if shard == "shard-00001.bin" && *found + 2 == *expected),
        "{typed:?}"
    );
    let err = format!("{:#}", anyhow::Error::from(typed));
    assert!(
        err.contains("index.json") && err.contains("shard-00001.bin") && err.contains("bytes"),
        "{err}"
    );
    std::fs::remove_file(&shard).unwrap();
    let typed = TokenDataset::open(&out.join("train")).err().unwrap();
    assert!(
        matches!(&typed, DatasetError::MissingShard { shard, .. } if shard == "shard-00001.bin"),
        "{typed:?}"
    );
    let err = format!("{:#}", anyhow::Error::from(typed));
    assert!(
        err.contains("shard-00001.bin") && err.contains("missing"),
        "{err}"
    );
}

/// A u32 dataset written by hand: 0..n as tokens, split over shards.
fn counting_dataset(dir: &Path, n: u64, per_shard: u64) -> TokenDataset {
    std::fs::create_dir_all(dir).unwrap();
    let mut shards = vec![];
    let mut t = 0u64;
    while t < n {
        let k = per_shard.min(n - t);
        let name = format!("s{}.bin", shards.len());
        let bytes: Vec<u8> = (t..t + k)
            .flat_map(|v| (v as u32 + 70_000).to_le_bytes())
            .collect();
        std::fs::write(dir.join(&name), bytes).unwrap();
        shards.push(serde_json::json!({"file": name, "tokens": k}));
        t += k;
    }
    let idx = serde_json::json!({"format": "rewarm-tokens-v1", "dtype": "u32", "vocab_size": 200_000,
        "eod_id": 0, "tokens": n, "documents": 1, "shards": shards});
    std::fs::write(dir.join("index.json"), idx.to_string()).unwrap();
    TokenDataset::open(dir).unwrap()
}

#[test]
fn sequences_cross_shards_and_orders_are_seeded_permutations() {
    let dir = tempfile::tempdir().unwrap();
    let ds = counting_dataset(&dir.path().join("a"), 1001, 37);
    assert_eq!(ds.num_sequences(10), 100);
    let mut s = vec![0i64; 11];
    ds.sequence(7, 10, &mut s);
    assert_eq!(s, (70..81).map(|v| v + 70_000).collect::<Vec<i64>>());
    // One epoch visits every sequence exactly once; another seed gives another order.
    let mut m = Mixture::new(vec![("a".into(), ds, 1.0)], 10, 42).unwrap();
    let mut buf = vec![0i64; 100 * 11];
    m.next_batch(100, &mut buf);
    let mut starts: Vec<i64> = buf.chunks(11).map(|c| (c[0] - 70_000) / 10).collect();
    let order = starts.clone();
    starts.sort();
    assert_eq!(starts, (0..100).collect::<Vec<i64>>());
    assert_ne!(order, (0..100).collect::<Vec<i64>>());
    let ds2 = TokenDataset::open(&dir.path().join("a")).unwrap();
    let mut m2 = Mixture::new(vec![("a".into(), ds2, 1.0)], 10, 43).unwrap();
    let mut buf2 = vec![0i64; 100 * 11];
    m2.next_batch(100, &mut buf2);
    assert_ne!(buf, buf2);
}

#[test]
fn replay_mixture_holds_its_share_in_every_batch_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let down = counting_dataset(&dir.path().join("down"), 5001, 1000);
    let up = counting_dataset(&dir.path().join("up"), 3001, 1000);
    let mk = |down, up| {
        Mixture::new(
            vec![("down".into(), down, 0.95), ("up".into(), up, 0.05)],
            10,
            1,
        )
        .unwrap()
    };
    let mut m = mk(down, up);
    let mut buf = vec![0i64; 20 * 11];
    let mut before = (0u64, 0u64);
    for _ in 0..30 {
        m.next_batch(20, &mut buf);
        let c = m.cursors();
        assert_eq!(
            (c[0].taken - before.0, c[1].taken - before.1),
            (19, 1),
            "every batch is 19 + 1"
        );
        before = (c[0].taken, c[1].taken);
    }
    let c = m.cursors();
    assert_eq!((c[0].taken, c[1].taken), (570, 30), "95/5 of 600 sequences");
    // 570 > 500 sequences: the downstream set is in its second epoch.
    assert_eq!((c[0].epoch, c[0].pos), (1, 70));
    // Continue from saved cursors: the same next batches as the uninterrupted mixture.
    let mut expect = vec![0i64; 20 * 11];
    m.next_batch(20, &mut expect);
    let mut r = mk(
        TokenDataset::open(&dir.path().join("down")).unwrap(),
        TokenDataset::open(&dir.path().join("up")).unwrap(),
    );
    r.restore(&c).unwrap();
    let mut got = vec![0i64; 20 * 11];
    r.next_batch(20, &mut got);
    assert_eq!(got, expect);
}
