//! Advisory locks on outputs, so a second writer is refused with the holder's pid instead of
//! racing the first (two ingests into one store, two studies on one folder).
//!
//! The lock is `flock(2)` on a small file beside the output,
//! `.<name>.lock`, holding the holder's pid. The holder deletes the file when it is done; a
//! process that locked a file just deleted checks the inode and tries again, so at most one
//! holder exists at any time.

use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A held lock on an output path; released (and its file removed) when dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

/// The lock file of `dest`: `.<name>.lock` beside it.
pub fn lock_path(dest: &Path) -> Result<PathBuf> {
    Ok(crate::parent_of(dest).join(format!(".{}.lock", crate::name_of(dest)?)))
}

/// Takes the lock on `dest` for `what` (the command, for messages), or refuses at once when
/// another process holds it, naming that process. Creates `dest`'s parent folder if needed.
pub fn lock(dest: &Path, what: &str) -> Result<Lock> {
    let path = lock_path(dest)?;
    let parent = crate::parent_of(dest);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    for _ in 0..100 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("{}: cannot open the lock file", path.display()))?;
        match try_lock(&file) {
            Ok(true) => {}
            Ok(false) => {
                // The holder writes its pid just after taking the lock: give it a moment.
                let mut pid = String::new();
                for _ in 0..20 {
                    pid.clear();
                    let _ = file.rewind().and_then(|_| file.read_to_string(&mut pid));
                    if !pid.trim().is_empty() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                let holder = match pid.trim().parse::<u32>() {
                    Ok(p) => format!("process {p}"),
                    Err(_) => "another process".to_string(),
                };
                return Err(InUse {
                    dest: dest.to_path_buf(),
                    holder,
                    lock: path,
                    what: what.to_string(),
                }
                .into());
            }
            Err(e) => return Err(e).with_context(|| format!("{}: cannot lock", path.display())),
        }
        // The previous holder may have removed the file between our open and our lock.
        if !same_file(&file, &path) {
            continue;
        }
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .with_context(|| format!("{}: cannot write the lock file", path.display()))?;
        return Ok(Lock { file, path });
    }
    bail!(
        "{}: could not take the lock (it kept being replaced)",
        path.display()
    )
}

/// The refusal of [`lock`]: another process holds the lock (a caller may find it in the
/// error with `downcast_ref`).
#[derive(Debug)]
pub struct InUse {
    /// The output asked for.
    pub dest: PathBuf,
    /// Who holds it: `process N`, or `another process` when its pid is not written yet.
    pub holder: String,
    /// The lock file.
    pub lock: PathBuf,
    /// The command that asked, for the message.
    pub what: String,
}

impl std::fmt::Display for InUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is in use: {} is writing it (lock file {}). Wait for it to finish, or write to another path; `{}` does not share an output with another run",
            self.dest.display(),
            self.holder,
            self.lock.display(),
            self.what
        )
    }
}

impl std::error::Error for InUse {}

impl Lock {
    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Remove first, unlock second: a process that opened the old file sees the inode
        // change after it gets the lock and starts over.
        let _ = std::fs::remove_file(&self.path);
        unlock(&self.file);
    }
}

/// Takes an exclusive lock without waiting: Ok(false) when another open file holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this File owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(unix)]
fn unlock(file: &File) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: as above; closing the file would release it too.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
}

#[cfg(not(unix))]
fn try_lock(_: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(not(unix))]
fn unlock(_: &File) {}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_and_may_go_after_release() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("store");
        let held = lock(&out, "coldstart ingest").unwrap();
        assert_eq!(
            std::fs::read_to_string(held.path()).unwrap().trim(),
            std::process::id().to_string()
        );
        // flock locks belong to open files, so a second open in this process conflicts too.
        let e = lock(&out, "coldstart ingest").unwrap_err().to_string();
        assert!(
            e.contains(&format!("process {}", std::process::id())) && e.contains("store"),
            "{e}"
        );
        drop(held);
        assert!(!lock_path(&out).unwrap().exists());
        let again = lock(&out, "coldstart ingest").unwrap();
        drop(again);
        // other outputs in the same folder are independent
        let _a = lock(&d.path().join("a"), "t").unwrap();
        let _b = lock(&d.path().join("b"), "t").unwrap();
    }
}
