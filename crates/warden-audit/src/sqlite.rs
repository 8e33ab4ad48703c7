//! The embedded store: one SQLite file per log, in WAL mode.
//!
//! Appends are serialized with `BEGIN IMMEDIATE`: the writer takes the
//! database's write lock before it reads the head of the chain, so every
//! log file has one total order however many hook processes append at once.
//! Readers never block writers (WAL).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::chain::{self, EventFields, Hash};
use crate::error::AuditError;
use crate::event::{
    redact_json, Decision, EventKind, NewEvent, PassThrough, Redactor, StoredEvent,
};
use crate::scan::{self, row_fields, EVENT_COLUMNS};
use crate::signing::{self, Checkpoint, KeyFile, Signer};
use crate::staging;
use crate::store::{
    AuditStore, CheckpointProblem, CheckpointProblemKind, CheckpointSource, EventFilter, Integrity,
    SessionFilter, SessionSummary, VerifyReport, WitnessStatus,
};
use crate::time_fmt::now_us;
use crate::witness_writer::{self, WitnessWriter};

const SCHEMA_VERSION: i64 = 1;

/// WAL size above which a store merges the WAL into the main file before
/// its first append (and, if it appended more than once, when it closes).
///
/// Stores close without merging (see `open`), so every process that opens
/// the log rebuilds the WAL index by reading and checksumming the whole WAL
/// (the index does not outlive the last connection): 0.2 to 0.3 µs per KiB
/// in a fresh process, paid by every hook: about a quarter of a hook's
/// `open` near this size. A merge costs the process that makes it four
/// flushes to stable storage (see [`merge_wal`]), 4 to 5 ms each on the
/// disk measured. A hook adds about 9 KiB to the WAL, so at this size one
/// hook in ~55 merges. Measured (BENCHMARKS.md): at twice this size the
/// merges halve but the typical hook's `open` grows by ~80 µs, and the
/// average over a long series does not improve; at half, the flushes
/// double. A typical hook pays no flush at all: its cost is decided by
/// the WAL's length.
const WAL_MERGE_BYTES: u64 = 512 * 1024;

/// How long a merge waits for readers to finish before it gives up (a
/// later append tries again).
const WAL_MERGE_WAIT: Duration = Duration::from_millis(20);

/// From this many checkpoints on, `verify` checks their signatures on a
/// second thread while it reads the chain (about 50 µs each).
const SIGNATURES_IN_BACKGROUND: usize = 64;

/// Pending staged bytes (events and flags) above which a staged append
/// folds the staging file into SQLite.
///
/// Every staged append reads the whole file (for the chain head and the
/// session's flags): a few µs per 10 KiB. A fold costs what one SQLite
/// append cost a fresh process (~0.4 ms to open SQLite) plus a flush of the
/// WAL (4 to 10 ms on the disk measured) plus ~2 µs per folded event. A
/// hook event stages ~0.8 KiB, so 128 events (the checkpoint interval, which
/// folds anyway) are ~100 KiB: at this size folds come from checkpoints,
/// `Stop` and `SessionEnd` (every turn of a real session) and only rarely
/// from the size, while the file a hook reads stays under ~130 KiB.
pub const FOLD_BYTES: usize = 128 * 1024;

/// Staging file size up to which a fold appends its head record instead of
/// rewriting the file. Rewriting cuts the file to zero, which makes ext4
/// write it back at once (~0.2 ms); appending keeps folded records in the
/// file, which every hook then reads. A store that appends to SQLite
/// directly adds one head record (~150 bytes) per append, so it rewrites
/// about once per 100 appends; a hook's fold (at a checkpoint or at
/// [`FOLD_BYTES`]) finds the file longer than this and rewrites it.
const REWRITE_BYTES: usize = 16 * 1024;

/// How long a session's flags stay in the staging file after its last flag
/// change (the fold carries them over), so its hooks read them without SQLite.
const CARRY_FLAGS_US: i64 = 24 * 3600 * 1_000_000;
/// At most this many sessions' flags are carried over by a fold.
const CARRY_FLAGS_SESSIONS: i64 = 32;

const INSERT_EVENT: &str = "INSERT INTO events (seq, ts_us, session_id, agent, kind, cwd, tool, \
     tool_use_id, input, decision, rule, reasons, latency_us, result, \
     result_len, result_sha256, extra, prev_hash, hash) VALUES \
     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

const UPSERT_FLAG: &str = "INSERT INTO session_flags (session_id, key, value, updated_us) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (session_id, key) DO UPDATE SET \
     value = excluded.value, updated_us = excluded.updated_us";

fn insert_event(
    ins: &mut rusqlite::CachedStatement<'_>,
    f: &EventFields<'_>,
    prev: &Hash,
    hash: &Hash,
) -> rusqlite::Result<usize> {
    ins.execute(rusqlite::params![
        i64_of(f.seq),
        f.ts_us,
        f.session_id,
        f.agent,
        f.kind,
        f.cwd,
        f.tool,
        f.tool_use_id,
        f.input,
        f.decision,
        f.rule,
        f.reasons,
        f.latency_us.map(i64_of),
        f.result,
        f.result_len.map(i64_of),
        f.result_sha256,
        f.extra,
        &prev[..],
        &hash[..],
    ])
}

/// The staged record of an event: its row's columns.
fn staged_event(f: &EventFields<'_>, prev: &Hash, hash: &Hash) -> staging::StagedEvent {
    staging::StagedEvent {
        seq: f.seq,
        ts_us: f.ts_us,
        session_id: f.session_id.to_owned(),
        agent: f.agent.to_owned(),
        kind: f.kind.to_owned(),
        cwd: f.cwd.to_owned(),
        tool: f.tool.map(str::to_owned),
        tool_use_id: f.tool_use_id.map(str::to_owned),
        input: f.input.to_owned(),
        decision: f.decision.map(str::to_owned),
        rule: f.rule.map(str::to_owned),
        reasons: f.reasons.to_owned(),
        latency_us: f.latency_us,
        result: f.result.map(str::to_owned),
        result_len: f.result_len,
        result_sha256: f.result_sha256.map(hex::encode),
        extra: f.extra.to_owned(),
        prev_hash: hex::encode(prev),
        hash: hex::encode(hash),
    }
}

/// The complete flags of the recently active sessions, as `flags` records.
fn carried_flags(conn: &Connection) -> rusqlite::Result<Vec<staging::Record>> {
    let mut stmt = conn.prepare_cached(
        "SELECT session_id, key, value, updated_us FROM session_flags WHERE session_id IN \
         (SELECT session_id FROM session_flags GROUP BY session_id \
          HAVING MAX(updated_us) >= ?1 ORDER BY MAX(updated_us) DESC LIMIT ?2) \
         ORDER BY session_id, key",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![now_us() - CARRY_FLAGS_US, CARRY_FLAGS_SESSIONS],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        },
    )?;
    let mut out: Vec<staging::Record> = Vec::new();
    for row in rows {
        let (s, k, v, ts) = row?;
        match out.last_mut() {
            Some(staging::Record::Flags {
                s: last,
                all,
                ts: t,
            }) if *last == s => {
                all.insert(k, v);
                *t = (*t).max(ts);
            }
            _ => out.push(staging::Record::Flags {
                s,
                all: std::iter::once((k, v)).collect(),
                ts,
            }),
        }
    }
    Ok(out)
}

const SCHEMA: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE events (
    seq           INTEGER PRIMARY KEY NOT NULL,
    ts_us         INTEGER NOT NULL,
    session_id    TEXT NOT NULL,
    agent         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    cwd           TEXT NOT NULL,
    tool          TEXT,
    tool_use_id   TEXT,
    input         TEXT NOT NULL,
    decision      TEXT,
    rule          TEXT,
    reasons       TEXT NOT NULL,
    latency_us    INTEGER,
    result        TEXT,
    result_len    INTEGER,
    result_sha256 BLOB,
    extra         TEXT NOT NULL,
    prev_hash     BLOB NOT NULL,
    hash          BLOB NOT NULL
) STRICT;
CREATE INDEX events_by_session ON events(session_id, seq);
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    log_id     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    head_hash  TEXT NOT NULL,
    ts_us      INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
) STRICT;
CREATE TABLE session_flags (
    session_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_us INTEGER NOT NULL,
    PRIMARY KEY (session_id, key)
) STRICT;
";

/// How hard an append pushes the event to the disk before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a returned append survives the
    /// writer being killed and any other process crash; an operating-system
    /// crash or power loss may lose the appends made since the WAL was last
    /// flushed (it is before every witness: in practice, the events after
    /// the newest checkpoint), newest first; it never corrupts the file and
    /// never breaks the chain. The default.
    #[default]
    Normal,
    /// `synchronous=FULL`: every append is flushed to stable storage before
    /// it returns (an fsync of the WAL per event).
    Full,
}

/// How thoroughly `verify` checks the database file itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntegrityCheck {
    /// `PRAGMA quick_check`: page structure, not index contents. The default.
    #[default]
    Quick,
    /// `PRAGMA integrity_check`: everything, slower on large logs.
    Full,
    /// No file check; the chain is still verified.
    Skip,
}

/// When and with which key signed checkpoints are written.
#[derive(Debug, Clone)]
pub struct CheckpointOptions {
    /// Write checkpoints at all. Without them a cut-off tail goes unnoticed.
    pub enabled: bool,
    /// A checkpoint after every `every` events (by seq); 0 means never by count.
    pub every: u64,
    /// A checkpoint at each `Stop` and `SessionEnd` event.
    pub at_session_end: bool,
    /// The Ed25519 key file; `None` means [`signing::default_key_path`].
    pub key_path: Option<PathBuf>,
    /// Where witness files live; `None` means `audit-witness/` beside the key.
    pub witness_dir: Option<PathBuf>,
    /// Public keys whose checkpoints `verify` accepts, besides the key file's own.
    pub trusted_public_keys: Vec<[u8; 32]>,
}

impl Default for CheckpointOptions {
    fn default() -> Self {
        CheckpointOptions {
            enabled: true,
            every: 128,
            at_session_end: true,
            key_path: None,
            witness_dir: None,
            trusted_public_keys: Vec::new(),
        }
    }
}

/// How a [`SqliteStore`] is opened.
#[derive(Clone)]
pub struct StoreOptions {
    /// How long an append waits for another writer before [`AuditError::Locked`].
    pub busy_timeout: Duration,
    pub durability: Durability,
    /// The longest result prefix kept, in bytes (cut at a character boundary).
    pub result_max_bytes: usize,
    /// Create the log's directory when it is missing (otherwise an error).
    pub create_dirs: bool,
    /// Open for reading only: never creates the file or writes to it.
    pub read_only: bool,
    /// Every text passes this before it is written.
    pub redactor: Arc<dyn Redactor>,
    pub checkpoints: CheckpointOptions,
    /// Refuse to grow the file beyond about this many bytes ([`AuditError::DiskFull`]).
    pub max_db_bytes: Option<u64>,
    pub integrity_check: IntegrityCheck,
    /// Append through the staging file beside the log (see [`crate::staging`])
    /// instead of SQLite: what a hook process, which appends once and exits,
    /// opens its store with. Its appends and session flags touch SQLite only
    /// when the staging file has no head yet, when a checkpoint is due and
    /// when the file passes [`FOLD_BYTES`] (then it folds the file into
    /// SQLite). Ignored with [`Durability::Full`] (the staging file is not
    /// flushed per append).
    pub staged: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(2),
            durability: Durability::Normal,
            result_max_bytes: 64 * 1024,
            create_dirs: false,
            read_only: false,
            redactor: Arc::new(PassThrough),
            checkpoints: CheckpointOptions::default(),
            max_db_bytes: None,
            integrity_check: IntegrityCheck::Quick,
            staged: false,
        }
    }
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("busy_timeout", &self.busy_timeout)
            .field("durability", &self.durability)
            .field("result_max_bytes", &self.result_max_bytes)
            .field("create_dirs", &self.create_dirs)
            .field("read_only", &self.read_only)
            .field("checkpoints", &self.checkpoints)
            .field("max_db_bytes", &self.max_db_bytes)
            .field("integrity_check", &self.integrity_check)
            .field("staged", &self.staged)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// Opened on first need: a staged store (a hook) usually never opens it.
    conn: Option<Connection>,
    /// The connection was left at `synchronous=FULL` by a fold that failed.
    sync_full: bool,
    /// The signing key file, read by the first append (or checkpoint).
    signer: Option<KeyFile>,
    /// Writes the witness of each checkpoint (when checkpoints are on).
    witness: Option<WitnessWriter>,
    /// The witness worker merges the WAL; automatic merges here are rarer.
    merging_in_background: bool,
    /// Appends (calls) made through this store. The first merges a long
    /// WAL before it writes; a store that made more (a long-lived writer)
    /// merges a long WAL when it closes too.
    appends: u64,
}

/// The SQLite-backed [`AuditStore`].
pub struct SqliteStore {
    inner: Mutex<Inner>,
    path: PathBuf,
    staging_path: PathBuf,
    log_id: String,
    opts: StoreOptions,
    key_path: Option<PathBuf>,
    witness_path: Option<PathBuf>,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some(w) = &mut self
            .inner
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .witness
        {
            // The pending witness is written before the store goes away; a
            // failure can only be seen through `close`.
            let _ = w.close();
        }
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        // A writer that appended more than once (not a hook, whose single
        // append merged before it wrote) does not leave a long WAL for the
        // next process to read. Best effort and brief.
        if let Some(conn) = &inner.conn {
            if inner.appends > 1 && wal_bytes(&self.path) > WAL_MERGE_BYTES {
                merge_wal(conn, self.opts.busy_timeout);
            }
        }
    }
}

/// The size of the log's WAL file (0 when there is none).
fn wal_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).map_or(0, |m| m.len())
}

/// Merges the WAL into the main file and empties it, waiting at most
/// [`WAL_MERGE_WAIT`] for readers. Best effort: a busy log is merged by a
/// later append.
///
/// The WAL file is truncated, not only rewound: a WAL that is merely marked
/// as merged in the WAL index would be read again in full, and merged
/// again, by the next process that opens the log, since the index does not
/// outlive the last connection. The merge flushes the WAL before copying it
/// and the main file after; the next commit writes a new WAL header and
/// flushes it. Made by the appending process itself, right before its own
/// commit, that header flush comes without the flush of the directory that
/// SQLite adds to a process's first flush of the WAL (the merge paid it),
/// so a merge costs four flushes; made when a store closed, it cost five.
fn merge_wal(conn: &Connection, busy_timeout: Duration) {
    let _ = conn.busy_timeout(WAL_MERGE_WAIT);
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    let _ = conn.busy_timeout(busy_timeout);
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("log_id", &self.log_id)
            .finish_non_exhaustive()
    }
}

/// Turns a SQLite error into the typed error a caller can act on.
fn map_sql(e: rusqlite::Error, path: &Path, op: &'static str, waited: Duration) -> AuditError {
    if let rusqlite::Error::SqliteFailure(f, ref msg) = e {
        let detail = msg.clone().unwrap_or_else(|| f.to_string());
        match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return AuditError::Locked {
                    path: path.to_owned(),
                    waited,
                }
            }
            ErrorCode::DiskFull => {
                return AuditError::DiskFull {
                    path: path.to_owned(),
                }
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                return AuditError::Corrupt {
                    path: path.to_owned(),
                    detail,
                }
            }
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
                return AuditError::ReadOnly {
                    path: path.to_owned(),
                    detail,
                }
            }
            ErrorCode::CannotOpen if !path.exists() => {
                return AuditError::NotFound {
                    path: path.to_owned(),
                }
            }
            _ => {}
        }
    }
    AuditError::Backend {
        path: path.to_owned(),
        op,
        source: Box::new(e),
    }
}

/// An event after redaction and serialization, ready to be chained.
struct Prepared {
    session_id: String,
    agent: String,
    kind: EventKind,
    cwd: String,
    tool: Option<String>,
    tool_use_id: Option<String>,
    input_json: String,
    input: serde_json::Value,
    decision: Option<Decision>,
    rule: Option<String>,
    reasons: Vec<String>,
    reasons_json: String,
    latency_us: Option<u64>,
    result: Option<String>,
    result_len: Option<u64>,
    result_sha256: Option<Hash>,
    extra_json: String,
    extra: serde_json::Value,
}

impl Prepared {
    fn into_stored(self, seq: u64, ts_us: i64, prev: Hash, hash: Hash) -> StoredEvent {
        StoredEvent {
            seq,
            ts_us,
            session_id: self.session_id,
            agent: self.agent,
            kind: self.kind,
            cwd: self.cwd,
            tool: self.tool,
            tool_use_id: self.tool_use_id,
            input: self.input,
            decision: self.decision,
            rule: self.rule,
            reasons: self.reasons,
            latency_us: self.latency_us,
            result: self.result,
            result_len: self.result_len,
            result_sha256: self.result_sha256.map(hex::encode),
            extra: self.extra,
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
        }
    }

    fn fields(&self, seq: u64, ts_us: i64) -> EventFields<'_> {
        EventFields {
            seq,
            ts_us,
            session_id: &self.session_id,
            agent: &self.agent,
            kind: self.kind.as_str(),
            cwd: &self.cwd,
            tool: self.tool.as_deref(),
            tool_use_id: self.tool_use_id.as_deref(),
            input: &self.input_json,
            decision: self.decision.map(Decision::as_str),
            rule: self.rule.as_deref(),
            reasons: &self.reasons_json,
            latency_us: self.latency_us,
            result: self.result.as_deref(),
            result_len: self.result_len,
            result_sha256: self.result_sha256.as_ref().map(|h| &h[..]),
            extra: &self.extra_json,
        }
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Opens (or creates) the log at `path`.
    ///
    /// A missing directory is [`AuditError::MissingDirectory`] unless
    /// `opts.create_dirs`; a file that is not a database is
    /// [`AuditError::Corrupt`]; with `opts.read_only` a missing file is
    /// [`AuditError::NotFound`].
    pub fn open(path: &Path, opts: StoreOptions) -> Result<Self, AuditError> {
        // SQLite does not always call the busy handler: switching a new file to WAL while
        // other processes open it too (the first hook calls of a session, in parallel) can
        // answer "busy" at once. Such an open is tried again until the busy timeout is spent,
        // so a hook fails closed only when the log really stays locked.
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match Self::open_once(path, opts.clone()) {
                Err(AuditError::Locked { .. }) if started.elapsed() < opts.busy_timeout => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                result => return result,
            }
        }
    }

    fn open_once(path: &Path, opts: StoreOptions) -> Result<Self, AuditError> {
        let path = path.to_owned();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            if opts.create_dirs && !opts.read_only {
                std::fs::create_dir_all(&dir).map_err(|source| AuditError::Io {
                    path: dir.clone(),
                    op: "creating the directory",
                    source,
                })?;
            } else {
                return Err(AuditError::MissingDirectory { path });
            }
        }
        if opts.read_only && !path.exists() {
            return Err(AuditError::NotFound { path });
        }
        // A hook (staged) that finds the staging file's head needs no SQLite.
        let staging_path = staging::staging_path(&path);
        let staged_id = if opts.staged && !opts.read_only && path.exists() {
            staging::peek_log_id(&staging_path)
        } else {
            None
        };
        let (conn, log_id) = match staged_id {
            Some(id) => (None, id),
            None => {
                let (c, id) = connect(&path, &opts)?;
                (Some(c), id)
            }
        };
        let (key_path, witness_path) = if opts.checkpoints.enabled {
            let key = match &opts.checkpoints.key_path {
                Some(p) => p.clone(),
                None => signing::default_key_path()?,
            };
            let wdir = match &opts.checkpoints.witness_dir {
                Some(d) => d.clone(),
                None => key.parent().unwrap_or(Path::new(".")).join("audit-witness"),
            };
            let canonical = std::fs::canonicalize(&path).map_err(|source| AuditError::Io {
                path: path.clone(),
                op: "resolving",
                source,
            })?;
            (Some(key), Some(signing::witness_path(&wdir, &canonical)))
        } else {
            (None, None)
        };

        let witness = match &witness_path {
            Some(wp) if !opts.read_only => Some(WitnessWriter::new(witness_writer::Target {
                db_path: path.clone(),
                witness_path: wp.clone(),
                sync_wal: opts.durability != Durability::Full,
                merge_wal: true,
            })),
            _ => None,
        };
        let store = SqliteStore {
            inner: Mutex::new(Inner {
                conn,
                sync_full: false,
                signer: None,
                witness,
                merging_in_background: false,
                appends: 0,
            }),
            path,
            staging_path,
            log_id,
            opts,
            key_path,
            witness_path,
        };
        if !store.staged() {
            // Every reader (and every direct writer) sees the staged events:
            // they are folded into SQLite before anything is read.
            store.fold_pending()?;
        }
        Ok(store)
    }

    /// The path the store was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The random id given to this log when it was created.
    pub fn log_id(&self) -> &str {
        &self.log_id
    }

    /// Where this log's checkpoint witness is kept (when checkpoints are on).
    pub fn witness_path(&self) -> Option<&Path> {
        self.witness_path.as_deref()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in another thread while holding the lock leaves the
        // connection usable: SQLite rolls back the unfinished transaction.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sql(&self, op: &'static str) -> impl Fn(rusqlite::Error) -> AuditError + '_ {
        move |e| map_sql(e, &self.path, op, self.opts.busy_timeout)
    }

    fn prepare(&self, ev: NewEvent) -> Prepared {
        let r: &dyn Redactor = &*self.opts.redactor;
        let input = redact_json(r, &ev.input);
        let extra = redact_json(r, &ev.extra);
        let reasons: Vec<String> = ev
            .reasons
            .iter()
            .map(|s| r.redact(s).into_owned())
            .collect();
        let reasons_json = chain::canonical_json(&serde_json::Value::Array(
            reasons
                .iter()
                .map(|s| serde_json::Value::String(s.clone()))
                .collect(),
        ));
        let (result, result_len, result_sha256) = match ev.result.as_deref() {
            None => (None, None, None),
            Some(text) => {
                let red = r.redact(text);
                // Length and hash are of the redacted text: a hash of the
                // original would let anyone confirm a guessed secret.
                let len = red.len() as u64;
                let sha = chain::sha256(red.as_bytes());
                let cut = floor_char_boundary(&red, self.opts.result_max_bytes);
                (Some(red[..cut].to_owned()), Some(len), Some(sha))
            }
        };
        Prepared {
            session_id: ev.session_id,
            agent: ev.agent,
            kind: ev.kind,
            cwd: r.redact(&ev.cwd).into_owned(),
            tool: ev.tool,
            tool_use_id: ev.tool_use_id,
            input_json: chain::canonical_json(&input),
            input,
            decision: ev.decision,
            rule: ev.rule.map(|s| r.redact(&s).into_owned()),
            reasons,
            reasons_json,
            latency_us: ev.latency_us.map(|v| v.min(i64::MAX as u64)),
            result,
            result_len,
            result_sha256,
            extra_json: chain::canonical_json(&extra),
            extra,
        }
    }

    // `u64::is_multiple_of` is newer than the workspace's rust-version.
    #[allow(unknown_lints, clippy::manual_is_multiple_of)]
    fn checkpoint_due(&self, seq: u64, kind: &EventKind) -> bool {
        let c = &self.opts.checkpoints;
        c.enabled
            && ((c.every > 0 && seq % c.every == 0)
                || (c.at_session_end && matches!(kind, EventKind::SessionEnd | EventKind::Stop)))
    }

    /// Reads (or creates) the key file once per store; the key itself is
    /// derived only when a checkpoint is signed ([`Self::signer_from`]).
    fn load_key(&self, inner: &mut Inner) -> Result<(), AuditError> {
        if inner.signer.is_none() {
            let key_path = self.key_path.as_deref().ok_or(AuditError::NoConfigDir)?;
            inner.signer = Some(KeyFile::load_or_create(key_path)?);
        }
        Ok(())
    }

    /// True when appends go through the staging file.
    fn staged(&self) -> bool {
        self.opts.staged && !self.opts.read_only && self.opts.durability == Durability::Normal
    }

    /// The connection, opened now if this (staged) store had not needed it.
    fn conn<'a>(&self, inner: &'a mut Inner) -> Result<&'a mut Connection, AuditError> {
        if inner.conn.is_none() {
            let (c, id) = connect(&self.path, &self.opts)?;
            if id != self.log_id {
                return Err(AuditError::Corrupt {
                    path: self.staging_path.clone(),
                    detail: format!(
                        "the staging file continues log {} but the database is log {id}",
                        self.log_id
                    ),
                });
            }
            inner.conn = Some(c);
        }
        match inner.conn.as_mut() {
            Some(c) => Ok(c),
            None => Err(AuditError::InvalidArgument("no connection".into())),
        }
    }

    fn lock_staging(&self, create: bool) -> Result<Option<staging::Locked>, AuditError> {
        staging::Locked::open(&self.staging_path, create, !self.opts.read_only)
    }

    /// Appends several events in one transaction (one lock, one sync): for
    /// imports and bulk loads, not for hooks, which append one at a time.
    ///
    /// A staged store (see [`StoreOptions::staged`]) writes them to the
    /// staging file instead; any other store first folds what is staged,
    /// in the same transaction.
    pub fn append_batch(&self, evs: Vec<NewEvent>) -> Result<Vec<StoredEvent>, AuditError> {
        self.check_writable()?;
        let prepared: Vec<Prepared> = evs.into_iter().map(|e| self.prepare(e)).collect();
        let mut guard = self.lock();
        let inner = &mut *guard;
        Self::witness_failure(inner)?;
        if self.opts.checkpoints.enabled {
            // The key file is read before the write lock, and by every store
            // that appends rather than only when a checkpoint falls due: a
            // missing or unreadable key then fails every append alike
            // instead of one in `every`. The key is derived only to sign.
            self.load_key(inner)?;
        }
        inner.appends += 1;
        let mut staging = self.lock_staging(true)?.ok_or_else(|| {
            AuditError::InvalidArgument("the staging file was not created".into())
        })?;
        let contents = staging.read()?;
        if self.staged() {
            if let Some((log_id, seq, prev)) = contents.chain_head(&self.staging_path)? {
                if log_id == self.log_id {
                    return self.stage(inner, &mut staging, &contents, seq, prev, prepared);
                }
            }
        }
        self.fold_locked(inner, &mut staging, &contents, prepared, true)
    }

    /// The event recorded when a torn staged record is dropped.
    fn torn_note(&self, bytes: usize) -> Prepared {
        let mut ev = NewEvent::new("warden-audit", "warden-audit", EventKind::Incident);
        ev.input = serde_json::json!({ "dropped_staged_record_bytes": bytes });
        ev.reasons = vec![format!(
            "a torn record ({bytes} bytes) at the end of the staging file {} was dropped: \
             its writer died before it finished, so it never answered the agent",
            self.staging_path.display()
        )];
        self.prepare(ev)
    }

    /// Chains `prepared` onto the staging file's head and appends them with
    /// one write; folds the file when a checkpoint falls due or it is long.
    fn stage(
        &self,
        inner: &mut Inner,
        staging: &mut staging::Locked,
        contents: &staging::Contents,
        mut seq: u64,
        mut prev: Hash,
        mut prepared: Vec<Prepared>,
    ) -> Result<Vec<StoredEvent>, AuditError> {
        let mut notes = 0;
        if let Some(bytes) = contents.torn {
            staging.truncate(contents.valid_len)?;
            prepared.insert(0, self.torn_note(bytes));
            notes = 1;
        }
        let mut buf = Vec::with_capacity(4096);
        let mut stored = Vec::with_capacity(prepared.len());
        let mut due = false;
        for p in prepared {
            seq += 1;
            let ts_us = now_us();
            let fields = p.fields(seq, ts_us);
            let hash = chain::event_hash(&self.log_id, &fields, &prev);
            buf.extend_from_slice(
                &staging::Record::Event(staged_event(&fields, &prev, &hash)).line(),
            );
            due |= self.checkpoint_due(seq, &p.kind);
            stored.push(p.into_stored(seq, ts_us, prev, hash));
            prev = hash;
        }
        staging.append(&buf)?;
        if due || contents.pending_bytes() + buf.len() > FOLD_BYTES {
            // The events are in the staging file; the fold signs the due
            // checkpoint, as the append would have in SQLite. A fold made
            // only for the size may fail (a busy log): a later one retries.
            let contents = staging.read()?;
            match self.fold_locked(inner, staging, &contents, Vec::new(), true) {
                Ok(_) => {}
                Err(e) if due => return Err(e),
                Err(_) => {}
            }
        }
        Ok(stored.split_off(notes))
    }

    /// Folds the staging file into SQLite (if it holds anything to fold);
    /// every read does this first. Holds the store's lock, then the file's.
    pub(crate) fn fold_pending(&self) -> Result<(), AuditError> {
        let mut guard = self.lock();
        let Some(mut staging) = self.lock_staging(false)? else {
            return Ok(());
        };
        let contents = staging.read()?;
        if !contents.needs_fold() {
            return Ok(());
        }
        if self.opts.read_only {
            // A read-only store folds through a writable one; where the log
            // cannot be written, it reads what SQLite holds.
            drop(staging);
            drop(guard);
            let mut o = self.opts.clone();
            o.read_only = false;
            o.create_dirs = false;
            o.staged = false;
            return match SqliteStore::open(&self.path, o) {
                Ok(s) => s.close(),
                Err(AuditError::ReadOnly { .. }) => Ok(()),
                Err(AuditError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::PermissionDenied =>
                {
                    Ok(())
                }
                Err(e) => Err(e),
            };
        }
        let inner = &mut *guard;
        Self::witness_failure(inner)?;
        if self.opts.checkpoints.enabled {
            self.load_key(inner)?;
        }
        self.fold_locked(inner, &mut staging, &contents, Vec::new(), false)?;
        Ok(())
    }

    /// Copies the staged events and flags into SQLite and appends
    /// `prepared` after them, in one transaction; then, only after the
    /// commit, rewrites the staging file with the new head and the flags of
    /// recently active sessions. A staged event already in SQLite (a fold
    /// that died before its rewrite) is skipped when its hash matches.
    fn fold_locked(
        &self,
        inner: &mut Inner,
        staging: &mut staging::Locked,
        contents: &staging::Contents,
        mut prepared: Vec<Prepared>,
        appending: bool,
    ) -> Result<Vec<StoredEvent>, AuditError> {
        let records = contents.records(&self.staging_path)?;
        let mut notes = 0;
        if let Some(bytes) = contents.torn {
            prepared.insert(0, self.torn_note(bytes));
            notes = 1;
        }
        // Only a fold made by an append merges (reads never did).
        let first_append = appending && inner.appends == 1;
        self.conn(inner)?;
        let Some(conn) = inner.conn.as_mut() else {
            return Err(AuditError::InvalidArgument("no connection".into()));
        };
        if first_append && wal_bytes(&self.path) > WAL_MERGE_BYTES {
            // Once per store: a hook appends once per process, and a
            // long-lived writer's WAL is merged by SQLite (or the witness
            // worker) as it grows, and when it closes.
            merge_wal(conn, self.opts.busy_timeout);
        }
        let mut checkpoint = None;
        let mut stored = Vec::with_capacity(prepared.len());
        // A fold of staged events flushes its commit before the staging file
        // is emptied: otherwise an operating-system crash could lose the
        // folded events (unflushed WAL) but keep later staged ones (another
        // file), a hole instead of a lost suffix. One flush per fold. Set on
        // every fold (a fold that failed may have left it on).
        let flush = self.opts.durability == Durability::Normal
            && records
                .iter()
                .any(|r| matches!(r, staging::Record::Event(_)));
        if flush || inner.sync_full {
            conn.pragma_update(None, "synchronous", if flush { "FULL" } else { "NORMAL" })
                .map_err(self.sql("setting the fold's durability"))?;
            inner.sync_full = flush;
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql("starting the append"))?;
        let (mut seq, mut prev) = head(&tx, &self.log_id).map_err(self.sql("reading the head"))?;
        {
            let mut ins = tx
                .prepare_cached(INSERT_EVENT)
                .map_err(self.sql("preparing the insert"))?;
            // Staged events chained onto a stale head: a store appending to
            // SQLite directly died between its commit and its head record.
            let mut renumbered = 0u64;
            for r in &records {
                match r {
                    staging::Record::Event(e) => {
                        let hash = staging::decode_hash(&e.hash, &self.staging_path)?;
                        if renumbered == 0 && e.seq <= seq {
                            let have: Option<Vec<u8>> = tx
                                .query_row(
                                    "SELECT hash FROM events WHERE seq = ?1",
                                    [i64_of(e.seq)],
                                    |r| r.get(0),
                                )
                                .optional()
                                .map_err(self.sql("reading a folded event"))?;
                            if have.as_deref() == Some(&hash[..]) {
                                continue;
                            }
                        }
                        let prev_staged = staging::decode_hash(&e.prev_hash, &self.staging_path)?;
                        let sha = match &e.result_sha256 {
                            Some(h) => Some(staging::decode_hash(h, &self.staging_path)?),
                            None => None,
                        };
                        let mut fields = EventFields {
                            seq: e.seq,
                            ts_us: e.ts_us,
                            session_id: &e.session_id,
                            agent: &e.agent,
                            kind: &e.kind,
                            cwd: &e.cwd,
                            tool: e.tool.as_deref(),
                            tool_use_id: e.tool_use_id.as_deref(),
                            input: &e.input,
                            decision: e.decision.as_deref(),
                            rule: e.rule.as_deref(),
                            reasons: &e.reasons,
                            latency_us: e.latency_us,
                            result: e.result.as_deref(),
                            result_len: e.result_len,
                            result_sha256: sha.as_ref().map(|h| &h[..]),
                            extra: &e.extra,
                        };
                        let (prev_staged, hash) = if renumbered > 0 || e.seq <= seq {
                            // Its seq is taken by another event: it is
                            // numbered and chained anew (an Incident says so).
                            renumbered += 1;
                            fields.seq = seq + 1;
                            (prev, chain::event_hash(&self.log_id, &fields, &prev))
                        } else {
                            // Stored as staged, even when it does not chain:
                            // `verify` names such a link, nothing hides it.
                            (prev_staged, hash)
                        };
                        insert_event(&mut ins, &fields, &prev_staged, &hash)
                            .map_err(self.sql("inserting a staged event"))?;
                        if self.checkpoint_due(fields.seq, &EventKind::from_name(&e.kind)) {
                            checkpoint = Some((fields.seq, hash));
                        }
                        seq = fields.seq;
                        prev = hash;
                    }
                    staging::Record::Flag { s, k, v, ts } => {
                        tx.prepare_cached(UPSERT_FLAG)
                            .and_then(|mut st| st.execute(rusqlite::params![s, k, v, ts]))
                            .map_err(self.sql("folding a session flag"))?;
                    }
                    staging::Record::Head { .. } | staging::Record::Flags { .. } => {}
                }
            }
            if renumbered > 0 {
                let mut ev = NewEvent::new("warden-audit", "warden-audit", EventKind::Incident);
                ev.input = serde_json::json!({ "renumbered_staged_events": renumbered });
                ev.reasons = vec![format!(
                    "{renumbered} staged events were chained onto a stale head of the staging \
                     file (a writer died between its commit and its head record); they were \
                     numbered and chained anew when folded"
                )];
                prepared.insert(notes, self.prepare(ev));
                notes += 1;
            }
            for p in prepared {
                seq += 1;
                let ts_us = now_us();
                let fields = p.fields(seq, ts_us);
                let hash = chain::event_hash(&self.log_id, &fields, &prev);
                insert_event(&mut ins, &fields, &prev, &hash)
                    .map_err(self.sql("inserting the event"))?;
                if self.checkpoint_due(seq, &p.kind) {
                    checkpoint = Some((seq, hash));
                }
                stored.push(p.into_stored(seq, ts_us, prev, hash));
                prev = hash;
            }
        }
        let cp = match checkpoint {
            Some((cseq, chash)) => {
                let signer = self.signer_from(&inner.signer)?;
                let cp = Checkpoint::sign(signer, &self.log_id, cseq, &chash, now_us());
                insert_checkpoint(&tx, &cp).map_err(self.sql("writing a checkpoint"))?;
                Some(cp)
            }
            None => None,
        };
        tx.commit().map_err(self.sql("committing the append"))?;
        if flush {
            if let Some(conn) = &inner.conn {
                if conn.pragma_update(None, "synchronous", "NORMAL").is_ok() {
                    inner.sync_full = false;
                }
            }
        }
        // Committed: only now is the staging file emptied (a crash before
        // this line leaves it whole, and the next fold skips what it holds).
        let head = staging::Record::Head {
            log_id: self.log_id.clone(),
            seq,
            hash: hex::encode(prev),
        }
        .line();
        let head_ok = matches!(
            contents.chain_head(&self.staging_path),
            Ok(Some((ref id, _, _))) if *id == self.log_id
        );
        if head_ok && contents.torn.is_none() && contents.valid_len + head.len() <= REWRITE_BYTES {
            // Below the size, the new head is appended: it marks everything
            // before it as folded. Rewriting (cutting the file to zero makes
            // the file system write it back at once) waits for the size.
            staging.append(&head)?;
        } else {
            let mut text = head;
            let conn = self.conn(inner)?;
            for rec in carried_flags(conn).map_err(self.sql("reading recent session flags"))? {
                text.extend_from_slice(&rec.line());
            }
            staging.rewrite(&text)?;
        }
        if let Some(cp) = cp {
            // The events are committed; the witness follows once the
            // WAL holding them is flushed, off this thread.
            if let Some(w) = &mut inner.witness {
                w.submit(cp)?;
                if w.in_background() && !inner.merging_in_background {
                    // The worker merges the WAL now; this connection
                    // only needs to when it grows long.
                    inner.merging_in_background = true;
                    if let Some(conn) = &inner.conn {
                        let _ = conn.pragma_update(
                            None,
                            "wal_autocheckpoint",
                            witness_writer::BACKGROUND_MERGE_PAGES,
                        );
                    }
                }
            }
        }
        Ok(stored.split_off(notes))
    }

    fn signer_from<'a>(&self, slot: &'a Option<KeyFile>) -> Result<&'a Signer, AuditError> {
        slot.as_ref()
            .map(KeyFile::signer)
            .ok_or_else(|| AuditError::InvalidArgument("signing key not loaded".into()))
    }

    fn check_writable(&self) -> Result<(), AuditError> {
        if self.opts.read_only {
            return Err(AuditError::ReadOnly {
                path: self.path.clone(),
                detail: "the store was opened read-only".into(),
            });
        }
        Ok(())
    }

    /// A witness failure not yet reported, as an error (nothing is written).
    fn witness_failure(inner: &Inner) -> Result<(), AuditError> {
        match inner.witness.as_ref().and_then(WitnessWriter::take_error) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Waits until the witness of every checkpoint written through this
    /// store is on disk, and reports a failure to write one that no call
    /// has reported yet.
    ///
    /// Witnesses are written by a worker thread after the append that made
    /// the checkpoint has returned; a failure is otherwise reported by the
    /// next `append`, `append_batch` or `checkpoint_now` (which then writes
    /// nothing), or by [`SqliteStore::close`].
    pub fn flush_witness(&self) -> Result<(), AuditError> {
        let guard = self.lock();
        if let Some(w) = &guard.witness {
            w.wait_idle();
        }
        Self::witness_failure(&guard)
    }

    /// Closes the store: waits for the pending witness and reports any
    /// failure to write it. Dropping the store also waits, but cannot
    /// report; a process that must fail closed when the witness cannot be
    /// written (the hook) closes its store this way.
    pub fn close(self) -> Result<(), AuditError> {
        let result = {
            let mut guard = self.lock();
            match &mut guard.witness {
                Some(w) => w.close(),
                None => Ok(()),
            }
        };
        drop(self);
        result
    }

    /// Signs the current head now (and updates the witness). Returns `None`
    /// for an empty log. Fails when checkpoints are disabled.
    pub fn checkpoint_now(&self) -> Result<Option<Checkpoint>, AuditError> {
        self.check_writable()?;
        if !self.opts.checkpoints.enabled {
            return Err(AuditError::InvalidArgument(
                "checkpoints are disabled for this store".into(),
            ));
        }
        self.fold_pending()?;
        let mut guard = self.lock();
        let inner = &mut *guard;
        Self::witness_failure(inner)?;
        self.load_key(inner)?;
        self.conn(inner)?;
        let Some(conn) = inner.conn.as_mut() else {
            return Err(AuditError::InvalidArgument("no connection".into()));
        };
        let cp = {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(self.sql("starting the checkpoint"))?;
            let (seq, hash) = head(&tx, &self.log_id).map_err(self.sql("reading the head"))?;
            if seq == 0 {
                return Ok(None);
            }
            let cp = Checkpoint::sign(
                self.signer_from(&inner.signer)?,
                &self.log_id,
                seq,
                &hash,
                now_us(),
            );
            insert_checkpoint(&tx, &cp).map_err(self.sql("writing a checkpoint"))?;
            tx.commit().map_err(self.sql("committing the checkpoint"))?;
            cp
        };
        if let Some(w) = &mut inner.witness {
            w.submit(cp.clone())?;
            w.wait_idle();
        }
        Self::witness_failure(inner)?;
        Ok(Some(cp))
    }

    /// All checkpoints stored in the log, by seq.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, AuditError> {
        self.fold_pending()?;
        let mut guard = self.lock();
        read_checkpoints(self.conn(&mut guard)?).map_err(self.sql("reading checkpoints"))
    }

    fn trusted_keys(&self) -> Result<HashSet<[u8; 32]>, AuditError> {
        let mut keys: HashSet<[u8; 32]> = self
            .opts
            .checkpoints
            .trusted_public_keys
            .iter()
            .copied()
            .collect();
        if let Some(kp) = &self.key_path {
            if let Some(s) = Signer::load_existing(kp)? {
                keys.insert(s.public);
            }
        }
        Ok(keys)
    }

    /// Judges one checkpoint against the scanned chain. `signature` is
    /// [`Checkpoint::signature_valid`] of it, computed beforehand (on another
    /// thread while the chain was scanned).
    fn check_checkpoint(
        &self,
        conn: &Connection,
        cp: &Checkpoint,
        signature: Result<bool, String>,
        scan: &scan::Scan,
        trusted: &HashSet<[u8; 32]>,
    ) -> Result<Option<CheckpointProblemKind>, AuditError> {
        if cp.log_id != self.log_id {
            return Ok(Some(CheckpointProblemKind::WrongLog {
                log_id: cp.log_id.clone(),
            }));
        }
        match signature {
            Err(detail) => return Ok(Some(CheckpointProblemKind::Malformed { detail })),
            Ok(false) => return Ok(Some(CheckpointProblemKind::BadSignature)),
            Ok(true) => {}
        }
        if !trusted.is_empty() {
            let pk = cp.public_key_bytes().unwrap_or([0; 32]);
            if !trusted.contains(&pk) {
                return Ok(Some(CheckpointProblemKind::UntrustedKey {
                    key_id: cp.key_id.clone(),
                }));
            }
        }
        if cp.seq > scan.last_seq {
            return Ok(Some(CheckpointProblemKind::Truncated {
                signed_seq: cp.seq,
                last_seq: scan.last_seq,
            }));
        }
        let actual = match scan.heads.get(&cp.seq) {
            Some(h) => hex::encode(h),
            // No event with that seq was scanned (deleted), or its hash was
            // not a blob: read it the plain way, in the same snapshot.
            None => conn
                .query_row(
                    "SELECT hash FROM events WHERE seq = ?1",
                    [i64_of(cp.seq)],
                    |r| r.get::<_, Vec<u8>>(0),
                )
                .optional()
                .map_err(self.sql("reading a checkpointed event"))?
                .map(hex::encode)
                .unwrap_or_default(),
        };
        if actual != cp.head_hash {
            return Ok(Some(CheckpointProblemKind::HeadMismatch {
                signed: cp.head_hash.clone(),
                actual,
            }));
        }
        Ok(None)
    }

    fn verify_inner(&self) -> Result<VerifyReport, AuditError> {
        let trusted = self.trusted_keys()?;
        self.fold_pending()?;
        let mut guard = self.lock();
        if let Some(w) = &guard.witness {
            // This store's own checkpoints are witnessed before it looks.
            w.wait_idle();
        }
        // Read before the log: a witness is written only after the events
        // it covers were committed, so every snapshot taken after this read
        // holds them, even while other processes keep appending.
        let witness = match &self.witness_path {
            None => None,
            Some(wp) => Some(signing::read_witness(wp)?),
        };
        let conn = self.conn(&mut guard)?;
        // One read transaction: the chain and the checkpoints are read from
        // the same snapshot while other processes keep appending.
        conn.execute_batch("BEGIN DEFERRED")
            .map_err(self.sql("starting the read"))?;
        let result = self.verify_snapshot(conn, &trusted, witness);
        let _ = conn.execute_batch("COMMIT");
        result
    }

    fn verify_snapshot(
        &self,
        conn: &Connection,
        trusted: &HashSet<[u8; 32]>,
        witness: Option<Option<signing::Witness>>,
    ) -> Result<VerifyReport, AuditError> {
        let integrity = match self.opts.integrity_check {
            IntegrityCheck::Skip => Integrity::Skipped,
            mode => {
                let pragma = if mode == IntegrityCheck::Full {
                    "PRAGMA integrity_check(20)"
                } else {
                    "PRAGMA quick_check(20)"
                };
                let mut stmt = conn
                    .prepare(pragma)
                    .map_err(self.sql("checking integrity"))?;
                let lines: Vec<String> = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(self.sql("checking integrity"))?
                    .collect::<Result<_, _>>()
                    .map_err(self.sql("checking integrity"))?;
                if lines.len() == 1 && lines[0] == "ok" {
                    Integrity::Ok
                } else {
                    Integrity::Damaged(lines)
                }
            }
        };

        let checkpoints = read_checkpoints(conn).map_err(self.sql("reading checkpoints"))?;
        let witness_cp = witness
            .as_ref()
            .and_then(|w| w.as_ref())
            .map(|w| &w.checkpoint);
        let mut want_heads: Vec<u64> = checkpoints
            .iter()
            .chain(witness_cp)
            .map(|cp| cp.seq)
            .collect();
        want_heads.sort_unstable();
        want_heads.dedup();
        // Signatures are checked on another thread while the chain is read.
        let (scan, mut signatures) = std::thread::scope(|s| {
            let check_all = || {
                let mut key = None;
                checkpoints
                    .iter()
                    .map(|cp| cp.signature_valid_cached(&mut key))
                    .collect::<Vec<_>>()
            };
            let sigs = if checkpoints.len() >= SIGNATURES_IN_BACKGROUND {
                Some(s.spawn(check_all))
            } else {
                None
            };
            let scan = scan::scan_chain(conn, &self.log_id, &want_heads);
            let sigs = match sigs {
                Some(h) => h
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                None => check_all(),
            };
            (scan, sigs)
        });
        let scan = scan.map_err(self.sql("reading events"))?;

        let mut problems = Vec::new();
        let mut anchored: Option<u64> = None;
        for (cp, sig) in checkpoints.iter().zip(signatures.drain(..)) {
            match self.check_checkpoint(conn, cp, sig, &scan, trusted)? {
                Some(kind) => problems.push(CheckpointProblem {
                    source: CheckpointSource::Log,
                    seq: cp.seq,
                    kind,
                }),
                None => anchored = anchored.max(Some(cp.seq)),
            }
        }
        let witness = match witness {
            None => WitnessStatus::Disabled,
            Some(w) => match w {
                None => WitnessStatus::Missing,
                Some(w) => {
                    let cp = w.checkpoint;
                    let sig = cp.signature_valid();
                    match self.check_checkpoint(conn, &cp, sig, &scan, trusted)? {
                        Some(kind) => {
                            problems.push(CheckpointProblem {
                                source: CheckpointSource::Witness,
                                seq: cp.seq,
                                kind,
                            });
                            WitnessStatus::Failed { seq: cp.seq }
                        }
                        None => {
                            anchored = anchored.max(Some(cp.seq));
                            WitnessStatus::Ok { seq: cp.seq }
                        }
                    }
                }
            },
        };

        Ok(VerifyReport {
            log_id: self.log_id.clone(),
            events: scan.events,
            last_seq: scan.last_seq,
            head_hash: hex::encode(scan.head),
            integrity,
            first_break: scan.first_break,
            broken_links: scan.broken_links,
            checkpoints: checkpoints.len() as u64,
            checkpoint_problems: problems,
            anchored_seq: anchored,
            witness,
            signatures_unchecked: trusted.is_empty(),
        })
    }
}

/// Opens a connection to the log (creating the schema of a new file) and
/// reads its log id.
fn connect(path: &Path, opts: &StoreOptions) -> Result<(Connection, String), AuditError> {
    let path = path.to_owned();
    let waited = opts.busy_timeout;
    let sql = |e| map_sql(e, &path, "opening", waited);
    let flags = if opts.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let mut conn = Connection::open_with_flags(&path, flags).map_err(sql)?;
    conn.busy_timeout(opts.busy_timeout).map_err(sql)?;
    // The last connection to close would otherwise merge the WAL into
    // the main file, with fsyncs: that would be paid by every hook
    // process. Merging is left to the first append of a store that
    // finds the WAL long (see `merge_wal`) and to SQLite's automatic
    // checkpoints in long-lived writers.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(sql)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    if version == 0 {
        if opts.read_only {
            return Err(AuditError::Corrupt {
                path,
                detail: "not an audit log (no schema)".into(),
            });
        }
        init_schema(&mut conn, &path, waited)?;
    } else if version != SCHEMA_VERSION {
        return Err(AuditError::Schema {
            path,
            found: version,
            expected: SCHEMA_VERSION,
        });
    }
    let sync = match opts.durability {
        Durability::Normal => "NORMAL",
        Durability::Full => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync).map_err(sql)?;
    if let Some(max) = opts.max_db_bytes {
        let page: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(sql)?;
        let pages = (i64_of(max) / page.max(512)).max(1);
        conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .map_err(sql)?;
    }
    let log_id: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'log_id'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(sql)?
        .ok_or_else(|| AuditError::Corrupt {
            path: path.clone(),
            detail: "the log id is missing from the meta table".into(),
        })?;

    Ok((conn, log_id))
}

fn init_schema(conn: &mut Connection, path: &Path, waited: Duration) -> Result<(), AuditError> {
    let sql = |e| map_sql(e, path, "creating the schema", waited);
    // WAL must be switched on outside a transaction; it is a property of the
    // file, so it stays on for every later connection.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AuditError::Backend {
            path: path.to_owned(),
            op: "switching to WAL",
            source: format!("journal mode stayed {mode}").into(),
        });
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    // Another process may have created the schema while we waited.
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    if version == 0 {
        tx.execute_batch(SCHEMA).map_err(sql)?;
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| AuditError::Backend {
            path: path.to_owned(),
            op: "creating the log id",
            source: e.to_string().into(),
        })?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('log_id', ?1)",
            [hex::encode(id)],
        )
        .map_err(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(sql)?;
    }
    tx.commit().map_err(sql)
}

fn head(conn: &Connection, log_id: &str) -> rusqlite::Result<(u64, Hash)> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok((0, chain::genesis_hash(log_id))),
        Some((seq, hash)) => {
            // A damaged head must not be chained onto silently: refuse.
            let h: Hash = hash.as_slice().try_into().map_err(|_| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                    Some(format!(
                        "the hash of the last event (seq {seq}) is not 32 bytes"
                    )),
                )
            })?;
            let seq = u64::try_from(seq).map_err(|_| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                    Some(format!("the last event has a negative seq {seq}")),
                )
            })?;
            Ok((seq, h))
        }
    }
}

fn insert_checkpoint(conn: &Connection, cp: &Checkpoint) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO checkpoints (log_id, seq, head_hash, ts_us, key_id, public_key, signature) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(rusqlite::params![
        cp.log_id,
        i64_of(cp.seq),
        cp.head_hash,
        cp.ts_us,
        cp.key_id,
        cp.public_key,
        cp.signature
    ])?;
    Ok(())
}

fn read_checkpoints(conn: &Connection) -> rusqlite::Result<Vec<Checkpoint>> {
    let mut stmt = conn.prepare(
        "SELECT log_id, seq, head_hash, ts_us, key_id, public_key, signature \
         FROM checkpoints ORDER BY seq, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Checkpoint {
            log_id: r.get(0)?,
            seq: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            head_hash: r.get(2)?,
            ts_us: r.get(3)?,
            key_id: r.get(4)?,
            public_key: r.get(5)?,
            signature: r.get(6)?,
        })
    })?;
    rows.collect()
}

fn decode_event(row: &rusqlite::Row<'_>) -> Result<StoredEvent, String> {
    let (f, prev, hash) = row_fields(row)?;
    let json = |s: &str, name: &str| {
        serde_json::from_str::<serde_json::Value>(s).map_err(|e| format!("{name}: {e}"))
    };
    let reasons: Vec<String> =
        serde_json::from_str(f.reasons).map_err(|e| format!("reasons: {e}"))?;
    let decision = f
        .decision
        .map(|d| d.parse::<Decision>())
        .transpose()
        .map_err(|e| format!("decision: {e}"))?;
    Ok(StoredEvent {
        seq: f.seq,
        ts_us: f.ts_us,
        session_id: f.session_id.to_owned(),
        agent: f.agent.to_owned(),
        kind: EventKind::from_name(f.kind),
        cwd: f.cwd.to_owned(),
        tool: f.tool.map(str::to_owned),
        tool_use_id: f.tool_use_id.map(str::to_owned),
        input: json(f.input, "input")?,
        decision,
        rule: f.rule.map(str::to_owned),
        reasons,
        latency_us: f.latency_us,
        result: f.result.map(str::to_owned),
        result_len: f.result_len,
        result_sha256: f.result_sha256.map(hex::encode),
        extra: json(f.extra, "extra")?,
        prev_hash: hex::encode(prev),
        hash: hex::encode(hash),
    })
}

impl AuditStore for SqliteStore {
    fn append(&self, ev: NewEvent) -> Result<StoredEvent, AuditError> {
        let mut out = self.append_batch(vec![ev])?;
        match out.pop() {
            Some(e) => Ok(e),
            None => Err(AuditError::InvalidArgument(
                "append produced no event".into(),
            )),
        }
    }

    fn events(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, AuditError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE 1=1");
        let mut params: Vec<SqlValue> = Vec::new();
        let mut add = |clause: &str, v: SqlValue, sql: &mut String| {
            params.push(v);
            sql.push_str(&format!(" AND {clause} ?{}", params.len()));
        };
        if let Some(s) = &filter.session {
            add("session_id =", SqlValue::Text(s.clone()), &mut sql);
        }
        if let Some(d) = filter.decision {
            add("decision =", SqlValue::Text(d.as_str().into()), &mut sql);
        }
        if let Some(t) = &filter.tool {
            add("tool =", SqlValue::Text(t.clone()), &mut sql);
        }
        if let Some(k) = &filter.kind {
            add("kind =", SqlValue::Text(k.as_str().into()), &mut sql);
        }
        if let Some(t) = filter.since_us {
            add("ts_us >=", SqlValue::Integer(t), &mut sql);
        }
        if let Some(a) = filter.after_seq {
            add("seq >", SqlValue::Integer(i64_of(a)), &mut sql);
        }
        match (filter.limit, filter.from_end) {
            (Some(n), true) => {
                sql = format!(
                    "SELECT * FROM ({sql} ORDER BY seq DESC LIMIT {}) ORDER BY seq",
                    i64_of(n as u64)
                );
            }
            (Some(n), false) => sql.push_str(&format!(" ORDER BY seq LIMIT {}", i64_of(n as u64))),
            (None, _) => sql.push_str(" ORDER BY seq"),
        }
        self.fold_pending()?;
        let mut guard = self.lock();
        let mut stmt = self
            .conn(&mut guard)?
            .prepare(&sql)
            .map_err(self.sql("querying events"))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(self.sql("querying events"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.sql("reading events"))? {
            let ev = decode_event(row).map_err(|detail| AuditError::Malformed {
                path: self.path.clone(),
                seq: row.get::<_, i64>(0).unwrap_or(-1),
                detail,
            })?;
            out.push(ev);
        }
        Ok(out)
    }

    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionSummary>, AuditError> {
        let limit = filter.limit.map(|n| i64_of(n as u64)).unwrap_or(-1);
        self.fold_pending()?;
        let mut guard = self.lock();
        let conn = self.conn(&mut guard)?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT session_id, MIN(agent), MIN(ts_us), MAX(ts_us), COUNT(*), \
                        SUM(kind = 'PreToolUse'), SUM(decision = 'deny'), SUM(decision = 'ask') \
                 FROM events GROUP BY session_id \
                 HAVING (?1 IS NULL OR MAX(ts_us) >= ?1) \
                    AND (?2 IS NULL OR SUM(decision = ?2) > 0) \
                    AND (?3 IS NULL OR SUM(tool = ?3) > 0) \
                 ORDER BY MAX(ts_us) DESC, session_id LIMIT ?4",
            )
            .map_err(self.sql("listing sessions"))?;
        let rows = stmt
            .query_map(
                rusqlite::params![
                    filter.since_us,
                    filter.decision.map(Decision::as_str),
                    filter.tool,
                    limit
                ],
                |r| {
                    let n = |i: usize| -> rusqlite::Result<u64> {
                        Ok(u64::try_from(r.get::<_, Option<i64>>(i)?.unwrap_or(0)).unwrap_or(0))
                    };
                    Ok(SessionSummary {
                        session_id: r.get(0)?,
                        agent: r.get(1)?,
                        started_us: r.get(2)?,
                        last_us: r.get(3)?,
                        task: None,
                        events: n(4)?,
                        tool_calls: n(5)?,
                        denied: n(6)?,
                        asked: n(7)?,
                    })
                },
            )
            .map_err(self.sql("listing sessions"))?;
        let mut out: Vec<SessionSummary> = rows
            .collect::<Result<_, _>>()
            .map_err(self.sql("listing sessions"))?;
        for s in &mut out {
            s.task = session_task(conn, &s.session_id).map_err(self.sql("reading the task"))?;
        }
        Ok(out)
    }

    fn verify(&self) -> Result<VerifyReport, AuditError> {
        self.verify_inner()
    }

    fn set_session_flag(
        &self,
        session: &str,
        key: &str,
        value: serde_json::Value,
    ) -> Result<(), AuditError> {
        self.check_writable()?;
        let value = chain::canonical_json(&redact_json(&*self.opts.redactor, &value));
        // Flags are set through the staging file by every store, so the
        // latest value is always the staging file's last record (or SQLite's
        // when the file has none for the session).
        let mut guard = self.lock();
        let mut staging = self.lock_staging(true)?.ok_or_else(|| {
            AuditError::InvalidArgument("the staging file was not created".into())
        })?;
        let contents = staging.read()?;
        if contents.torn.is_some() {
            // Dropped visibly (an event says so) before anything follows it.
            let inner = &mut *guard;
            if self.opts.checkpoints.enabled {
                self.load_key(inner)?;
            }
            self.fold_locked(inner, &mut staging, &contents, Vec::new(), false)?;
        }
        let rec = staging::Record::Flag {
            s: session.to_owned(),
            k: key.to_owned(),
            v: value,
            ts: now_us(),
        };
        staging.append(&rec.line())
    }

    fn session_flags(
        &self,
        session: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, AuditError> {
        let mut guard = self.lock();
        let mut staging = self.lock_staging(true)?;
        let contents = match &mut staging {
            Some(s) => s.read()?,
            None => staging::Contents::default(),
        };
        let (complete, later) = contents.session_flags(session, &self.staging_path)?;
        let all = match complete {
            Some(all) => all,
            None => {
                // Not in the staging file: SQLite (unchanged while the file
                // is locked: only a fold changes it). The result is written
                // to the file so that the session's next hooks find it there.
                let mut all = self.sql_flags(&mut guard, session)?;
                for (k, v) in later {
                    all.insert(k, v);
                }
                if let Some(s) = &mut staging {
                    if !self.opts.read_only && contents.torn.is_none() {
                        let rec = staging::Record::Flags {
                            s: session.to_owned(),
                            all: all.clone(),
                            ts: now_us(),
                        };
                        // Best effort: it only saves later lookups a read.
                        let _ = s.append(&rec.line());
                    }
                }
                all
            }
        };
        let mut map = serde_json::Map::new();
        for (k, v) in all {
            let v = serde_json::from_str(&v).map_err(|e| AuditError::Corrupt {
                path: self.path.clone(),
                detail: format!("session flag {session}/{k} is not JSON: {e}"),
            })?;
            map.insert(k, v);
        }
        Ok(map)
    }
}

impl SqliteStore {
    /// The session's flags as SQLite holds them (key → JSON text).
    fn sql_flags(
        &self,
        inner: &mut Inner,
        session: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, AuditError> {
        let conn = self.conn(inner)?;
        let mut stmt = conn
            .prepare_cached("SELECT key, value FROM session_flags WHERE session_id = ?1")
            .map_err(self.sql("reading session flags"))?;
        let rows = stmt
            .query_map([session], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql("reading session flags"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sql("reading session flags"))
    }
}

fn session_task(conn: &Connection, session: &str) -> rusqlite::Result<Option<String>> {
    let flag: Option<String> = conn
        .prepare_cached("SELECT value FROM session_flags WHERE session_id = ?1 AND key = 'task'")?
        .query_row([session], |r| r.get(0))
        .optional()?;
    if let Some(v) = flag {
        if let Ok(serde_json::Value::String(s)) = serde_json::from_str(&v) {
            return Ok(Some(s));
        }
        return Ok(Some(v));
    }
    let prompt: Option<String> = conn
        .prepare_cached(
            "SELECT input FROM events WHERE session_id = ?1 AND kind = 'UserPrompt' ORDER BY seq LIMIT 1",
        )?
        .query_row([session], |r| r.get(0))
        .optional()?;
    Ok(
        prompt.and_then(|p| match serde_json::from_str::<serde_json::Value>(&p) {
            Ok(serde_json::Value::String(s)) => Some(s),
            Ok(v) => v.get("prompt").and_then(|x| x.as_str()).map(str::to_owned),
            Err(_) => None,
        }),
    )
}
