//! Per-session guard state, persisted by the caller between hook calls.

use serde::{Deserialize, Serialize};

use crate::error::GuardError;
use crate::sources::TaintSource;

/// Longest task text kept in the state, in bytes; the state is rewritten on every hook
/// call, so it stays small.
pub const TASK_MAX_BYTES: usize = 4096;

/// When and how a session first took in untrusted content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaintRecord {
    /// Where the content came from.
    pub source: TaintSource,
    /// Seconds since the Unix epoch, as the caller's clock says.
    pub at_unix: u64,
    /// The tool call whose result tainted the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use_id: Option<String>,
}

/// What the guard remembers about one session. Serializes to a small JSON object; fields
/// at their default are omitted, and unknown fields are ignored on read so that an older
/// binary can read a newer state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// The first taint; later ones only bump `taint_events` (the first source is the one
    /// a person needs to look at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tainted: Option<TaintRecord>,
    /// How many tool results tainted the session.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub taint_events: u32,
    /// The session has seen a secret in a tool result (set by the secret scanner's hook).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saw_secret: bool,
    /// What the session is for (`--task` or the first prompt), truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Declared scope: globs over project-relative paths the task may write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// Why the session was halted, once it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl SessionState {
    /// Whether the session has taken in untrusted content.
    pub fn is_tainted(&self) -> bool {
        self.tainted.is_some()
    }

    /// Records a taint. Returns `true` when this is the session's first.
    pub fn taint(
        &mut self,
        source: TaintSource,
        at_unix: u64,
        tool_use_id: Option<String>,
    ) -> bool {
        self.taint_events = self.taint_events.saturating_add(1);
        if self.tainted.is_some() {
            return false;
        }
        self.tainted = Some(TaintRecord {
            source,
            at_unix,
            tool_use_id,
        });
        true
    }

    /// Sets the task text (truncated to [`TASK_MAX_BYTES`] on a character boundary) and
    /// the declared scope.
    pub fn set_task(&mut self, task: &str, scope: Vec<String>) {
        let mut end = task.len().min(TASK_MAX_BYTES);
        while !task.is_char_boundary(end) {
            end -= 1;
        }
        self.task = Some(task[..end].to_string());
        self.scope = scope;
    }

    /// Halts the session; the first reason wins.
    pub fn halt(&mut self, reason: impl Into<String>) {
        if self.halted.is_none() {
            self.halted = Some(reason.into());
        }
    }

    /// The state as compact JSON.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and booleans: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Reads a state written by [`SessionState::to_json`]. A caller that cannot read its
    /// stored state must fail closed (deny), not start from an empty one.
    pub fn from_json(s: &str) -> Result<Self, GuardError> {
        Ok(serde_json::from_str(s)?)
    }
}
