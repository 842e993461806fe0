//! What goes wrong at the crate's public boundary (finding a release's files, ingesting them,
//! opening a store), as variants a caller can match on. Each message is the one the commands
//! print; the readers inside keep `anyhow` and are classified here on the way out.

use std::path::PathBuf;

use crate::layout::{FORMAT_VERSION, MANIFEST};
use crate::parse::{clip, Issue};
use crate::source::Skip;

/// The longest a rejected row or file is echoed in an error.
const ECHO: usize = 500;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input path that does not exist.
    #[error("{}: no such file or folder", .path.display())]
    NotFound { path: PathBuf },

    /// An input that cannot be read; `what` says what was being done.
    #[error("{}: {what}", .path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// Under `--strict`: a file found under the inputs that is not read as placed (not a table
    /// of the release, an unknown name or format).
    #[error("{file}: {reason} (--strict stops here)")]
    Unsupported {
        file: String,
        kind: Skip,
        reason: String,
    },

    /// Under `--strict`: a row rejected (its line, column, value and why).
    #[error("{file}: {}", clip(&.issue.to_string(), ECHO))]
    Rejected { file: String, issue: Issue },

    /// Under `--strict`: a file that cannot be read whole (a missing column, a corrupt
    /// archive, an encoding other than UTF-8...).
    #[error("{file}: {}", clip(.reason, ECHO))]
    FileRejected { file: String, reason: String },

    /// No table of the release under the inputs; `message` names them and what was not read.
    #[error("{message}")]
    NoTables { message: String },

    /// No row of any input was accepted, so the store was not written; `message` says why,
    /// file by file.
    #[error("{message}")]
    NothingAccepted {
        store: PathBuf,
        rows_read: u64,
        message: String,
    },

    /// Another process is writing the store.
    #[error(transparent)]
    Locked(#[from] outdir::InUse),

    /// No store at the path.
    #[error("{}: no such store (run `coldstart ingest` first)", .path.display())]
    NoStore { path: PathBuf },

    /// A store without its manifest (written last): an ingest that did not finish.
    #[error("{}: not a complete coldstart store (no {MANIFEST}); re-run `coldstart ingest`", .path.display())]
    Incomplete {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A store of another format version.
    #[error("{}: a store of format version {found}; this coldstart reads version {FORMAT_VERSION}. Re-run `coldstart ingest` on the release to rebuild it", .path.display())]
    FormatVersion { path: PathBuf, found: u64 },

    /// Anything else (a write that failed, an unreadable manifest...), with its causes.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    /// The typed error inside `e` where there is one, else `e` as [`Error::Other`].
    pub(crate) fn classify(e: anyhow::Error) -> Self {
        let e = match e.downcast::<Error>() {
            Ok(t) => return t,
            Err(e) => e,
        };
        match e.downcast::<outdir::InUse>() {
            Ok(t) => Error::Locked(t),
            Err(e) => Error::Other(e),
        }
    }
}
