//! The event model: what a hook hands in ([`NewEvent`]) and what the log
//! gives back ([`StoredEvent`]), plus the redaction hook every text passes.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What happened. The names of the known kinds are stored as text, so a
/// newer writer's kinds survive in an older reader as [`EventKind::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    SessionStart,
    UserPrompt,
    PreToolUse,
    PostToolUse,
    SessionEnd,
    Stop,
    SubagentStop,
    Notification,
    /// A person (or a timeout) answered an "ask".
    Approval,
    /// The session was marked as having read untrusted content.
    Taint,
    /// Something alarming: injected instructions, drift, a gate failure.
    Incident,
    /// A gate (tests, secret scan of a diff, ...) ran.
    Gate,
    /// A network decision of the sandbox.
    Network,
    /// Any kind this build does not know; the name is kept as written.
    Other(String),
}

impl EventKind {
    /// The stored name of the kind.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::SessionStart => "SessionStart",
            EventKind::UserPrompt => "UserPrompt",
            EventKind::PreToolUse => "PreToolUse",
            EventKind::PostToolUse => "PostToolUse",
            EventKind::SessionEnd => "SessionEnd",
            EventKind::Stop => "Stop",
            EventKind::SubagentStop => "SubagentStop",
            EventKind::Notification => "Notification",
            EventKind::Approval => "Approval",
            EventKind::Taint => "Taint",
            EventKind::Incident => "Incident",
            EventKind::Gate => "Gate",
            EventKind::Network => "Network",
            EventKind::Other(name) => name,
        }
    }

    /// Parses a stored name; never fails (unknown names become `Other`).
    /// Claude Code's `UserPromptSubmit` is accepted as [`EventKind::UserPrompt`].
    pub fn from_name(name: &str) -> EventKind {
        match name {
            "SessionStart" => EventKind::SessionStart,
            "UserPrompt" | "UserPromptSubmit" => EventKind::UserPrompt,
            "PreToolUse" => EventKind::PreToolUse,
            "PostToolUse" => EventKind::PostToolUse,
            "SessionEnd" => EventKind::SessionEnd,
            "Stop" => EventKind::Stop,
            "SubagentStop" => EventKind::SubagentStop,
            "Notification" => EventKind::Notification,
            "Approval" => EventKind::Approval,
            "Taint" => EventKind::Taint,
            "Incident" => EventKind::Incident,
            "Gate" => EventKind::Gate,
            "Network" => EventKind::Network,
            other => EventKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(EventKind::from_name(&name))
    }
}

/// The decision recorded with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Ask,
    Deny,
}

impl Decision {
    /// The stored name: `allow`, `ask` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::Deny => "deny",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "allow" => Ok(Decision::Allow),
            "ask" => Ok(Decision::Ask),
            "deny" => Ok(Decision::Deny),
            other => Err(format!(
                "unknown decision {other:?} (expected allow, ask or deny)"
            )),
        }
    }
}

/// An event as a hook hands it to the log, before redaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub session_id: String,
    /// The agent that produced the event, e.g. `claude-code`.
    pub agent: String,
    pub kind: EventKind,
    pub cwd: String,
    pub tool: Option<String>,
    pub tool_use_id: Option<String>,
    /// The tool input, the prompt, or whatever the event is about.
    pub input: serde_json::Value,
    pub decision: Option<Decision>,
    /// The rule that decided, as written in the policy (with its location).
    pub rule: Option<String>,
    pub reasons: Vec<String>,
    /// How long the decision took, in microseconds.
    pub latency_us: Option<u64>,
    /// The tool's output as text (PostToolUse). Kept up to the configured
    /// size; its full length and SHA-256 are kept always.
    pub result: Option<String>,
    /// Everything else worth keeping, e.g. the payload fields nobody parsed.
    pub extra: serde_json::Value,
}

impl NewEvent {
    /// An event with only the required fields set; the rest empty.
    pub fn new(session_id: impl Into<String>, agent: impl Into<String>, kind: EventKind) -> Self {
        NewEvent {
            session_id: session_id.into(),
            agent: agent.into(),
            kind,
            cwd: String::new(),
            tool: None,
            tool_use_id: None,
            input: serde_json::Value::Null,
            decision: None,
            rule: None,
            reasons: Vec::new(),
            latency_us: None,
            result: None,
            extra: serde_json::Value::Null,
        }
    }
}

/// An event as stored: redacted, numbered, timed and chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Position in the log, 1-based and without gaps.
    pub seq: u64,
    /// Time of the append, microseconds since the Unix epoch (UTC).
    pub ts_us: i64,
    pub session_id: String,
    pub agent: String,
    pub kind: EventKind,
    pub cwd: String,
    pub tool: Option<String>,
    pub tool_use_id: Option<String>,
    pub input: serde_json::Value,
    pub decision: Option<Decision>,
    pub rule: Option<String>,
    pub reasons: Vec<String>,
    pub latency_us: Option<u64>,
    /// The kept prefix of the (redacted) result.
    pub result: Option<String>,
    /// Byte length of the whole redacted result.
    pub result_len: Option<u64>,
    /// SHA-256 (hex) of the whole redacted result.
    pub result_sha256: Option<String>,
    pub extra: serde_json::Value,
    /// Hash (hex) of the previous event, or the log's genesis value.
    pub prev_hash: String,
    /// Hash (hex) of this event; see [`crate::chain`].
    pub hash: String,
}

impl StoredEvent {
    /// True when only a prefix of the result was kept.
    pub fn result_truncated(&self) -> bool {
        match (&self.result, self.result_len) {
            (Some(r), Some(len)) => (r.len() as u64) < len,
            _ => false,
        }
    }

    /// The append time as RFC 3339 (UTC, microseconds).
    pub fn time_rfc3339(&self) -> String {
        crate::time_fmt::rfc3339_us(self.ts_us)
    }
}

/// Removes secrets from text before it is written.
///
/// Every text of an event passes through it: each string inside `input` and
/// `extra` (object keys included), the result, the rule, the reasons and the
/// working directory, and every session flag value. Identifiers (session id,
/// agent, kind, tool name, tool-use id) are not passed: they are chosen by
/// the agent's runtime, not by content.
pub trait Redactor: Send + Sync {
    /// Returns the text with secrets replaced; `Cow::Borrowed` when unchanged.
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str>;
}

/// A redactor that changes nothing; the default until a scanner is plugged in.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl Redactor for PassThrough {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        Cow::Borrowed(text)
    }
}

/// Redacts every string (and object key) of a JSON value.
pub(crate) fn redact_json(r: &dyn Redactor, v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(r.redact(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(|i| redact_json(r, i)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (r.redact(k).into_owned(), redact_json(r, v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
