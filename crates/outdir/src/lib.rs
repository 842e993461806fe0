//! Output files and folders that a command owns.
//!
//! - [`write_file`]: a file appears whole or not at all (temporary file, fsync, rename; 0644).
//! - [`replace_dir`]: a folder is built under a temporary name beside its destination and
//!   swapped in with one atomic exchange (Linux `renameat2(RENAME_EXCHANGE)`), so at every
//!   instant the destination holds the old folder or the complete new one (0755).
//! - [`is_broken_pipe`] and [`outln!`]: standard output that ends quietly on a closed pipe.
//! - Ownership: every folder made here holds a [`MARKER`] file naming the command that made it.
//!   An existing destination is replaced only when it is empty or carries the same command's
//!   marker; anything else is refused unless the caller passes `force`. Staging folders left by
//!   an interrupted run (they carry the marker from their first instant) are removed by the
//!   next run for the same destination; nothing without the marker is ever deleted.
//! - Only what it made: the marker also lists the names the command wrote. When an own folder
//!   is replaced, anything else in it (a file the user added) is carried into the new folder
//!   (hard links, so nothing is copied and nothing is lost if the run dies first).
//! - Locking: [`Staging`] and [`claim_dir`] hold a [`Lock`] on the destination for as long as
//!   they work on it, so a second writer is refused with the holder's pid.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

mod lock;
pub use lock::{lock, lock_path, InUse, Lock};

/// The ownership marker inside every folder made by [`replace_dir`]: one line naming the
/// command, then (folders made by [`Staging`]) a line `made:` and the names it wrote, one a line.
pub const MARKER: &str = ".made-by";

/// The line in [`MARKER`] after which the command's own names are listed.
const MADE: &str = "made:";

pub(crate) fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

pub(crate) fn name_of(path: &Path) -> Result<String> {
    Ok(path
        .file_name()
        .with_context(|| format!("{}: the output path has no final name", path.display()))?
        .to_string_lossy()
        .into_owned())
}

/// Writes a file through a temporary name in the same folder, fsync and a rename, so readers
/// never see part of it; the file ends up 0644. Creates the parent folder if needed.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.tmp", name_of(path)?))
        .tempfile_in(dir)
        .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    set_mode(tmp.path(), 0o644)?;
    tmp.persist(path)
        .with_context(|| format!("{}: cannot move the new file into place", path.display()))?;
    Ok(())
}

/// A file built under a temporary name beside `path` and moved into place by
/// [`NewFile::commit`]; dropped without a commit, it leaves nothing behind. For outputs too
/// large to hold in memory (query results), where [`write_file`] would not do.
pub struct NewFile {
    tmp: std::io::BufWriter<tempfile::NamedTempFile>,
    path: PathBuf,
    replace: bool,
}

impl NewFile {
    /// Starts `path`. An existing file there is replaced only with `replace` (the user's
    /// `--force`); anything else there, or a missing parent folder, is refused with a message.
    pub fn create(path: &Path, replace: bool) -> Result<Self> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: cannot inspect", path.display())),
            Ok(m) if !m.is_file() => bail!(
                "{} exists and is not a plain file; refusing to write over it. Pick another output path",
                path.display()
            ),
            Ok(_) if !replace => bail!(
                "{} already exists; refusing to overwrite it. Pick another output path, or pass --force to replace it",
                path.display()
            ),
            Ok(_) => {}
        }
        let dir = parent_of(path);
        if !dir.is_dir() {
            bail!("{}: no such folder for the output file", dir.display());
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.tmp", name_of(path)?))
            .tempfile_in(dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        Ok(Self {
            tmp: std::io::BufWriter::with_capacity(1 << 16, tmp),
            path: path.to_path_buf(),
            replace,
        })
    }

    /// Flushes, syncs and moves the finished file into place (0644).
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", path.display()))?;
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("writing {}", path.display()))?;
        set_mode(tmp.path(), 0o644)?;
        let moved = if self.replace {
            tmp.persist(&path).map(|_| ())
        } else {
            // A file that appeared meanwhile is not overwritten either.
            tmp.persist_noclobber(&path).map(|_| ())
        };
        moved
            .map_err(|e| e.error)
            .with_context(|| format!("{}: cannot move the new file into place", path.display()))
    }
}

impl Write for NewFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// Whether an error comes from writing to a closed pipe (`tool ... | head`): a command's `main`
/// then ends quietly with success, as a Unix filter should, instead of reporting an error.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) || format!("{e:#}").contains("Broken pipe (os error 32)")
}

/// `println!` that returns a failed write (a closed pipe among them) as an error with `?`
/// instead of panicking; see [`is_broken_pipe`].
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{}\n", format_args!($($t)*)))?
    };
}

/// A relative path of plain names only (no root, no `..`, not empty): joined to a folder, it
/// stays inside it. For file names read from an index or manifest.
pub fn is_plain_relative(p: &Path) -> bool {
    !p.as_os_str().is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Who made a folder, from its marker (None: no marker).
pub fn owner_of(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(MARKER))
        .ok()
        .map(|s| s.lines().next().unwrap_or("").trim().to_string())
}

/// The names a command listed as its own in `dir`'s marker; None for a marker without a list
/// (made by an older build, or a working folder), where everything counts as the command's.
pub fn made_names(dir: &Path) -> Option<std::collections::BTreeSet<String>> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let mut lines = text.lines().skip(1);
    lines.next().filter(|l| *l == MADE)?;
    Some(lines.map(str::to_string).collect())
}

/// Whether `dest` may be (re)placed by `owner`: it does not exist, is an empty folder, or is a
/// folder that `owner` made; `force` accepts any folder. Call it before long work so a refusal
/// comes first.
pub fn check_dest(dest: &Path, owner: &str, force: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot inspect", dest.display())),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        bail!(
            "{} exists and is not a folder; {owner} writes a folder there only in place of one it made. Pick another output path or remove it yourself",
            dest.display()
        );
    }
    if force {
        return Ok(());
    }
    let empty = std::fs::read_dir(dest)
        .with_context(|| format!("{}: cannot list", dest.display()))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    match owner_of(dest) {
        Some(o) if o == owner => Ok(()),
        Some(o) => bail!(
            "{} was made by `{o}`, not `{owner}`; refusing to replace it. Pick another output path, or pass --force to replace it and everything in it",
            dest.display()
        ),
        None => bail!(
            "{} already exists and was not made by `{owner}` (it has no {MARKER} file); refusing to replace it and the files in it. Pick another output path, or pass --force to replace it and everything in it",
            dest.display()
        ),
    }
}

/// Takes `dest` as a working folder that `owner` fills over time (not atomically): locks it,
/// checks it ([`check_dest`]), creates it if needed and writes the marker, so the next run may
/// reuse it. The folder stays locked while the returned [`Lock`] lives.
pub fn claim_dir(dest: &Path, owner: &str, force: bool) -> Result<Lock> {
    let lock = lock(dest, owner)?;
    check_dest(dest, owner, force)?;
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    std::fs::write(dest.join(MARKER), format!("{owner}\n"))
        .with_context(|| format!("{}: cannot write", dest.join(MARKER).display()))?;
    Ok(lock)
}

/// A folder being built beside its destination; [`Staging::commit`] swaps it in atomically.
/// Dropped without a commit (an error, a panic), it is deleted and the destination is untouched.
/// The destination stays locked from [`Staging::new`] to the end.
pub struct Staging {
    dir: tempfile::TempDir,
    dest: PathBuf,
    owner: String,
    _lock: Lock,
}

impl Staging {
    /// Locks `dest`, checks it ([`check_dest`]) and creates the staging folder (holding the
    /// marker) beside it, creating `dest`'s parent folders as needed.
    pub fn new(dest: &Path, owner: &str, force: bool) -> Result<Self> {
        let lock = lock(dest, owner)?;
        Self::locked(lock, dest, owner, force)
    }

    /// [`Staging::new`] under a lock the caller took earlier with [`lock`] (to refuse a second
    /// writer before long work rather than after it).
    pub fn locked(lock: Lock, dest: &Path, owner: &str, force: bool) -> Result<Self> {
        check_dest(dest, owner, force)?;
        let parent = parent_of(dest);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let prefix = format!(".{}.tmp", name_of(dest)?);
        remove_stale_staging(parent, &prefix, owner);
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir_in(parent)
            .with_context(|| format!("{}: cannot create a staging folder", parent.display()))?;
        std::fs::write(dir.path().join(MARKER), format!("{owner}\n"))
            .with_context(|| format!("{}: cannot write", dir.path().display()))?;
        Ok(Self {
            dir,
            dest: dest.to_path_buf(),
            owner: owner.to_string(),
            _lock: lock,
        })
    }

    /// Where to write the new folder's contents.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Swaps the finished folder into the destination (0755); the replaced folder is deleted
    /// only after the swap. The marker lists what the new folder holds; whatever the old folder
    /// held that its command did not make is carried over, and a clash with a new name of the
    /// same spelling is refused before anything changes.
    pub fn commit(self) -> Result<()> {
        set_mode(self.dir.path(), 0o755)?;
        let dest = &self.dest;
        let mut made: Vec<String> = std::fs::read_dir(self.dir.path())
            .with_context(|| format!("{}: cannot list", self.dir.path().display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != MARKER)
            .collect();
        made.sort();
        let marker = self.dir.path().join(MARKER);
        std::fs::write(&marker, format!("{}\n{MADE}\n{}", self.owner, lines(&made)))
            .with_context(|| format!("{}: cannot write", marker.display()))?;
        if dest.is_dir() {
            keep_foreign(dest, self.dir.path(), &made)?;
        }
        if std::fs::symlink_metadata(dest).is_ok() {
            exchange(self.dir.path(), dest)
                .with_context(|| format!("{}: cannot swap the new folder in", dest.display()))?;
            // The staging path now holds the old folder; dropping the TempDir deletes it.
            drop(self.dir);
        } else {
            let staged = self.dir.keep();
            std::fs::rename(&staged, dest).with_context(|| {
                format!("{}: cannot move the new folder into place", dest.display())
            })?;
        }
        Ok(())
    }
}

/// Builds a folder with `fill` (given the staging path, which already holds the marker) and
/// swaps it into `dest` atomically: [`Staging`] in one call.
pub fn replace_dir(
    dest: &Path,
    owner: &str,
    force: bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let staging = Staging::new(dest, owner, force)?;
    fill(staging.path())?;
    staging.commit()
}

fn lines(names: &[String]) -> String {
    names.iter().map(|n| format!("{n}\n")).collect()
}

/// Links into `staging` every entry of the folder `dest` that its command did not list as its
/// own (nothing when its marker has no list: a folder from an older build counts as all its own).
fn keep_foreign(dest: &Path, staging: &Path, new: &[String]) -> Result<()> {
    let Some(own) = made_names(dest) else {
        return Ok(());
    };
    for e in std::fs::read_dir(dest).with_context(|| format!("{}: cannot list", dest.display()))? {
        let e = e.with_context(|| format!("{}: cannot list", dest.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name == MARKER || own.contains(&name) {
            continue;
        }
        if new.contains(&name) {
            bail!(
                "{}: this file was not made by the command, and the new output has one of the same name; move it away and run again",
                e.path().display()
            );
        }
        link_tree(&e.path(), &staging.join(&name)).with_context(|| {
            format!(
                "{}: cannot carry it into the new folder",
                e.path().display()
            )
        })?;
    }
    Ok(())
}

/// Hard-links a file, or a folder's files recursively (copying where a link is refused).
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            link_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else if meta.file_type().is_symlink() {
        #[cfg(unix)]
        return std::os::unix::fs::symlink(std::fs::read_link(from)?, to);
        #[cfg(not(unix))]
        return std::fs::copy(from, to).map(|_| ());
    } else {
        std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
    }
}

/// Staging folders of `prefix` left by an interrupted run of the same owner.
fn remove_stale_staging(parent: &Path, prefix: &str, owner: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path: PathBuf = e.path();
        if name.starts_with(prefix)
            && e.file_type().is_ok_and(|t| t.is_dir())
            && owner_of(&path).as_deref() == Some(owner)
        {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Atomically exchanges two paths (Linux); elsewhere, or on file systems without
/// RENAME_EXCHANGE, falls back to two renames.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes())?;
        let cb = CString::new(b.as_os_str().as_bytes())?;
        // SAFETY: two NUL-terminated paths; renameat2 only reads them.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(e);
        }
    }
    // a holds the new folder: move b aside into a's place by way of a third name.
    let aside = a.with_extension("old");
    std::fs::rename(b, &aside)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&aside, a)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_the_command_did_not_make_is_refused_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let v = d.path().join("v");
        std::fs::create_dir(&v).unwrap();
        std::fs::write(v.join("precious.txt"), "x").unwrap();
        let e = replace_dir(&v, "tool report", false, |_| Ok(())).unwrap_err();
        assert!(format!("{e:#}").contains("--force"), "{e:#}");
        assert_eq!(
            std::fs::read_to_string(v.join("precious.txt")).unwrap(),
            "x"
        );
        // another tool's folder is refused too
        std::fs::write(v.join(MARKER), "tool other\n").unwrap();
        let e = replace_dir(&v, "tool report", false, |_| Ok(())).unwrap_err();
        assert!(format!("{e:#}").contains("made by `tool other`"), "{e:#}");
        // a file is never replaced by a folder
        let f = d.path().join("f");
        std::fs::write(&f, "y").unwrap();
        assert!(replace_dir(&f, "tool report", true, |_| Ok(())).is_err());
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "y");
        // --force replaces
        replace_dir(&v, "tool report", true, |p| {
            Ok(std::fs::write(p.join("new"), "n")?)
        })
        .unwrap();
        assert!(!v.join("precious.txt").exists() && v.join("new").exists());
    }

    #[test]
    fn own_folders_are_replaced_atomically_and_failures_keep_the_old_one() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        replace_dir(&out, "t", false, |p| Ok(std::fs::write(p.join("a"), "1")?)).unwrap();
        assert_eq!(owner_of(&out).as_deref(), Some("t"));
        replace_dir(&out, "t", false, |p| Ok(std::fs::write(p.join("b"), "2")?)).unwrap();
        assert!(!out.join("a").exists() && out.join("b").exists());
        // a failing fill leaves the previous folder whole and no staging folder behind
        let e = replace_dir(&out, "t", false, |p| {
            std::fs::write(p.join("c"), "3")?;
            bail!("disk full")
        });
        assert!(e.is_err());
        assert!(out.join("b").exists() && !out.join("c").exists());
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["out".to_string()]);
        // an empty folder is fine to fill
        let empty = d.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        replace_dir(&empty, "t", false, |_| Ok(())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o755);
        }
    }

    #[test]
    fn replacing_an_own_folder_keeps_what_the_user_added() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        replace_dir(&out, "t", false, |p| {
            std::fs::write(p.join("report.html"), "1")?;
            Ok(std::fs::create_dir(p.join("charts"))?)
        })
        .unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(out.join("extra")).unwrap();
        std::fs::write(out.join("extra/a.csv"), "a").unwrap();
        replace_dir(&out, "t", false, |p| {
            Ok(std::fs::write(p.join("report.html"), "2")?)
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("report.html")).unwrap(),
            "2"
        );
        // the old run's own folder goes; the user's file and folder stay
        assert!(!out.join("charts").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("extra/a.csv")).unwrap(),
            "a"
        );
        let marker = std::fs::read_to_string(out.join(MARKER)).unwrap();
        assert_eq!(marker, "t\nmade:\nreport.html\n");
        // a user's file whose name the new output takes is refused, and nothing changes
        std::fs::write(out.join("new.csv"), "user").unwrap();
        let e = replace_dir(&out, "t", false, |p| {
            Ok(std::fs::write(p.join("new.csv"), "ours")?)
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("new.csv"), "{e:#}");
        assert_eq!(
            std::fs::read_to_string(out.join("new.csv")).unwrap(),
            "user"
        );
        assert!(out.join("report.html").exists());
    }

    #[test]
    fn a_folder_being_built_is_locked_against_a_second_writer() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let first = Staging::new(&out, "t", false).unwrap();
        let e = Staging::new(&out, "t", false).err().unwrap().to_string();
        assert!(e.contains("in use") && e.contains("process"), "{e}");
        // the first's staging folder is not touched by the refused second
        assert!(first.path().is_dir());
        first.commit().unwrap();
        let held = claim_dir(&d.path().join("work"), "t", false).unwrap();
        assert!(claim_dir(&d.path().join("work"), "t", false).is_err());
        drop(held);
        claim_dir(&d.path().join("work"), "t", false).unwrap();
    }

    #[test]
    fn stale_staging_folders_of_the_same_owner_are_cleaned_others_kept() {
        let d = tempfile::tempdir().unwrap();
        let stale = d.path().join(".out.tmpABC");
        std::fs::create_dir(&stale).unwrap();
        std::fs::write(stale.join(MARKER), "t\n").unwrap();
        let foreign = d.path().join(".out.tmpXYZ");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("keep"), "k").unwrap();
        replace_dir(&d.path().join("out"), "t", false, |_| Ok(())).unwrap();
        assert!(!stale.exists());
        assert!(foreign.join("keep").exists());
    }

    #[test]
    fn files_are_written_whole_with_0644() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/x.json");
        write_file(&p, b"{}").unwrap();
        write_file(&p, b"[1]").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"[1]");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o644
            );
        }
        assert_eq!(std::fs::read_dir(d.path().join("sub")).unwrap().count(), 1);
    }

    #[test]
    fn new_files_replace_an_existing_file_only_with_force() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.csv");
        let mut f = NewFile::create(&p, false).unwrap();
        f.write_all(b"a,b\n").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"a,b\n");
        let e = NewFile::create(&p, false).err().unwrap();
        assert!(format!("{e:#}").contains("--force"), "{e:#}");
        // dropped without commit: nothing changes, nothing is left behind
        let mut f = NewFile::create(&p, true).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"a,b\n");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        let mut f = NewFile::create(&p, true).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert!(NewFile::create(d.path(), true).is_err());
    }
}
