//! Checkpoint retention (`keep_last`, `keep_every`) on a tiny run: which `step-N` folders
//! remain, counted by hand, through a run cut twice and resumed, and the config errors.

use rewarm::run_config::RunConfig;
use rewarm::train;
use std::path::Path;

use crate::common;
use common::{assert_identical_runs, config, train_new, with_data, COSINE, TINY};

/// The step folders of a run, sorted.
fn steps_kept(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn step_names(steps: &[u64]) -> Vec<String> {
    steps.iter().map(|s| format!("step-{s:08}")).collect()
}

const RUN: &str = "steps = 20\ncheckpoint_every = 2\ncheckpoint_at = [5]\nkeep_last = 2\nkeep_every = 8\neval_every = 5\ndevice = \"cpu\"\nthreads = 1";

#[test]
fn keep_last_and_keep_every_prune_only_what_they_may_and_resume_after_pruning() {
    let dir = with_data();
    let d = dir.path();
    // Written: 2, 4, 5 (checkpoint_at), 6, 8, ..., 18, and final at 20. Kept: the last 2 (16,
    // 18), the multiples of 8 (8, 16) and the branch point 5.
    train_new(&config(d, "full", TINY, COSINE, RUN));
    assert_eq!(steps_kept(&d.join("full")), step_names(&[5, 8, 16, 18]));
    assert!(d.join("full/final/trainer_state.json").exists());

    // The same run cut after 5 steps: written 2, 4, 5; kept the last 2 (4, 5).
    let cut_dir = d.join("cut");
    let mut cut = RunConfig::load(&config(d, "cut", TINY, COSINE, RUN)).unwrap();
    cut.run.stop_after = Some(5);
    train::train(&cut, false, false).unwrap();
    assert_eq!(steps_kept(&cut_dir), step_names(&[4, 5]));
    // A file someone added keeps its folder: step 4 is never pruned now.
    std::fs::write(cut_dir.join("checkpoints/step-00000004/notes.txt"), "mine").unwrap();
    // Resumed from 5, cut after 6 more steps (at 11): written 6, 8, 10; at 10 the last 2 are
    // 8 and 10, 8 is a multiple of 8, 5 the branch point, so 6 goes.
    cut.run.stop_after = Some(6);
    train::train(&cut, true, false).unwrap();
    assert_eq!(steps_kept(&cut_dir), step_names(&[4, 5, 8, 10]));
    // A deletion interrupted after its rename is finished by the next pruning.
    let left = cut_dir.join("checkpoints/.pruning-step-00000010");
    std::fs::create_dir(&left).unwrap();
    for e in std::fs::read_dir(cut_dir.join("checkpoints/step-00000010")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), left.join(e.file_name())).unwrap();
    }
    // Resumed from 10 to the end: 12 ... 18 and final; 10, 12 and 14 go as newer ones come.
    cut.run.stop_after = None;
    train::train(&cut, true, false).unwrap();
    assert_eq!(steps_kept(&cut_dir), step_names(&[4, 5, 8, 16, 18]));
    assert_eq!(
        std::fs::read_to_string(cut_dir.join("checkpoints/step-00000004/notes.txt")).unwrap(),
        "mine"
    );
    // Pruning changed nothing the run computes.
    assert_identical_runs(&d.join("full"), &cut_dir);
}

#[test]
fn retention_keys_are_checked() {
    let dir = with_data();
    let d = dir.path();
    let base = "steps = 20\ncheckpoint_every = 4\n";
    for (extra, expect) in [
        ("keep_every = 8", "run.keep_every = 8 needs run.keep_last"),
        (
            "keep_last = 1\nkeep_every = 6",
            "not a multiple of checkpoint_every = 4",
        ),
        (
            "keep_last = 1\nkeep_every = 0",
            "run.keep_every = 0 is out of range",
        ),
    ] {
        let p = config(d, "bad", TINY, COSINE, &format!("{base}{extra}"));
        let e = format!("{:#}", RunConfig::load(&p).unwrap_err());
        assert!(e.contains(expect) && e.contains("bad.toml"), "{extra}: {e}");
    }
    // keep_last alone is fine; unset keeps everything (the default).
    let p = config(d, "ok", TINY, COSINE, &format!("{base}keep_last = 1"));
    assert_eq!(RunConfig::load(&p).unwrap().run.keep_last, Some(1));
}
