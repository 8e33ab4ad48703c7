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
//! WAL mode. An append returns once its transaction is written to the
//! write-ahead log file, that is, handed to the operating system, not yet
//! flushed to the disk. Precisely:
//!
//! - **process crash** (the writer killed, even with SIGKILL, or panicking):
//!   every append that returned survives; the tests kill writers mid-write.
//! - **operating-system crash or power loss**: the appends since the WAL was
//!   last flushed to the disk may be lost, newest first (a suffix, never a
//!   hole), and the file stays a valid database whose remaining chain
//!   verifies. The WAL is flushed before each checkpoint's witness is
//!   written (every 128 events and at each `Stop` and `SessionEnd`), and
//!   whenever SQLite merges the WAL into the main file; so what a power cut
//!   can take is, in practice, the events after the newest checkpoint (and
//!   that checkpoint, when it was not flushed yet). Because the witness is
//!   written only after that flush, a power cut never makes an honest log
//!   look cut short.
//!
//! [`Durability::Full`] flushes every append before it returns (one fsync
//! each: a few hundred appends per second on an ordinary disk, which is why
//! it is not the default).
//!
//! A store writes the witness of its first checkpoint inside the append
//! that made it; a store that checkpoints again (a long-lived or bulk
//! writer) flushes and writes later witnesses on a background thread, so
//! its appends do not wait for the disk. Such a store waits for the pending
//! witness in [`SqliteStore::close`], on drop, in `checkpoint_now` and
//! before its own `verify`; a failure to write one is returned by the next
//! append or by `close` (or [`SqliteStore::flush_witness`]).
//!
//! A store closes without merging the WAL into the main file (that merge and
//! its fsyncs would otherwise be paid by every hook process); the WAL is
//! merged by SQLite as it grows (every 1000 pages), by a closing store once
//! it passes 512 KiB, and, in a store whose witnesses are written in the
//! background, by that background thread whenever it is idle (a passive
//! merge on its own connection, which never blocks the appends; the
//! appending connection's own merge then waits for 8000 pages). The log is therefore `audit.db` *plus* `audit.db-wal`
//! *plus* `audit.db-staged` (below): copy all three, or use `warden log export`.
//!
//! # The staging file
//!
//! A store opened with [`StoreOptions::staged`] (what a hook process uses)
//! appends to `audit.db-staged` instead of SQLite: one JSON line per event
//! under an exclusive `flock`, chained and redacted exactly as the SQLite
//! row, written with one `write` and not flushed (the durability of
//! [`Durability::Normal`]: a process crash loses nothing that returned; an
//! operating-system crash may lose the newest staged events). Session flags
//! go there too. Every reading method, and opening a store that is not
//! staged, first *folds* the file into SQLite in one transaction, flushed
//! before the file is emptied; see [`staging`] for the format, torn
//! records and what a fold that dies midway leaves.
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
mod scan;
pub mod signing;
mod sqlite;
pub mod staging;
mod store;
mod time_fmt;
mod witness_writer;

#[cfg(feature = "cli")]
pub mod cli;

pub use error::{AuditError, BoxError};
pub use event::{Decision, EventKind, NewEvent, PassThrough, Redactor, StoredEvent};
pub use signing::Checkpoint;
pub use sqlite::{
    CheckpointOptions, Durability, IntegrityCheck, SqliteStore, StoreOptions, FOLD_BYTES,
};
pub use store::{
    AuditStore, BreakKind, ChainBreak, CheckpointProblem, CheckpointProblemKind, CheckpointSource,
    EventFilter, Integrity, SessionFilter, SessionSummary, VerifyReport, WitnessStatus,
};
