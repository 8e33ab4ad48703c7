//! What the web app reads from the audit log: a narrow view, so the app
//! works with any audit backend (and without one).

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::Serialize;

use super::LogFilter;
use crate::ApprovalError;

/// One session in the sessions table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRow {
    pub session_id: String,
    pub started: Option<DateTime<Utc>>,
    pub task: Option<String>,
    pub tool_calls: u64,
    pub denied: u64,
    pub asked: u64,
}

/// One audit event, as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub session_id: String,
    /// `session_start`, `prompt`, `tool_call`, `tool_result`, ...
    pub kind: String,
    pub tool: Option<String>,
    pub decision: Option<String>,
    /// The action or text, already redacted by the audit log.
    pub summary: String,
    pub reasons: Vec<String>,
}

/// Which events to show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventQuery {
    pub session: Option<String>,
    pub tool: Option<String>,
    pub decision: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// At most this many, newest first; 0 means the default (500).
    pub limit: usize,
}

impl EventQuery {
    pub(crate) fn from_filter(f: &LogFilter) -> Result<Self, ApprovalError> {
        let non_empty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let since = match non_empty(&f.since) {
            None => None,
            Some(s) => Some(parse_since(&s, Utc::now())?),
        };
        Ok(EventQuery {
            session: non_empty(&f.session),
            tool: non_empty(&f.tool),
            decision: non_empty(&f.decision),
            since,
            limit: 500,
        })
    }
}

/// `30m`, `12h`, `7d` (ago), or an RFC 3339 time.
pub(crate) fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApprovalError> {
    let bad = || {
        ApprovalError::Invalid(format!(
            "cannot read since={s:?}: use 30m, 12h, 7d or an RFC 3339 time"
        ))
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => ChronoDuration::try_seconds(n),
        "m" => ChronoDuration::try_minutes(n),
        "h" => ChronoDuration::try_hours(n),
        "d" => ChronoDuration::try_days(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    now.checked_sub_signed(d).ok_or_else(bad)
}

/// The audit log as the web app reads it. Implemented over `warden-audit`
/// by the binary (or by this crate, see [`crate::web`]); tests use a fake.
pub trait AuditView: Send + Sync {
    /// The latest sessions, newest first.
    fn sessions(&self, limit: usize) -> Result<Vec<SessionRow>, ApprovalError>;
    /// Events matching the query, oldest first within the newest `limit`.
    fn events(&self, query: &EventQuery) -> Result<Vec<EventRow>, ApprovalError>;
}

/// The `warden-audit` log as the web app reads it: read-only, opened at
/// first use (the file may not hold an audit log yet when `warden serve`
/// starts; until it does, there are simply no events).
pub struct AuditLogView {
    path: std::path::PathBuf,
    store: std::sync::Mutex<Option<std::sync::Arc<dyn warden_audit::AuditStore>>>,
}

impl std::fmt::Debug for AuditLogView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLogView")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn audit_err(e: impl std::fmt::Display) -> ApprovalError {
    ApprovalError::Audit(e.to_string())
}

fn from_us(us: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

impl AuditLogView {
    /// Reads the audit log in `db_path` (the file approvals share).
    pub fn open_lazily(db_path: impl Into<std::path::PathBuf>) -> Self {
        AuditLogView {
            path: db_path.into(),
            store: std::sync::Mutex::new(None),
        }
    }

    /// Reads through an already opened audit store (any backend).
    pub fn from_store(
        db_path: impl Into<std::path::PathBuf>,
        store: std::sync::Arc<dyn warden_audit::AuditStore>,
    ) -> Self {
        AuditLogView {
            path: db_path.into(),
            store: std::sync::Mutex::new(Some(store)),
        }
    }

    /// The store, or `None` while the file holds no audit log yet.
    fn store(&self) -> Result<Option<std::sync::Arc<dyn warden_audit::AuditStore>>, ApprovalError> {
        let mut guard = self.store.lock().map_err(|_| audit_err("lock poisoned"))?;
        if let Some(s) = guard.as_ref() {
            return Ok(Some(s.clone()));
        }
        if !has_audit_schema(&self.path)? {
            return Ok(None);
        }
        let opts = warden_audit::StoreOptions {
            read_only: true,
            checkpoints: warden_audit::CheckpointOptions {
                enabled: false,
                ..warden_audit::CheckpointOptions::default()
            },
            ..warden_audit::StoreOptions::default()
        };
        let store: std::sync::Arc<dyn warden_audit::AuditStore> = std::sync::Arc::new(
            warden_audit::SqliteStore::open(&self.path, opts).map_err(audit_err)?,
        );
        *guard = Some(store.clone());
        Ok(Some(store))
    }
}

/// The audit log marks its schema with `user_version`; a file that only
/// holds approval tables (no hook has logged yet) has none.
fn has_audit_schema(path: &std::path::Path) -> Result<bool, ApprovalError> {
    if !path.exists() {
        return Ok(false);
    }
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(audit_err)?;
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(audit_err)?;
    Ok(v != 0)
}

fn parse_decision(d: &str) -> Result<warden_audit::Decision, ApprovalError> {
    match d {
        "allow" => Ok(warden_audit::Decision::Allow),
        "ask" => Ok(warden_audit::Decision::Ask),
        "deny" => Ok(warden_audit::Decision::Deny),
        other => Err(ApprovalError::Invalid(format!(
            "unknown decision {other:?} (allow, ask or deny)"
        ))),
    }
}

impl AuditView for AuditLogView {
    fn sessions(&self, limit: usize) -> Result<Vec<SessionRow>, ApprovalError> {
        let Some(store) = self.store()? else {
            return Ok(Vec::new());
        };
        let list = store
            .sessions(&warden_audit::SessionFilter {
                limit: Some(limit),
                ..warden_audit::SessionFilter::default()
            })
            .map_err(audit_err)?;
        Ok(list
            .into_iter()
            .map(|s| SessionRow {
                session_id: s.session_id,
                started: Some(from_us(s.started_us)),
                task: s.task,
                tool_calls: s.tool_calls,
                denied: s.denied,
                asked: s.asked,
            })
            .collect())
    }

    fn events(&self, q: &EventQuery) -> Result<Vec<EventRow>, ApprovalError> {
        let decision = q.decision.as_deref().map(parse_decision).transpose()?;
        let Some(store) = self.store()? else {
            return Ok(Vec::new());
        };
        let filter = warden_audit::EventFilter {
            session: q.session.clone(),
            decision,
            tool: q.tool.clone(),
            since_us: q.since.map(|t| t.timestamp_micros()),
            limit: Some(if q.limit == 0 { 500 } else { q.limit }),
            from_end: true,
            ..warden_audit::EventFilter::default()
        };
        let events = store.events(&filter).map_err(audit_err)?;
        Ok(events
            .into_iter()
            .map(|e| {
                let mut summary = match &e.tool {
                    Some(tool) => crate::display::summarize(tool, &e.input, 300),
                    None if e.input.is_null() => String::new(),
                    None => crate::display::summarize("", &e.input, 300),
                };
                if let Some(result) = &e.result {
                    if !summary.is_empty() {
                        summary.push_str(" → ");
                    }
                    summary.push_str(&crate::display::line(result, 200));
                }
                let mut reasons = Vec::new();
                if let Some(rule) = &e.rule {
                    reasons.push(format!("rule {rule}"));
                }
                reasons.extend(e.reasons.iter().cloned());
                EventRow {
                    seq: e.seq,
                    at: from_us(e.ts_us),
                    session_id: e.session_id,
                    kind: e.kind.as_str().to_string(),
                    tool: e.tool,
                    decision: e.decision.map(|d| d.as_str().to_string()),
                    summary,
                    reasons,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_relative_and_absolute_times() {
        let now = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("7d", now).unwrap().to_rfc3339(),
            "2026-01-03T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("90m", now).unwrap().to_rfc3339(),
            "2026-01-09T22:30:00+00:00"
        );
        assert!(parse_since("2026-01-01T00:00:00Z", now).is_ok());
        for bad in ["", "7", "d", "7w", "-x", "99999999999999999d"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
