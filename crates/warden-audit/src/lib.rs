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
//! # Durability and files
//!
//! The default [`Durability::Normal`] is SQLite's `synchronous=NORMAL` in
//! WAL mode: an append that returned survives the writer being killed (the
//! tests kill writers with SIGKILL), while a power cut may lose the last
//! appends without corrupting the file. [`Durability::Full`] flushes every
//! append (one fsync each: a few hundred appends per second on an ordinary
//! disk, which is why it is not the default). Before a checkpoint's witness
//! is written the WAL is flushed either way, so a power cut never makes an
//! honest log look cut short.
//!
//! A store closes without merging the WAL into the main file (that merge and
//! its fsyncs would otherwise be paid by every hook process); the WAL is
//! merged by SQLite as it grows and by a closing store once it passes
//! 512 KiB. The log is therefore `audit.db` *plus* `audit.db-wal`: copy
//! both, or use `warden log export`.
//!
//! # The interface a second backend implements
//!
//! [`AuditStore`] uses only this crate's types: [`NewEvent`] in,
//! [`StoredEvent`], [`SessionSummary`] and [`VerifyReport`] out, filters
//! [`EventFilter`] / [`SessionFilter`], errors [`AuditError`] (backend errors
//! boxed in [`AuditError::Backend`]). The hash chain ([`chain`]) and the
//! checkpoint format ([`Checkpoint`]) are defined over stored bytes, so a
//! PostgreSQL store that stores the same canonical texts verifies the same.
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
