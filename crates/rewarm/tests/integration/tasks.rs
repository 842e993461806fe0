//! `rewarm eval --task` against lm-evaluation-harness: a small trained GPT-NeoX checkpoint, a
//! multiple-choice and a last-word task, and what `lm_eval --model hf` made of them
//! (scripts/rewarm_task_fixtures.py): every continuation's log-likelihood and greedy flag, and
//! each task's accuracy, normalised accuracy and perplexity.

use crate::common::{fixture, rewarm_bin, stderr};
use rewarm::tasks::{self, Scorer};
use rewarm::tokenize::{eod_id, hf::TokenizerFile};
use serde_json::Value;

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("tasks/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn tasks_score_as_lm_eval_scores_them() {
    let dir = fixture("tasks/model");
    let model = rewarm::checkpoint::load(&dir, tch::Device::Cpu).unwrap();
    let (_, tok) = TokenizerFile::of_checkpoint(&dir).unwrap().unwrap();
    let scorer = Scorer {
        model: &model,
        tokenizer: &tok,
        eot: i64::from(eod_id(&tok).unwrap()),
    };
    let want = expected();
    // Every log-likelihood (f32 model, summed in f64) and greedy flag.
    let choice = tasks::read("choice", &fixture("tasks/choice.jsonl")).unwrap();
    for (ex, w) in choice
        .examples
        .iter()
        .zip(want["choice"]["examples"].as_array().unwrap())
    {
        let tasks::Example::Choice {
            context, choices, ..
        } = ex
        else {
            panic!()
        };
        for (c, wc) in choices.iter().zip(w.as_array().unwrap()) {
            let (ll, greedy) = scorer.loglikelihood(context, &format!(" {c}")).unwrap();
            let wll = wc[0].as_f64().unwrap();
            assert!(
                (ll - wll).abs() < 1e-4,
                "{context:?} {c:?}: {ll} against lm-eval's {wll}"
            );
            assert_eq!(greedy, wc[1].as_bool().unwrap(), "{context:?} {c:?}");
        }
    }
    let last = tasks::read("lastword", &fixture("tasks/lastword.jsonl")).unwrap();
    for (ex, w) in last
        .examples
        .iter()
        .zip(want["lastword"]["examples"].as_array().unwrap())
    {
        let tasks::Example::LastWord { context, target } = ex else {
            panic!()
        };
        let (ll, greedy) = scorer.loglikelihood(context, target).unwrap();
        let wll = w[0].as_f64().unwrap();
        assert!(
            (ll - wll).abs() < 1e-4 * wll.abs().max(1.0),
            "{context:?}: {ll} against {wll}"
        );
        assert_eq!(greedy, w[1].as_bool().unwrap(), "{context:?}");
    }
    // The tasks' scores equal lm_eval.simple_evaluate's.
    let c = tasks::score(&choice, &scorer, |_| {}).unwrap();
    assert_eq!(c.acc, want["choice"]["acc"].as_f64().unwrap());
    assert_eq!(c.acc_norm, want["choice"]["acc_norm"].as_f64());
    assert_ne!(
        c.acc,
        c.acc_norm.unwrap(),
        "the fixture tells the two apart"
    );
    let l = tasks::score(&last, &scorer, |_| {}).unwrap();
    assert_eq!(l.acc, want["lastword"]["acc"].as_f64().unwrap());
    let (p, wp) = (
        l.perplexity.unwrap(),
        want["lastword"]["perplexity"].as_f64().unwrap(),
    );
    assert!((p / wp - 1.0).abs() < 1e-4, "{p} against {wp}");
}

#[test]
fn eval_prints_each_tasks_scores_and_refuses_bad_input() {
    let out = rewarm_bin()
        .args(["eval", "--checkpoint"])
        .arg(fixture("tasks/model"))
        .arg("--task")
        .arg(fixture("tasks/choice.jsonl"))
        .arg(format!(
            "last={}",
            fixture("tasks/lastword.jsonl").display()
        ))
        .args(["--device", "cpu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let want = expected();
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .to_string()
    };
    let acc = format!("{:.4}", want["choice"]["acc"].as_f64().unwrap());
    assert!(
        row("choice").contains("multiple-choice") && row("choice").contains(&acc),
        "{text}"
    );
    assert!(row("last ").contains("last-word"), "{text}");
    // A task file with a bad line, and nothing to evaluate.
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"query\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 0}\n{\"query\": 1}\n",
    )
    .unwrap();
    let out = rewarm_bin()
        .args(["eval", "--checkpoint"])
        .arg(fixture("tasks/model"))
        .arg("--task")
        .arg(&bad)
        .output()
        .unwrap();
    let e = stderr(&out);
    assert!(!out.status.success() && e.contains("bad.jsonl:2"), "{e}");
    let out = rewarm_bin()
        .args(["eval", "--checkpoint"])
        .arg(fixture("tasks/model"))
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("nothing to evaluate"),
        "{}",
        stderr(&out)
    );
}

/// `[eval] tasks` in a run config: every evaluation logs each task's scores (log.jsonl and
/// TensorBoard). Continued from the fixture checkpoint, step 0's scores are lm-eval's.
#[test]
fn a_run_scores_its_tasks_at_every_evaluation() {
    let d = tempfile::tempdir().unwrap();
    let ck = fixture("tasks/model");
    let tok = rewarm::tokenize::load_tokenizer(&ck.join("tokenizer.json")).unwrap();
    let text = d.path().join("text.txt");
    let lines = [
        "The quiet river follows the misty hill at dawn.",
        "A small boat drifts past the old stone bridge.",
    ];
    std::fs::write(&text, lines.repeat(40).join("\n\n")).unwrap();
    crate::common::tokenize_into(&tok, text, &d.path().join("tok"));
    let cfg = d.path().join("run.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"[model]
checkpoint = "{ck}"
[data]
seq_len = 16
batch_size = 4
train = [{{ name = "t", path = "tok" }}]
[schedule]
kind = "constant"
max_lr = 1e-3
[run]
steps = 4
eval_every = 2
out = "run"
device = "cpu"
[eval]
tasks = [{{ name = "choice", path = "{choice}" }}, {{ name = "last", path = "{last}" }}]
"#,
            ck = ck.display(),
            choice = fixture("tasks/choice.jsonl").display(),
            last = fixture("tasks/lastword.jsonl").display(),
        ),
    )
    .unwrap();
    crate::common::train_new(&cfg);
    let log = rewarm::run_dir::read_log(&d.path().join("run")).unwrap();
    let scored: Vec<u64> = log
        .iter()
        .filter(|l| !l.tasks.is_empty())
        .map(|l| l.step)
        .collect();
    assert_eq!(scored, [0, 2, 4]);
    let want = expected();
    let first = &log[0].tasks;
    assert_eq!(first[0].task, "choice");
    assert_eq!(first[0].acc, want["choice"]["acc"].as_f64().unwrap());
    assert_eq!(first[0].acc_norm, want["choice"]["acc_norm"].as_f64());
    let p = first[1].perplexity.unwrap() / want["lastword"]["perplexity"].as_f64().unwrap();
    assert!((p - 1.0).abs() < 1e-4, "{p}");
    // A task file that is not there fails before the first step.
    let bad = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("lastword.jsonl", "missing.jsonl")
        .replace("out = \"run\"", "out = \"run2\"");
    std::fs::write(&cfg, bad).unwrap();
    let c = rewarm::run_config::RunConfig::load(&cfg).unwrap();
    let e = format!("{:#}", rewarm::train::train(&c, false, false).unwrap_err());
    assert!(
        e.contains("task last") && e.contains("missing.jsonl"),
        "{e}"
    );
}
