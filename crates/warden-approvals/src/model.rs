//! The records the store keeps and the values the hook gets back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hash::action_hash;
use crate::ApprovalError;

/// The default time a request waits for a person (issue: 10 minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What the hook asks a person to approve.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub session_id: String,
    pub task: Option<String>,
    /// The agent's tool name (`Bash`, `Edit`, `Write`, an MCP tool, ...).
    pub tool: String,
    /// The normalized tool input; the approval is bound to exactly this.
    pub action: Value,
    /// Why approval is needed: the rule and the reasons that made it "ask".
    pub reason: String,
    /// A unified diff for file changes (see [`crate::diff`]).
    pub diff_preview: Option<String>,
    /// How long the request stays open; [`crate::request_and_wait`] sets it
    /// from its own timeout.
    pub expires_in: Duration,
}

impl NewRequest {
    pub fn new(
        session_id: impl Into<String>,
        tool: impl Into<String>,
        action: Value,
        reason: impl Into<String>,
    ) -> Self {
        NewRequest {
            session_id: session_id.into(),
            task: None,
            tool: tool.into(),
            action,
            reason: reason.into(),
            diff_preview: None,
            expires_in: DEFAULT_TIMEOUT,
        }
    }

    pub fn with_task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    pub fn with_diff_preview(mut self, diff: Option<String>) -> Self {
        self.diff_preview = diff;
        self
    }

    /// The hash that binds an approval or a session rule to this action.
    pub fn action_hash(&self) -> String {
        action_hash(&self.tool, &self.action, &self.session_id)
    }

    pub(crate) fn validate(&self) -> Result<(), ApprovalError> {
        if self.session_id.trim().is_empty() {
            return Err(ApprovalError::Invalid("the session id is empty".into()));
        }
        if self.tool.trim().is_empty() {
            return Err(ApprovalError::Invalid("the tool name is empty".into()));
        }
        if self.expires_in.is_zero() {
            return Err(ApprovalError::Invalid("the timeout is zero".into()));
        }
        Ok(())
    }
}

/// How far an approval reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// This one request only.
    ThisAction,
    /// This request, and the same action (same tool, same normalized input)
    /// again in the same session: a [`ScopedRule`] is stored.
    SameForSession,
}

impl Scope {
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            Scope::ThisAction => "action",
            Scope::SameForSession => "session",
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved {
        by: String,
        reason: Option<String>,
        scope: Scope,
    },
    Denied {
        by: String,
        reason: String,
    },
    /// Nobody decided before the request expired; the hook denies.
    TimedOut,
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved { .. } => "approved",
            Status::Denied { .. } => "denied",
            Status::TimedOut => "timed_out",
        }
    }

    pub fn is_pending(&self) -> bool {
        matches!(self, Status::Pending)
    }
}

/// A stored approval request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// 12 lower-case base32 characters.
    pub id: String,
    pub session_id: String,
    pub task: Option<String>,
    pub tool: String,
    pub action: Value,
    /// SHA-256 (hex) over the canonical (tool, normalized input, session).
    pub action_hash: String,
    pub reason: String,
    pub diff_preview: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: Status,
    pub decided_at: Option<DateTime<Utc>>,
    /// The session rule this approval created, if it was session-wide.
    pub rule_id: Option<String>,
}

/// A reviewer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve {
        by: String,
        reason: Option<String>,
        scope: Scope,
    },
    /// A denial always carries a reason: the agent reads it.
    Deny { by: String, reason: String },
}

impl Decision {
    pub(crate) fn validate(&self) -> Result<(), ApprovalError> {
        match self {
            Decision::Approve { by, .. } if by.trim().is_empty() => {
                Err(ApprovalError::Invalid("the reviewer name is empty".into()))
            }
            Decision::Deny { by, .. } if by.trim().is_empty() => {
                Err(ApprovalError::Invalid("the reviewer name is empty".into()))
            }
            Decision::Deny { reason, .. } if reason.trim().is_empty() => Err(
                ApprovalError::Invalid("a denial needs a reason (the agent is told why)".into()),
            ),
            _ => Ok(()),
        }
    }
}

/// "Allow the same for this session": the exact action (tool + normalized
/// input) is allowed again in this one session without asking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopedRule {
    pub id: String,
    pub session_id: String,
    pub tool: String,
    pub action: Value,
    pub action_hash: String,
    pub created_by: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The request whose approval created the rule.
    pub from_request: String,
}

/// What [`crate::ApprovalStore::decide`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// The request, now decided.
    pub request: ApprovalRequest,
    /// The session rule created by a session-wide approval: append it to
    /// the audit log.
    pub rule: Option<ScopedRule>,
    /// Other pending requests for the very same action in the same session
    /// that the new rule approved at once.
    pub also_approved: Vec<String>,
}

/// What the waiting hook gets.
// One value per hook call, moved once: boxing the request would only make
// matching on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Approved {
        /// `None` when an existing session rule allowed the action at once.
        request: Option<ApprovalRequest>,
        by: String,
        reason: Option<String>,
        scope: Scope,
        /// The session rule that allowed it, or that this approval created.
        rule: Option<ScopedRule>,
    },
    Denied {
        request: ApprovalRequest,
        by: String,
        reason: String,
    },
    TimedOut {
        request: ApprovalRequest,
        waited: Duration,
    },
}

impl Outcome {
    pub fn is_approved(&self) -> bool {
        matches!(self, Outcome::Approved { .. })
    }

    /// The id of the request that was decided, if one was created.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Outcome::Approved { request, .. } => request.as_ref().map(|r| r.id.as_str()),
            Outcome::Denied { request, .. } | Outcome::TimedOut { request, .. } => {
                Some(&request.id)
            }
        }
    }

    /// A one-line reason for the agent (the hook's
    /// `permissionDecisionReason`).
    pub fn message(&self) -> String {
        match self {
            Outcome::Approved {
                request: None,
                by,
                rule: Some(rule),
                ..
            } => format!(
                "allowed by session rule {} (approved by {by} for this session)",
                rule.id
            ),
            Outcome::Approved {
                request,
                by,
                reason,
                ..
            } => {
                let id = request.as_ref().map(|r| r.id.as_str()).unwrap_or("-");
                match reason {
                    Some(r) if !r.trim().is_empty() => {
                        format!("approved by {by} (request {id}): {r}")
                    }
                    _ => format!("approved by {by} (request {id})"),
                }
            }
            Outcome::Denied {
                request,
                by,
                reason,
            } => format!("denied by {by} (request {}): {reason}", request.id),
            Outcome::TimedOut { request, waited } => format!(
                "approval request {} timed out after {}s with no decision; denied",
                request.id,
                waited.as_secs()
            ),
        }
    }
}
