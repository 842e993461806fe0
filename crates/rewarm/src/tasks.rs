//! Downstream tasks scored by log-likelihood, as lm-evaluation-harness scores a Hugging Face
//! model (`lm_eval --model hf`): a multiple-choice example is right when its gold choice has
//! the highest log-likelihood after the context (`acc`), or the highest per character of the
//! choice (`acc_norm`); a last-word example (LAMBADA) is right when the greedy continuation is
//! the target word (`acc`), and the task's perplexity is exp of minus the mean log-likelihood
//! of the targets.
//!
//! Tasks are JSON lines, one example each, in lm-eval's conventions:
//! - multiple choice: the context in `query` (or `context`, `question`, `ctx`), the choices in
//!   `choices` (or `endings`, as HellaSwag names them), the gold choice's index in `gold` (or
//!   `label`, `answer`); each choice is scored
//!   as the continuation `" " + choice` (lm-eval's default target delimiter);
//! - last word: `text`, whose last space-separated word is the target and the rest the
//!   context (lm-eval's `lambada_openai`).
//!
//! A context and continuation are tokenised as lm-eval's `_encode_pair` does: trailing spaces
//! of the context move to the continuation, the pair is encoded whole and the context alone,
//! and the continuation's tokens are the whole's after the context's; an empty context is the
//! end-of-text token. Longer than the model's context, the input loses tokens on the left.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tch::{Kind, Tensor};
use tokenizers::Tokenizer;

use crate::model::GptNeox;

/// Longest line of a task file (bytes) and most examples and choices read.
pub const MAX_LINE: usize = 1 << 20;
pub const MAX_EXAMPLES: usize = 1_000_000;
pub const MAX_CHOICES: usize = 64;

/// One example of a task.
#[derive(Debug, Clone, PartialEq)]
pub enum Example {
    Choice {
        context: String,
        choices: Vec<String>,
        gold: usize,
    },
    LastWord {
        context: String,
        target: String,
    },
}

/// A task file read whole.
#[derive(Debug, Clone)]
pub struct Task {
    pub name: String,
    pub path: PathBuf,
    pub examples: Vec<Example>,
}

impl Task {
    /// `multiple-choice` or `last-word`.
    pub fn kind(&self) -> &'static str {
        self.examples.first().map_or("multiple-choice", kind_of)
    }
}

/// The first of `keys` that `obj` has, with its name.
fn field<'a>(obj: &'a Value, keys: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    keys.iter().find_map(|k| obj.get(*k).map(|v| (*k, v)))
}

/// Reads a task file; errors name the file, the line and the field.
pub fn read(name: &str, path: &Path) -> Result<Task> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("task {name}: cannot open {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut examples = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("task {name}: reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let at = || format!("{}:{line_no}", path.display());
        if buf.len() > MAX_LINE {
            bail!("{}: a line longer than {MAX_LINE} bytes", at());
        }
        let text = std::str::from_utf8(&buf).with_context(|| format!("{}: not UTF-8", at()))?;
        if text.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(text).with_context(|| format!("{}: not a JSON object", at()))?;
        let ex = example(&v).with_context(at)?;
        if let Some(first) = examples.first() {
            if std::mem::discriminant(first) != std::mem::discriminant(&ex) {
                bail!(
                    "{}: a {} example in a task whose first example is {}",
                    at(),
                    kind_of(&ex),
                    kind_of(first)
                );
            }
        }
        if examples.len() == MAX_EXAMPLES {
            bail!("{}: more than {MAX_EXAMPLES} examples", at());
        }
        examples.push(ex);
    }
    if examples.is_empty() {
        bail!("task {name}: {} holds no examples", path.display());
    }
    Ok(Task {
        name: name.to_string(),
        path: path.to_path_buf(),
        examples,
    })
}

fn kind_of(e: &Example) -> &'static str {
    match e {
        Example::Choice { .. } => "multiple-choice",
        Example::LastWord { .. } => "last-word",
    }
}

/// One JSON line as an example.
fn example(v: &Value) -> Result<Example> {
    if !v.is_object() {
        bail!("not a JSON object");
    }
    if let Some((chk, choices)) = field(v, &["choices", "endings"]) {
        let (ck, context) = field(v, &["query", "context", "question", "ctx"])
            .context("field query (or context, question, ctx): missing")?;
        let context = context
            .as_str()
            .with_context(|| format!("field {ck}: not a string"))?;
        let choices = choices
            .as_array()
            .with_context(|| format!("field {chk}: not a list"))?
            .iter()
            .map(|c| c.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .with_context(|| format!("field {chk}: not a list of strings"))?;
        if !(2..=MAX_CHOICES).contains(&choices.len()) {
            bail!(
                "field {chk}: {} choices (2 to {MAX_CHOICES})",
                choices.len()
            );
        }
        let (gk, gold) = field(v, &["gold", "label", "answer"])
            .context("field gold (or label, answer): missing")?;
        let gold = gold
            .as_u64()
            .or_else(|| gold.as_str().and_then(|g| g.parse().ok()))
            .filter(|g| (*g as usize) < choices.len())
            .with_context(|| {
                format!(
                    "field {gk}: {gold} is not the index of one of the {} choices",
                    choices.len()
                )
            })? as usize;
        return Ok(Example::Choice {
            context: context.to_string(),
            choices,
            gold,
        });
    }
    let text = v
        .get("text")
        .context("field choices (multiple choice) or text (last word): missing")?
        .as_str()
        .context("field text: not a string")?;
    let Some((context, word)) = text.rsplit_once(' ') else {
        bail!("field text: no space before a last word");
    };
    if word.is_empty() {
        bail!("field text: ends with a space, so it has no last word");
    }
    Ok(Example::LastWord {
        context: context.to_string(),
        target: format!(" {word}"),
    })
}

/// Scores continuations with a model and its tokenizer.
pub struct Scorer<'a> {
    pub model: &'a GptNeox,
    pub tokenizer: &'a Tokenizer,
    /// The end-of-text token, the context of an empty context.
    pub eot: i64,
}

impl<'a> Scorer<'a> {
    /// A scorer with the tokenizer's end-of-text token as the empty context.
    pub fn new(model: &'a GptNeox, tokenizer: &'a Tokenizer) -> Result<Self> {
        Ok(Self {
            model,
            tokenizer,
            eot: i64::from(crate::tokenize::eod_id(tokenizer)?),
        })
    }

    fn encode(&self, s: &str) -> Result<Vec<i64>> {
        let e = self
            .tokenizer
            .encode(s, false)
            .map_err(|e| anyhow::anyhow!("tokenising {s:?}: {e}"))?;
        Ok(e.get_ids().iter().map(|i| i64::from(*i)).collect())
    }

    /// Context and continuation tokens, as lm-eval's `_encode_pair`.
    pub fn encode_pair(&self, context: &str, continuation: &str) -> Result<(Vec<i64>, Vec<i64>)> {
        if context.is_empty() {
            return Ok((vec![self.eot], self.encode(continuation)?));
        }
        let kept = context.trim_end_matches(' ').len();
        let (context, moved) = context.split_at(kept);
        let continuation = format!("{moved}{continuation}");
        let whole = self.encode(&format!("{context}{continuation}"))?;
        let ctx = self.encode(context)?;
        let cont = whole[ctx.len().min(whole.len())..].to_vec();
        Ok((ctx, cont))
    }

    /// The log-likelihood of `continuation` after `context`, and whether every one of its
    /// tokens is the model's most likely next token.
    pub fn loglikelihood(&self, context: &str, continuation: &str) -> Result<(f64, bool)> {
        let (ctx, cont) = self.encode_pair(context, continuation)?;
        if cont.is_empty() {
            bail!("the continuation {continuation:?} of {context:?} is no tokens");
        }
        let vocab = self.model.cfg.vocab_size;
        if let Some(bad) = ctx.iter().chain(&cont).find(|i| **i >= vocab) {
            bail!("token id {bad} is outside the model's vocabulary (vocab_size {vocab}): the tokenizer does not belong to this model");
        }
        let max = self.model.cfg.max_position_embeddings as usize;
        let all: Vec<i64> = ctx.iter().chain(&cont).copied().collect();
        // The last max + 1 tokens; the input is all of them but the last.
        let keep = &all[all.len().saturating_sub(max + 1)..];
        let input = &keep[..keep.len() - 1];
        let n = cont.len().min(input.len());
        let targets = &cont[cont.len() - n..];
        tch::no_grad(|| {
            let ids = Tensor::from_slice(input)
                .view([1, input.len() as i64])
                .to_device(self.model.device);
            let logp = self
                .model
                .forward(&ids)
                .to_kind(Kind::Double)
                .log_softmax(-1, Kind::Double)
                .squeeze_dim(0)
                .narrow(0, (input.len() - n) as i64, n as i64);
            let t = Tensor::from_slice(targets).to_device(self.model.device);
            let ll = logp.gather(1, &t.unsqueeze(1), false).sum(Kind::Double);
            let greedy = logp.argmax(-1, false).eq_tensor(&t).all();
            Ok((ll.double_value(&[]), greedy.int64_value(&[]) != 0))
        })
    }
}

/// A task's scores.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskScore {
    pub task: String,
    pub kind: String,
    pub examples: usize,
    pub acc: f64,
    /// Multiple choice: accuracy with log-likelihoods per character of the choice.
    pub acc_norm: Option<f64>,
    /// Last word: exp of minus the mean log-likelihood of the targets.
    pub perplexity: Option<f64>,
}

/// The index of the largest value (the first of equals, as numpy's argmax).
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Scores every example of `task`; `each` is told the examples done.
pub fn score(task: &Task, scorer: &Scorer, mut each: impl FnMut(usize)) -> Result<TaskScore> {
    let n = task.examples.len();
    let (mut right, mut right_norm, mut ll_sum) = (0usize, 0usize, 0.0);
    for (i, ex) in task.examples.iter().enumerate() {
        let at = || {
            format!(
                "task {} ({}), example {}",
                task.name,
                task.path.display(),
                i + 1
            )
        };
        match ex {
            Example::Choice {
                context,
                choices,
                gold,
            } => {
                let lls = choices
                    .iter()
                    .map(|c| scorer.loglikelihood(context, &format!(" {c}")).map(|r| r.0))
                    .collect::<Result<Vec<f64>>>()
                    .with_context(at)?;
                let norm: Vec<f64> = lls
                    .iter()
                    .zip(choices)
                    .map(|(ll, c)| ll / c.chars().count().max(1) as f64)
                    .collect();
                right += usize::from(argmax(&lls) == *gold);
                right_norm += usize::from(argmax(&norm) == *gold);
            }
            Example::LastWord { context, target } => {
                let (ll, greedy) = scorer.loglikelihood(context, target).with_context(at)?;
                right += usize::from(greedy);
                ll_sum += ll;
            }
        }
        each(i + 1);
    }
    let choice = task.kind() == "multiple-choice";
    Ok(TaskScore {
        task: task.name.clone(),
        kind: task.kind().to_string(),
        examples: n,
        acc: right as f64 / n as f64,
        acc_norm: choice.then(|| right_norm as f64 / n as f64),
        perplexity: (!choice).then(|| (-ll_sum / n as f64).exp()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &str) -> Result<Task> {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.jsonl");
        std::fs::write(&p, lines).unwrap();
        read("t", &p)
    }

    #[test]
    fn examples_follow_lm_evals_conventions_and_errors_name_line_and_field() {
        let t = parse(
            "{\"query\": \"Q\", \"choices\": [\"a\", \"b\"], \"gold\": 1}\n\n\
             {\"ctx\": \"R\", \"endings\": [\"c\", \"d\", \"e\"], \"label\": \"0\"}\n",
        )
        .unwrap();
        assert_eq!(t.kind(), "multiple-choice");
        assert_eq!(
            t.examples[1],
            Example::Choice {
                context: "R".into(),
                choices: vec!["c".into(), "d".into(), "e".into()],
                gold: 0
            }
        );
        let t = parse("{\"text\": \"the cat sat on the mat\"}\n").unwrap();
        assert_eq!(
            t.examples[0],
            Example::LastWord {
                context: "the cat sat on the".into(),
                target: " mat".into()
            }
        );
        for (text, want) in [
            (
                "{\"query\": \"Q\", \"choices\": [\"a\", \"b\"], \"gold\": 2}",
                ":1: field gold: 2 is not the index",
            ),
            (
                "{\"query\": \"Q\", \"choices\": [\"a\"], \"gold\": 0}",
                ":1: field choices: 1 choices",
            ),
            (
                "{\"choices\": [\"a\", \"b\"], \"gold\": 0}",
                ":1: field query (or context, question, ctx): missing",
            ),
            ("{\"text\": \"word\"}", ":1: field text: no space"),
            ("[1]", ":1: not a JSON object"),
            (
                "{\"text\": \"a b\"}\n{\"query\": \"Q\", \"choices\": [\"a\", \"b\"], \"gold\": 0}",
                ":2: a multiple-choice example in a task whose first example is last-word",
            ),
        ] {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(want), "{e} / {want}");
            assert!(e.contains("t.jsonl"), "{e}");
        }
        assert!(format!("{:#}", parse("\n").unwrap_err()).contains("holds no examples"));
    }

    #[test]
    fn argmax_takes_the_first_of_equals() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[-1.0]), 0);
    }
}
