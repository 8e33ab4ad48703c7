//! The one error type of the crate.
//!
//! Every variant carries what a person needs to act on it (the file, the
//! operation). Backend errors are boxed so that no SQLite type leaks into the
//! store interface that other backends implement too.

use std::path::PathBuf;
use std::time::Duration;

/// A boxed error from a storage backend or a library below it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while writing, reading or verifying a log.
///
/// Callers that must fail closed (the hook) treat every variant as "deny";
/// [`AuditError::Locked`] is split out so the reason can say the log was busy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Another writer held the log longer than the configured busy timeout.
    #[error("audit log {path} is locked by another writer; gave up after {waited:?}")]
    Locked { path: PathBuf, waited: Duration },

    /// The log file does not exist (and the store was opened read-only).
    #[error("no audit log at {path}")]
    NotFound { path: PathBuf },

    /// The directory that should hold the log does not exist.
    #[error("the directory of audit log {path} does not exist (create it, or enable create_dirs)")]
    MissingDirectory { path: PathBuf },

    /// The disk (or the configured size cap) is full; nothing was written.
    #[error("audit log {path} is full (disk full or size cap reached); the event was not written")]
    DiskFull { path: PathBuf },

    /// The file is not a database, or its pages are damaged.
    #[error("audit log {path} is damaged: {detail}")]
    Corrupt { path: PathBuf, detail: String },

    /// The file or its directory cannot be written.
    #[error("audit log {path} cannot be written: {detail}")]
    ReadOnly { path: PathBuf, detail: String },

    /// The file exists but was written by a newer or foreign schema.
    #[error("audit log {path} has schema version {found}, this build reads version {expected}")]
    Schema {
        path: PathBuf,
        found: i64,
        expected: i64,
    },

    /// A row could not be read back as an event (a type or value out of range).
    #[error("audit log {path}: the record at seq {seq} is malformed: {detail}")]
    Malformed {
        path: PathBuf,
        seq: i64,
        detail: String,
    },

    /// Any other failure of the storage backend.
    #[error("audit log {path}: {op} failed: {source}")]
    Backend {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: BoxError,
    },

    /// The checkpoint signing key could not be created, read or used.
    #[error("audit signing key {path}: {detail}")]
    SigningKey { path: PathBuf, detail: String },

    /// The checkpoint witness file could not be written or read.
    #[error("audit checkpoint witness {path}: {detail}")]
    Witness { path: PathBuf, detail: String },

    /// No configuration directory is known, so the default key path cannot be formed.
    #[error("no configuration directory is known (set HOME or XDG_CONFIG_HOME, or configure the signing key path)")]
    NoConfigDir,

    /// A file-system error outside the database itself.
    #[error("{op} {path}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A caller handed in something this crate cannot accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// Writing a report to the caller's writer failed.
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
}

impl AuditError {
    /// True when the error means the file itself is damaged (not busy, not full).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            AuditError::Corrupt { .. } | AuditError::Malformed { .. }
        )
    }
}
