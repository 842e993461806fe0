//! Checkpoint retention (`[run] keep_last` and `keep_every`): after each checkpoint, the run's
//! older `step-N` checkpoints that no rule keeps are deleted. Never touched: `final`, the
//! newest checkpoint (the one a resume needs), the `checkpoint_at` steps (a study branches from
//! them), and any folder the run did not write whole (another owner's, or one holding a file
//! its marker does not list). A folder is first renamed out of the checkpoint names (an atomic
//! rename), then removed, so an interrupted deletion never leaves a partial checkpoint behind.

use crate::run_config::RunSection;
use crate::run_dir;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The prefix a checkpoint folder is renamed to before it is removed; left over by an
/// interrupted deletion, such folders are removed by the next pruning.
const PRUNING: &str = ".pruning-";

/// The steps of `written` (the run's complete step checkpoints, up to `newest`) that the
/// retention rules keep: the `keep_last` newest, the multiples of `keep_every`, the
/// `checkpoint_at` steps and `newest` itself. All of them when `keep_last` is unset.
pub fn kept(run: &RunSection, written: &[u64], newest: u64) -> Vec<u64> {
    let Some(last) = run.keep_last.filter(|n| *n > 0) else {
        return written.to_vec();
    };
    let mut sorted = written.to_vec();
    sorted.sort_unstable();
    let recent: Vec<u64> = sorted.iter().rev().take(last as usize).copied().collect();
    sorted
        .into_iter()
        .filter(|s| {
            *s == newest
                || recent.contains(s)
                || run.keep_every.is_some_and(|k| k > 0 && s % k == 0)
                || run.checkpoint_at.contains(s)
        })
        .collect()
}

/// Applies the retention rules to the run folder `out` after the checkpoint of step `newest`
/// is complete; returns the steps deleted. Only step checkpoints older than `newest` that this
/// run's command wrote are candidates.
pub fn prune(out: &Path, run: &RunSection, newest: u64) -> Result<Vec<u64>> {
    let folder = out.join(run_dir::CHECKPOINTS);
    remove_leftovers(&folder)?;
    if run.keep_last.is_none_or(|n| n == 0) {
        return Ok(Vec::new());
    }
    let written: Vec<(u64, PathBuf)> = run_dir::checkpoints(out)
        .into_iter()
        .filter(|(s, p)| *s <= newest && p.parent() == Some(folder.as_path()))
        .collect();
    let steps: Vec<u64> = written.iter().map(|c| c.0).collect();
    let keep = kept(run, &steps, newest);
    let mut deleted = Vec::new();
    for (step, dir) in written {
        if keep.contains(&step) || !written_whole(&dir) {
            continue;
        }
        let name = dir.file_name().expect("a step folder").to_string_lossy();
        let doomed = folder.join(format!("{PRUNING}{name}"));
        std::fs::rename(&dir, &doomed)
            .with_context(|| format!("pruning checkpoint {}", dir.display()))?;
        std::fs::remove_dir_all(&doomed)
            .with_context(|| format!("removing pruned checkpoint {}", doomed.display()))?;
        deleted.push(step);
    }
    deleted.sort_unstable();
    Ok(deleted)
}

/// Folders renamed for deletion by a pruning that was interrupted.
fn remove_leftovers(folder: &Path) -> Result<()> {
    for e in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with(PRUNING) && written_whole(&e.path()) {
            std::fs::remove_dir_all(e.path())
                .with_context(|| format!("removing {}", e.path().display()))?;
        }
    }
    Ok(())
}

/// Whether `dir` was made by `rewarm train` and holds only what its marker lists as written
/// by it (a file someone added keeps the folder).
fn written_whole(dir: &Path) -> bool {
    if outdir::owner_of(dir).as_deref() != Some(run_dir::OWNER) {
        return false;
    }
    let Some(own) = outdir::made_names(dir) else {
        return false;
    };
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == outdir::MARKER || own.contains(&name)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(keep_last: Option<u64>, keep_every: Option<u64>, at: Vec<u64>) -> RunSection {
        let mut r: RunSection = toml::from_str("steps = 20\nout = \"x\"").unwrap();
        r.keep_last = keep_last;
        r.keep_every = keep_every;
        r.checkpoint_at = at;
        r
    }

    #[test]
    fn the_rules_keep_what_they_say() {
        let written = [2, 4, 5, 6, 8, 10, 12, 14, 16, 18];
        // Unset: everything.
        assert_eq!(kept(&run(None, None, vec![]), &written, 18), written);
        // The last 2: 16, 18.
        assert_eq!(kept(&run(Some(2), None, vec![]), &written, 18), [16, 18]);
        // And every 8th step, and the branch point 5.
        assert_eq!(
            kept(&run(Some(2), Some(8), vec![5]), &written, 18),
            [5, 8, 16, 18]
        );
        // keep_last = 1 still keeps the newest (the one a resume needs).
        assert_eq!(
            kept(&run(Some(1), Some(6), vec![]), &written[..6], 10),
            [6, 10]
        );
    }
}
