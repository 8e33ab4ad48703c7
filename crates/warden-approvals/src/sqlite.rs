//! The embedded SQLite backend. It shares the audit log's database file
//! (`.warden/audit.db`) but owns its own tables, created on first open.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};
use serde_json::Value;

use crate::hash::{action_hash, canonical_json};
use crate::ids;
use crate::model::{ApprovalRequest, Decided, Decision, NewRequest, Scope, ScopedRule, Status};
use crate::store::ApprovalStore;
use crate::ApprovalError;

/// How long a call waits for a lock held by another process (the audit
/// writer, another hook) before it fails, and the hook denies.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS approval_requests (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    task          TEXT,
    tool          TEXT NOT NULL,
    action        TEXT NOT NULL,
    action_hash   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    diff_preview  TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending','approved','denied','timed_out')),
    decided_by    TEXT,
    decision_reason TEXT,
    scope         TEXT CHECK (scope IS NULL OR scope IN ('action','session')),
    decided_at    INTEGER,
    rule_id       TEXT,
    rev           INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_requests_by_status ON approval_requests(status, created_at);
CREATE INDEX IF NOT EXISTS approval_requests_by_session ON approval_requests(session_id, created_at);
CREATE INDEX IF NOT EXISTS approval_requests_by_rev ON approval_requests(rev);
CREATE TABLE IF NOT EXISTS approval_rules (
    id            TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,
    tool          TEXT NOT NULL,
    action        TEXT NOT NULL,
    action_hash   TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    reason        TEXT,
    created_at    INTEGER NOT NULL,
    from_request  TEXT NOT NULL,
    UNIQUE (session_id, action_hash)
);
";

const REQUEST_COLUMNS: &str = "id, session_id, task, tool, action, action_hash, reason, \
     diff_preview, created_at, expires_at, status, decided_by, decision_reason, scope, \
     decided_at, rule_id";

const RULE_COLUMNS: &str =
    "id, session_id, tool, action, action_hash, created_by, reason, created_at, from_request";

/// Approval requests and session rules in a SQLite file (WAL mode, bounded
/// busy timeout), safe to use from many processes at once.
pub struct SqliteApprovals {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteApprovals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteApprovals")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteApprovals {
    /// Opens (creating if needed) the store in `db_path`. The directory must
    /// exist: a missing `.warden/` is an error, not silently created.
    pub fn open(db_path: &Path) -> Result<Self, ApprovalError> {
        Self::open_with(db_path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`open`](Self::open) with another busy timeout.
    pub fn open_with(db_path: &Path, busy_timeout: Duration) -> Result<Self, ApprovalError> {
        let open_err = |e: rusqlite::Error| ApprovalError::Open {
            path: db_path.to_path_buf(),
            detail: e.to_string(),
        };
        let mut conn = Connection::open_with_flags(
            db_path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(busy_timeout).map_err(open_err)?;
        // WAL lets the web app read while hooks write; FULL sync because a
        // decision must survive a crash (they are rare, so the cost is nil).
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(ApprovalError::Open {
                path: db_path.to_path_buf(),
                detail: format!("cannot switch to WAL mode (journal_mode is {mode})"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL;")
            .map_err(open_err)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(open_err)?;
        tx.execute_batch(SCHEMA).map_err(open_err)?;
        tx.commit().map_err(open_err)?;
        Ok(SqliteApprovals {
            conn: Mutex::new(conn),
            path: db_path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, ApprovalError> {
        self.conn.lock().map_err(|_| {
            ApprovalError::store(
                "locking the connection",
                "a thread panicked while holding it",
            )
        })
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Raw columns, converted outside the rusqlite closure so that a malformed
/// row becomes a typed `Corrupt` error naming the row.
struct RawRequest {
    id: String,
    session_id: String,
    task: Option<String>,
    tool: String,
    action: String,
    action_hash: String,
    reason: String,
    diff_preview: Option<String>,
    created_at: i64,
    expires_at: i64,
    status: String,
    decided_by: Option<String>,
    decision_reason: Option<String>,
    scope: Option<String>,
    decided_at: Option<i64>,
    rule_id: Option<String>,
}

fn raw_request(r: &Row<'_>) -> rusqlite::Result<RawRequest> {
    Ok(RawRequest {
        id: r.get(0)?,
        session_id: r.get(1)?,
        task: r.get(2)?,
        tool: r.get(3)?,
        action: r.get(4)?,
        action_hash: r.get(5)?,
        reason: r.get(6)?,
        diff_preview: r.get(7)?,
        created_at: r.get(8)?,
        expires_at: r.get(9)?,
        status: r.get(10)?,
        decided_by: r.get(11)?,
        decision_reason: r.get(12)?,
        scope: r.get(13)?,
        decided_at: r.get(14)?,
        rule_id: r.get(15)?,
    })
}

impl RawRequest {
    fn into_request(self, now: i64) -> Result<ApprovalRequest, ApprovalError> {
        let corrupt = |detail: String| ApprovalError::Corrupt {
            what: "approval request",
            id: self.id.clone(),
            detail,
        };
        let action: Value = serde_json::from_str(&self.action)
            .map_err(|e| corrupt(format!("action is not JSON: {e}")))?;
        let scope = match self.scope.as_deref() {
            None => None,
            Some("action") => Some(Scope::ThisAction),
            Some("session") => Some(Scope::SameForSession),
            Some(other) => return Err(corrupt(format!("unknown scope {other:?}"))),
        };
        let status = match self.status.as_str() {
            // A request whose waiter died is never approvable after expiry.
            "pending" if now >= self.expires_at => Status::TimedOut,
            "pending" => Status::Pending,
            "approved" => Status::Approved {
                by: self
                    .decided_by
                    .clone()
                    .ok_or_else(|| corrupt("approved without a reviewer".into()))?,
                reason: self.decision_reason.clone(),
                scope: scope.ok_or_else(|| corrupt("approved without a scope".into()))?,
            },
            "denied" => Status::Denied {
                by: self
                    .decided_by
                    .clone()
                    .ok_or_else(|| corrupt("denied without a reviewer".into()))?,
                reason: self.decision_reason.clone().unwrap_or_default(),
            },
            "timed_out" => Status::TimedOut,
            other => return Err(corrupt(format!("unknown status {other:?}"))),
        };
        Ok(ApprovalRequest {
            id: self.id,
            session_id: self.session_id,
            task: self.task,
            tool: self.tool,
            action,
            action_hash: self.action_hash,
            reason: self.reason,
            diff_preview: self.diff_preview,
            created_at: to_time(self.created_at),
            expires_at: to_time(self.expires_at),
            status,
            decided_at: self.decided_at.map(to_time),
            rule_id: self.rule_id,
        })
    }
}

struct RawRule {
    id: String,
    session_id: String,
    tool: String,
    action: String,
    action_hash: String,
    created_by: String,
    reason: Option<String>,
    created_at: i64,
    from_request: String,
}

fn raw_rule(r: &Row<'_>) -> rusqlite::Result<RawRule> {
    Ok(RawRule {
        id: r.get(0)?,
        session_id: r.get(1)?,
        tool: r.get(2)?,
        action: r.get(3)?,
        action_hash: r.get(4)?,
        created_by: r.get(5)?,
        reason: r.get(6)?,
        created_at: r.get(7)?,
        from_request: r.get(8)?,
    })
}

impl RawRule {
    fn into_rule(self) -> Result<ScopedRule, ApprovalError> {
        let action: Value =
            serde_json::from_str(&self.action).map_err(|e| ApprovalError::Corrupt {
                what: "session rule",
                id: self.id.clone(),
                detail: format!("action is not JSON: {e}"),
            })?;
        Ok(ScopedRule {
            id: self.id,
            session_id: self.session_id,
            tool: self.tool,
            action,
            action_hash: self.action_hash,
            created_by: self.created_by,
            reason: self.reason,
            created_at: to_time(self.created_at),
            from_request: self.from_request,
        })
    }
}

fn next_rev(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce(max(rev), 0) + 1 FROM approval_requests",
        [],
        |r| r.get(0),
    )
}

fn load_request(
    conn: &Connection,
    id: &str,
    now: i64,
) -> Result<Option<ApprovalRequest>, ApprovalError> {
    let raw = conn
        .query_row(
            &format!("SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = ?1"),
            params![id],
            raw_request,
        )
        .optional()
        .map_err(|e| ApprovalError::store("reading a request", e))?;
    raw.map(|r| r.into_request(now)).transpose()
}

fn query_requests(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    now: i64,
) -> Result<Vec<ApprovalRequest>, ApprovalError> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| ApprovalError::store("listing requests", e))?;
    let rows = stmt
        .query_map(params, raw_request)
        .map_err(|e| ApprovalError::store("listing requests", e))?;
    let mut out = Vec::new();
    for row in rows {
        let raw = row.map_err(|e| ApprovalError::store("listing requests", e))?;
        out.push(raw.into_request(now)?);
    }
    Ok(out)
}

fn load_rule(conn: &Connection, id: &str) -> Result<Option<ScopedRule>, ApprovalError> {
    conn.query_row(
        &format!("SELECT {RULE_COLUMNS} FROM approval_rules WHERE id = ?1"),
        params![id],
        raw_rule,
    )
    .optional()
    .map_err(|e| ApprovalError::store("reading a session rule", e))?
    .map(RawRule::into_rule)
    .transpose()
}

impl ApprovalStore for SqliteApprovals {
    fn create(&self, req: NewRequest) -> Result<ApprovalRequest, ApprovalError> {
        req.validate()?;
        let hash = req.action_hash();
        let action = canonical_json(&req.action);
        let created = now_ms();
        let ttl = i64::try_from(req.expires_in.as_millis()).unwrap_or(i64::MAX / 4);
        let expires = created.saturating_add(ttl);
        let mut conn = self.conn()?;
        // A fresh id collides with probability ~n/2^60; retry rather than fail.
        for _ in 0..4 {
            let id = ids::request_id()?;
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| ApprovalError::store("creating a request", e))?;
            let rev = next_rev(&tx).map_err(|e| ApprovalError::store("creating a request", e))?;
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO approval_requests (id, session_id, task, tool, action, \
                 action_hash, reason, diff_preview, created_at, expires_at, status, rev) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11)",
                params![
                    id,
                    req.session_id,
                    req.task,
                    req.tool,
                    action,
                    hash,
                    req.reason,
                    req.diff_preview,
                    created,
                    expires,
                    rev
                ],
            );
            let inserted = inserted.map_err(|e| ApprovalError::store("creating a request", e))?;
            if inserted == 0 {
                continue;
            }
            tx.commit()
                .map_err(|e| ApprovalError::store("creating a request", e))?;
            return Ok(ApprovalRequest {
                id,
                session_id: req.session_id,
                task: req.task,
                tool: req.tool,
                action: req.action,
                action_hash: hash,
                reason: req.reason,
                diff_preview: req.diff_preview,
                created_at: to_time(created),
                expires_at: to_time(expires),
                status: Status::Pending,
                decided_at: None,
                rule_id: None,
            });
        }
        Err(ApprovalError::store(
            "creating a request",
            "could not draw an unused request id",
        ))
    }

    fn get(&self, id: &str) -> Result<Option<ApprovalRequest>, ApprovalError> {
        let conn = self.conn()?;
        load_request(&conn, id, now_ms())
    }

    fn pending(&self) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        let conn = self.conn()?;
        let now = now_ms();
        query_requests(
            &conn,
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM approval_requests \
                 WHERE status = 'pending' AND expires_at > ?1 ORDER BY created_at, id"
            ),
            params![now],
            now,
        )
    }

    fn recent(&self, limit: usize) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        let conn = self.conn()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        query_requests(
            &conn,
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM approval_requests \
                 ORDER BY created_at DESC, id DESC LIMIT ?1"
            ),
            params![limit],
            now_ms(),
        )
    }

    fn for_session(&self, session_id: &str) -> Result<Vec<ApprovalRequest>, ApprovalError> {
        let conn = self.conn()?;
        query_requests(
            &conn,
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM approval_requests \
                 WHERE session_id = ?1 ORDER BY created_at, id"
            ),
            params![session_id],
            now_ms(),
        )
    }

    fn decide(&self, id: &str, decision: Decision) -> Result<Decided, ApprovalError> {
        decision.validate()?;
        let mut conn = self.conn()?;
        let ctx = "recording a decision";
        // IMMEDIATE: take the write lock first, so the pending check and the
        // update cannot interleave with a waiter's time-out in another process.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| ApprovalError::store(ctx, e))?;
        let now = now_ms();
        let current = load_request(&tx, id, now)?
            .ok_or_else(|| ApprovalError::NotFound { id: id.to_string() })?;
        if !current.status.is_pending() {
            if current.status == Status::TimedOut {
                // Persist what readers already see, so the row tells the truth.
                tx.execute(
                    "UPDATE approval_requests SET status = 'timed_out', decided_at = ?2, \
                     rev = (SELECT coalesce(max(rev),0)+1 FROM approval_requests) \
                     WHERE id = ?1 AND status = 'pending'",
                    params![id, now],
                )
                .map_err(|e| ApprovalError::store(ctx, e))?;
                tx.commit().map_err(|e| ApprovalError::store(ctx, e))?;
            }
            return Err(ApprovalError::NotPending {
                id: id.to_string(),
                status: current.status.name(),
            });
        }
        let rev = next_rev(&tx).map_err(|e| ApprovalError::store(ctx, e))?;
        let mut rule = None;
        let mut also_approved = Vec::new();
        match &decision {
            Decision::Deny { by, reason } => {
                tx.execute(
                    "UPDATE approval_requests SET status = 'denied', decided_by = ?2, \
                     decision_reason = ?3, decided_at = ?4, rev = ?5 WHERE id = ?1",
                    params![id, by, reason.trim(), now, rev],
                )
                .map_err(|e| ApprovalError::store(ctx, e))?;
            }
            Decision::Approve { by, reason, scope } => {
                let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
                let mut rule_id = None;
                if *scope == Scope::SameForSession {
                    let existing: Option<String> = tx
                        .query_row(
                            "SELECT id FROM approval_rules WHERE session_id = ?1 AND action_hash = ?2",
                            params![current.session_id, current.action_hash],
                            |r| r.get(0),
                        )
                        .optional()
                        .map_err(|e| ApprovalError::store(ctx, e))?;
                    let rid = match existing {
                        Some(rid) => rid,
                        None => {
                            let rid = format!("r{}", ids::request_id()?);
                            tx.execute(
                                "INSERT INTO approval_rules (id, session_id, tool, action, \
                                 action_hash, created_by, reason, created_at, from_request) \
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                params![
                                    rid,
                                    current.session_id,
                                    current.tool,
                                    canonical_json(&current.action),
                                    current.action_hash,
                                    by,
                                    reason,
                                    now,
                                    id
                                ],
                            )
                            .map_err(|e| ApprovalError::store(ctx, e))?;
                            rid
                        }
                    };
                    rule_id = Some(rid);
                }
                tx.execute(
                    "UPDATE approval_requests SET status = 'approved', decided_by = ?2, \
                     decision_reason = ?3, scope = ?4, decided_at = ?5, rule_id = ?6, rev = ?7 \
                     WHERE id = ?1",
                    params![id, by, reason, scope.as_db(), now, rule_id, rev],
                )
                .map_err(|e| ApprovalError::store(ctx, e))?;
                if let Some(rid) = &rule_id {
                    // The same action waiting twice in this session (parallel
                    // tool calls): the new rule answers the others too.
                    let mut stmt = tx
                        .prepare(
                            "SELECT id FROM approval_requests WHERE session_id = ?1 \
                             AND action_hash = ?2 AND status = 'pending' AND expires_at > ?3 \
                             AND id <> ?4",
                        )
                        .map_err(|e| ApprovalError::store(ctx, e))?;
                    let twins = stmt
                        .query_map(
                            params![current.session_id, current.action_hash, now, id],
                            |r| r.get::<_, String>(0),
                        )
                        .map_err(|e| ApprovalError::store(ctx, e))?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| ApprovalError::store(ctx, e))?;
                    drop(stmt);
                    for twin in twins {
                        tx.execute(
                            "UPDATE approval_requests SET status = 'approved', decided_by = ?2, \
                             decision_reason = ?3, scope = 'session', decided_at = ?4, \
                             rule_id = ?5, rev = ?6 WHERE id = ?1",
                            params![twin, by, reason, now, rid, rev],
                        )
                        .map_err(|e| ApprovalError::store(ctx, e))?;
                        also_approved.push(twin);
                    }
                    rule = load_rule(&tx, rid)?;
                }
            }
        }
        let request = load_request(&tx, id, now)?
            .ok_or_else(|| ApprovalError::NotFound { id: id.to_string() })?;
        tx.commit().map_err(|e| ApprovalError::store(ctx, e))?;
        Ok(Decided {
            request,
            rule,
            also_approved,
        })
    }

    fn time_out(&self, id: &str) -> Result<ApprovalRequest, ApprovalError> {
        let mut conn = self.conn()?;
        let ctx = "timing out a request";
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| ApprovalError::store(ctx, e))?;
        let now = now_ms();
        tx.execute(
            "UPDATE approval_requests SET status = 'timed_out', decided_at = ?2, \
             rev = (SELECT coalesce(max(rev),0)+1 FROM approval_requests) \
             WHERE id = ?1 AND status = 'pending'",
            params![id, now],
        )
        .map_err(|e| ApprovalError::store(ctx, e))?;
        let request = load_request(&tx, id, now)?
            .ok_or_else(|| ApprovalError::NotFound { id: id.to_string() })?;
        tx.commit().map_err(|e| ApprovalError::store(ctx, e))?;
        Ok(request)
    }

    fn session_rules(&self, session_id: &str) -> Result<Vec<ScopedRule>, ApprovalError> {
        let conn = self.conn()?;
        let ctx = "listing session rules";
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {RULE_COLUMNS} FROM approval_rules WHERE session_id = ?1 \
                 ORDER BY created_at, id"
            ))
            .map_err(|e| ApprovalError::store(ctx, e))?;
        let rows = stmt
            .query_map(params![session_id], raw_rule)
            .map_err(|e| ApprovalError::store(ctx, e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(|e| ApprovalError::store(ctx, e))?.into_rule()?);
        }
        Ok(out)
    }

    fn matching_rule(
        &self,
        session_id: &str,
        action_hash_hex: &str,
    ) -> Result<Option<ScopedRule>, ApprovalError> {
        let conn = self.conn()?;
        let rule = conn
            .query_row(
                &format!(
                    "SELECT {RULE_COLUMNS} FROM approval_rules \
                     WHERE session_id = ?1 AND action_hash = ?2"
                ),
                params![session_id, action_hash_hex],
                raw_rule,
            )
            .optional()
            .map_err(|e| ApprovalError::store("looking up a session rule", e))?
            .map(RawRule::into_rule)
            .transpose()?;
        // Belt and braces: the stored action must hash to the same value
        // for this session, so a row edited by hand cannot widen the rule.
        Ok(rule.filter(|r| {
            r.session_id == session_id
                && action_hash(&r.tool, &r.action, session_id) == action_hash_hex
        }))
    }

    fn revision(&self) -> Result<u64, ApprovalError> {
        let conn = self.conn()?;
        let rev: i64 = conn
            .query_row(
                "SELECT coalesce(max(rev), 0) FROM approval_requests",
                [],
                |r| r.get(0),
            )
            .map_err(|e| ApprovalError::store("reading the revision", e))?;
        Ok(u64::try_from(rev).unwrap_or(0))
    }
}
