//! The backend-neutral store interface and the types it speaks.

use serde::Serialize;

use crate::error::AuditError;
use crate::event::{Decision, EventKind, NewEvent, StoredEvent};

/// Which events to read. Every set field must match; results come in
/// ascending `seq` order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub session: Option<String>,
    pub decision: Option<Decision>,
    pub tool: Option<String>,
    pub kind: Option<EventKind>,
    /// Only events appended at or after this time (µs since the epoch).
    pub since_us: Option<i64>,
    /// Only events with `seq > after_seq` (what `tail -f` polls with).
    pub after_seq: Option<u64>,
    /// At most this many events.
    pub limit: Option<usize>,
    /// With `limit`: keep the *last* `limit` matches instead of the first.
    pub from_end: bool,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFilter {
    /// Only sessions with an event at or after this time.
    pub since_us: Option<i64>,
    /// Only sessions holding at least one event with this decision.
    pub decision: Option<Decision>,
    /// Only sessions holding at least one event for this tool.
    pub tool: Option<String>,
    /// At most this many sessions, the most recently active first.
    pub limit: Option<usize>,
}

/// One line of `warden log sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub agent: String,
    /// Time of the first event (µs since the epoch).
    pub started_us: i64,
    /// Time of the last event (µs since the epoch).
    pub last_us: i64,
    /// The session's task: the `task` session flag if set, else its first prompt.
    pub task: Option<String>,
    pub events: u64,
    /// PreToolUse events.
    pub tool_calls: u64,
    pub denied: u64,
    pub asked: u64,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub log_id: String,
    /// Number of events read.
    pub events: u64,
    /// The highest seq, 0 for an empty log.
    pub last_seq: u64,
    /// Hash (hex) of the last event, or the genesis value.
    pub head_hash: String,
    /// Result of SQLite's integrity check of the file.
    pub integrity: Integrity,
    /// The first broken link of the chain, if any.
    pub first_break: Option<ChainBreak>,
    /// How many links are broken in all.
    pub broken_links: u64,
    /// Checkpoints found in the log.
    pub checkpoints: u64,
    /// Problems with checkpoints (stored in the log or in the witness file).
    pub checkpoint_problems: Vec<CheckpointProblem>,
    /// The highest seq covered by a valid, trusted checkpoint.
    pub anchored_seq: Option<u64>,
    /// Where the latest checkpoint witness stands.
    pub witness: WitnessStatus,
    /// True when no trusted public key was available to check signatures.
    pub signatures_unchecked: bool,
}

impl VerifyReport {
    /// True when the file is not found damaged (or was not checked), the
    /// chain is unbroken and no checkpoint problem was found.
    pub fn is_ok(&self) -> bool {
        !matches!(self.integrity, Integrity::Damaged(_))
            && self.first_break.is_none()
            && self.checkpoint_problems.is_empty()
    }

    /// Events after the last trusted checkpoint: these could be cut off unnoticed.
    pub fn unanchored_events(&self) -> u64 {
        self.last_seq - self.anchored_seq.unwrap_or(0).min(self.last_seq)
    }
}

/// The result of the database file's own integrity check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "messages", rename_all = "snake_case")]
pub enum Integrity {
    Ok,
    /// The check was not run (skipped by option).
    Skipped,
    /// What SQLite reported, at most a few lines.
    Damaged(Vec<String>),
}

/// One broken link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// The seq of the event where the chain breaks (as stored).
    pub seq: u64,
    pub kind: BreakKind,
}

/// How a link is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreakKind {
    /// The event's content does not hash to its stored hash: it was edited.
    HashMismatch { stored: String, recomputed: String },
    /// The event does not point at the event before it.
    PrevLinkMismatch { expected: String, found: String },
    /// Events are missing or inserted: seq jumps.
    SeqGap { expected: u64, found: u64 },
    /// A stored field has the wrong type or an impossible value.
    Malformed { detail: String },
}

/// A checkpoint that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointProblem {
    /// `log` for a checkpoint stored in the log, `witness` for the witness file.
    pub source: CheckpointSource,
    /// The seq the checkpoint claims to cover.
    pub seq: u64,
    pub kind: CheckpointProblemKind,
}

/// Where a checkpoint was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointSource {
    Log,
    Witness,
}

/// What is wrong with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckpointProblemKind {
    /// The signature does not verify: the checkpoint was forged or altered.
    BadSignature,
    /// Signed by a key that is not trusted.
    UntrustedKey { key_id: String },
    /// Signed for another log.
    WrongLog { log_id: String },
    /// The log ends before the signed seq: its tail was cut off.
    Truncated { signed_seq: u64, last_seq: u64 },
    /// The event at the signed seq has another hash: history was rewritten.
    HeadMismatch { signed: String, actual: String },
    /// The checkpoint record itself cannot be read.
    Malformed { detail: String },
}

/// The state of the checkpoint witness kept beside the signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WitnessStatus {
    /// Checkpoints are disabled for this store.
    Disabled,
    /// No witness file exists for this log (no checkpoint written from this path yet).
    Missing,
    /// The witness covers `seq` and agrees with the log.
    Ok { seq: u64 },
    /// The witness disagrees; the problem is listed in `checkpoint_problems`.
    Failed { seq: u64 },
}

/// Storage of audit events. Implemented by [`crate::SqliteStore`]; a
/// PostgreSQL store implements the same trait.
///
/// All methods take `&self` and are safe to call from several threads; many
/// processes may use the same log at once.
pub trait AuditStore: Send + Sync {
    /// Redacts, numbers, chains and stores one event. When it returns `Ok`
    /// the event is durable (see [`crate::Durability`]); on `Err` nothing
    /// of it was written.
    fn append(&self, ev: NewEvent) -> Result<StoredEvent, AuditError>;

    /// Events matching `filter`, ascending by seq.
    fn events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, AuditError>;

    /// Sessions matching `filter`, the most recently active first.
    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionSummary>, AuditError>;

    /// Checks the file, the chain, the checkpoints and the witness.
    /// Tampering is reported in the [`VerifyReport`]; `Err` means the log
    /// could not be read at all.
    fn verify(&self) -> Result<VerifyReport, AuditError>;

    /// Sets one piece of per-session state shared by hook processes (taint,
    /// task, scope...). The value is redacted. Flags are mutable state, not
    /// part of the hash chain: record an event when a change must be proven.
    fn set_session_flag(
        &self,
        session: &str,
        key: &str,
        value: serde_json::Value,
    ) -> Result<(), AuditError>;

    /// All flags of a session (empty when none).
    fn session_flags(
        &self,
        session: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AuditError>;
}
