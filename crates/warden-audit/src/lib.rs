//! A tamper-evident audit log of everything an AI coding agent asks to do.
//!
//! Every hook call (session start, prompt, each tool call with its decision,
//! each tool result, session end) becomes one [`StoredEvent`] in an
//! append-only log. Each event carries the SHA-256 of the one before it over
//! a canonical encoding ([`chain`]), so editing, deleting, reordering or
//! inserting an event breaks the chain, and [`AuditStore::verify`] names the
//! first broken link. Signed checkpoints (Ed25519, key outside the project)
//! pin the head of the chain, and a witness file beside the key makes a
//! cut-off tail visible too. `TRUST.md` says exactly what this proves.
//!
//! The store is behind the backend-neutral [`AuditStore`] trait; the
//! embedded backend is [`SqliteStore`] (one SQLite file, WAL mode, safe for
//! many concurrent hook processes). Every text is passed through a
//! [`Redactor`] before it is written, so secrets never reach the file.
//!
//! ```
//! use warden_audit::{AuditStore, Decision, EventKind, NewEvent, SqliteStore, StoreOptions};
//!
//! # fn main() -> Result<(), warden_audit::AuditError> {
//! # let dir = tempfile::tempdir().unwrap();
//! let mut opts = StoreOptions::default();
//! opts.checkpoints.key_path = Some(dir.path().join("keys/audit-signing.key"));
//! let store = SqliteStore::open(&dir.path().join("audit.db"), opts)?;
//!
//! let mut ev = NewEvent::new("session-1", "claude-code", EventKind::PreToolUse);
//! ev.tool = Some("Bash".into());
//! ev.input = serde_json::json!({"command": "rm -rf /"});
//! ev.decision = Some(Decision::Deny);
//! ev.rule = Some("Bash(rm -rf*)".into());
//! let stored = store.append(ev)?;
//! assert_eq!(stored.seq, 1);
//!
//! let report = store.verify()?;
//! assert!(report.is_ok());
//! # Ok(()) }
//! ```
//!
//! The `warden log ...` commands live in [`cli`] (cargo feature `cli`, on by
//! default): a binary parses [`cli::LogArgs`] with clap, opens a store and
//! calls [`cli::run`].
//!
//! # What it is not
//!
//! - Not a policy engine: it records decisions, it does not make them.
//! - Not a secret scanner: it calls the [`Redactor`] it is given.
//! - Not proof of authorship: anyone who can write the file can append
//!   well-formed events; the chain shows that recorded history was not
//!   changed, and checkpoints show up to where. See `TRUST.md`.
//! - Not a network exporter: `export --format otlp` writes OTLP/JSON to a
//!   writer; shipping it is the collector's job.

#![forbid(unsafe_code)]

pub mod chain;
mod error;
mod event;
pub mod signing;
mod sqlite;
mod store;
mod time_fmt;

#[cfg(feature = "cli")]
pub mod cli;

pub use error::{AuditError, BoxError};
pub use event::{Decision, EventKind, NewEvent, PassThrough, Redactor, StoredEvent};
pub use signing::Checkpoint;
pub use sqlite::{CheckpointOptions, Durability, IntegrityCheck, SqliteStore, StoreOptions};
pub use store::{
    AuditStore, BreakKind, ChainBreak, CheckpointProblem, CheckpointProblemKind, CheckpointSource,
    EventFilter, Integrity, SessionFilter, SessionSummary, VerifyReport, WitnessStatus,
};
