//! Opening the project's audit store with the policy's settings, and turning hook calls into
//! audit events.

use crate::claude::{HookEvent, HookInput};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use warden_audit::{EventKind, NewEvent, Redactor, SqliteStore, StoreOptions};
use warden_policy::config::AuditSettings;

/// The agent name recorded for Claude Code.
pub const CLAUDE_CODE: &str = "claude-code";

/// Where the audit database of a project lives.
pub fn store_path(root: &Path, settings: &AuditSettings) -> PathBuf {
    // `warden run` points the agent's hooks at the log in the user's checkout, outside the
    // worktree the agent can write and that is removed after the run.
    if let Some(db) = std::env::var_os("WARDEN_AUDIT_DB").filter(|d| !d.is_empty()) {
        return PathBuf::from(db);
    }
    let configured = Path::new(&settings.path);
    if configured.is_absolute() {
        configured.to_path_buf()
    } else {
        root.join(configured)
    }
}

/// The staging file beside the audit log (events not yet folded into it), created empty when
/// the log exists and it does not, so that a sandbox can mount it read-only: an agent must
/// not be able to create it with forged events either.
pub fn staging_path_for_protection(db: &Path) -> PathBuf {
    let staged = warden_audit::staging::staging_path(db);
    if db.exists() && !staged.exists() {
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&staged);
    }
    staged
}

/// Store options from the policy's `[audit]` section.
pub fn store_options(settings: &AuditSettings, redactor: Arc<dyn Redactor>) -> StoreOptions {
    StoreOptions {
        busy_timeout: Duration::from_millis(settings.busy_timeout_ms),
        result_max_bytes: settings.max_result_bytes,
        create_dirs: true,
        redactor,
        ..StoreOptions::default()
    }
}

/// Open the store for writing (staged appends, see `StoreOptions::staged`).
pub fn open_for_append(
    root: &Path,
    settings: &AuditSettings,
    redactor: Arc<dyn Redactor>,
) -> Result<SqliteStore> {
    let path = store_path(root, settings);
    // Appends and session flags go to the staging file beside the log (no SQLite on a hook's
    // common path); every reader folds it into SQLite first.
    let mut opts = store_options(settings, redactor);
    opts.staged = true;
    SqliteStore::open(&path, opts)
        .with_context(|| format!("cannot open the audit log {}", path.display()))
}

/// Open the store for reading (never creates it).
pub fn open_for_reading(root: &Path, settings: &AuditSettings) -> Result<SqliteStore> {
    let path = store_path(root, settings);
    if !path.exists() {
        anyhow::bail!(
            "no audit log at {} yet: it is created by the first hook call",
            path.display()
        );
    }
    let mut opts = store_options(settings, Arc::new(warden_audit::PassThrough));
    opts.read_only = true;
    opts.create_dirs = false;
    SqliteStore::open(&path, opts)
        .with_context(|| format!("cannot open the audit log {}", path.display()))
}

pub fn event_kind(event: HookEvent) -> EventKind {
    EventKind::from_name(event.name())
}

/// The audit session a hook call belongs to. Under `warden run` it is the run's id, so the
/// run's events, its taint state and its approvals are one session (`warden log show RUN`)
/// whatever sessions the agent opens inside it; otherwise the agent's own session id.
pub fn session_key(input: &HookInput) -> String {
    if let Some(run) = std::env::var("WARDEN_RUN_ID")
        .ok()
        .filter(|r| !r.is_empty())
    {
        return run;
    }
    input
        .session_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-session".into())
}

/// The audit event for a hook call, before the decision is known.
pub fn new_event(input: &HookInput, event: HookEvent, cwd: &Path) -> NewEvent {
    let session = session_key(input);
    let mut ev = NewEvent::new(session.clone(), CLAUDE_CODE, event_kind(event));
    ev.cwd = cwd.to_string_lossy().into_owned();
    ev.tool = input.tool_name.clone();
    ev.tool_use_id = input.tool_use_id.clone();
    ev.input = match event {
        HookEvent::UserPromptSubmit => Value::String(input.prompt.clone().unwrap_or_default()),
        _ => input.tool_input.clone().unwrap_or(Value::Null),
    };
    let mut extra = input.rest.clone();
    if let Some(mode) = &input.permission_mode {
        extra.insert("permission_mode".into(), Value::String(mode.clone()));
    }
    if let Some(t) = &input.transcript_path {
        extra.insert("transcript_path".into(), Value::String(t.clone()));
    }
    if let Some(agent_session) = input.session_id.as_ref().filter(|s| **s != session) {
        extra.insert(
            "agent_session_id".into(),
            Value::String(agent_session.clone()),
        );
    }
    ev.extra = Value::Object(extra);
    ev
}

/// The text of a tool result, as the model sees it.
pub fn tool_result_text(tool: Option<&str>, response: &Value) -> String {
    match (tool, response) {
        (_, Value::String(s)) => s.clone(),
        (Some("Bash"), v) => {
            let out = v.get("stdout").and_then(Value::as_str).unwrap_or_default();
            let err = v.get("stderr").and_then(Value::as_str).unwrap_or_default();
            if err.is_empty() {
                out.to_string()
            } else {
                format!("{out}\n[stderr]\n{err}")
            }
        }
        (Some("Read"), v) => v
            .pointer("/file/content")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        (_, v) => v.to_string(),
    }
}

pub fn audit_decision(d: warden_policy::Decision) -> warden_audit::Decision {
    match d {
        warden_policy::Decision::Allow => warden_audit::Decision::Allow,
        warden_policy::Decision::Ask => warden_audit::Decision::Ask,
        warden_policy::Decision::Deny => warden_audit::Decision::Deny,
    }
}
