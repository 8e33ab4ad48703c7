//! Claude Code's hook protocol: the JSON it sends on stdin and the JSON it honours on stdout.
//!
//! Parsing is lenient about fields warden does not need (new ones appear between versions) and
//! strict about the ones it does: a PreToolUse without a tool name, or a Bash call without a
//! command, cannot be decided and is denied.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use warden_policy::action::INERT_TOOLS;
use warden_policy::{Action, Decision};

/// The fields of a hook payload warden reads. Everything else stays in `rest` for the log.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HookInput {
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub transcript_path: Option<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub hook_event_name: Option<String>,
    #[serde(default)]
    pub tool_name: Option<String>,
    #[serde(default)]
    pub tool_input: Option<Value>,
    #[serde(default)]
    pub tool_response: Option<Value>,
    #[serde(default)]
    pub tool_use_id: Option<String>,
    #[serde(default)]
    pub permission_mode: Option<String>,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// The hook events warden understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookEvent {
    PreToolUse,
    PostToolUse,
    UserPromptSubmit,
    SessionStart,
    SessionEnd,
    Stop,
    SubagentStop,
    Notification,
    PreCompact,
}

impl HookEvent {
    pub fn parse(name: &str) -> Option<HookEvent> {
        Some(match name {
            "PreToolUse" => HookEvent::PreToolUse,
            "PostToolUse" => HookEvent::PostToolUse,
            "UserPromptSubmit" => HookEvent::UserPromptSubmit,
            "SessionStart" => HookEvent::SessionStart,
            "SessionEnd" => HookEvent::SessionEnd,
            "Stop" => HookEvent::Stop,
            "SubagentStop" => HookEvent::SubagentStop,
            "Notification" => HookEvent::Notification,
            "PreCompact" => HookEvent::PreCompact,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            HookEvent::PreToolUse => "PreToolUse",
            HookEvent::PostToolUse => "PostToolUse",
            HookEvent::UserPromptSubmit => "UserPromptSubmit",
            HookEvent::SessionStart => "SessionStart",
            HookEvent::SessionEnd => "SessionEnd",
            HookEvent::Stop => "Stop",
            HookEvent::SubagentStop => "SubagentStop",
            HookEvent::Notification => "Notification",
            HookEvent::PreCompact => "PreCompact",
        }
    }
}

/// Why a payload could not be turned into an action.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("the {tool} call has no {field:?} string in tool_input, so warden cannot tell what it would do")]
    MissingField { tool: String, field: &'static str },
}

fn string_field(tool: &str, input: &Value, field: &'static str) -> Result<String, AdapterError> {
    input
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| AdapterError::MissingField {
            tool: tool.to_string(),
            field,
        })
}

/// Map a Claude Code tool call to warden's action model.
pub fn action_from_tool(tool: &str, input: &Value) -> Result<Action, AdapterError> {
    let cwd_default = || ".".to_string();
    Ok(match tool {
        "Bash" => Action::Exec {
            command: string_field(tool, input, "command")?,
        },
        "Read" => Action::Read {
            tool: tool.into(),
            path: string_field(tool, input, "file_path")?.into(),
        },
        "NotebookRead" => Action::Read {
            tool: tool.into(),
            path: string_field(tool, input, "notebook_path")?.into(),
        },
        "LS" => Action::Read {
            tool: tool.into(),
            path: string_field(tool, input, "path")?.into(),
        },
        "Glob" | "Grep" => {
            let mut path = input
                .get("path")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(cwd_default);
            // An absolute glob pattern names where it reads by itself.
            if tool == "Glob" {
                if let Some(pattern) = input.get("pattern").and_then(Value::as_str) {
                    if pattern.starts_with('/') || pattern.starts_with('~') {
                        path = literal_prefix(pattern);
                    }
                }
            }
            Action::Read {
                tool: tool.into(),
                path: path.into(),
            }
        }
        "Write" => Action::Write {
            tool: tool.into(),
            path: string_field(tool, input, "file_path")?.into(),
            content: input
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        },
        "Edit" => Action::Edit {
            tool: tool.into(),
            path: string_field(tool, input, "file_path")?.into(),
            new_text: input
                .get("new_string")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        },
        "MultiEdit" => {
            let edits = input.get("edits").and_then(Value::as_array);
            let new_text = edits
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("new_string").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            Action::Edit {
                tool: tool.into(),
                path: string_field(tool, input, "file_path")?.into(),
                new_text,
            }
        }
        "NotebookEdit" => Action::Edit {
            tool: tool.into(),
            path: string_field(tool, input, "notebook_path")?.into(),
            new_text: input
                .get("new_source")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        },
        "WebFetch" => Action::Fetch {
            url: string_field(tool, input, "url")?,
        },
        "WebSearch" => Action::WebSearch {
            query: string_field(tool, input, "query")?,
        },
        t if t.starts_with("mcp__") => {
            let server = t
                .trim_start_matches("mcp__")
                .split("__")
                .next()
                .unwrap_or("")
                .to_string();
            Action::Mcp {
                server,
                tool: t.to_string(),
                input: input.clone(),
            }
        }
        t if INERT_TOOLS.contains(&t) => Action::Inert {
            tool: t.to_string(),
        },
        t => Action::Unknown {
            tool: t.to_string(),
            input: input.clone(),
        },
    })
}

fn literal_prefix(pattern: &str) -> String {
    let mut out = PathBuf::new();
    for part in pattern.split('/') {
        if part.contains(['*', '?', '[', '{']) {
            break;
        }
        out.push(if part.is_empty() { "/" } else { part });
    }
    out.to_string_lossy().into_owned()
}

/// The PreToolUse answer.
pub fn pre_tool_use_answer(decision: Decision, reason: &str, context: Option<&str>) -> Value {
    let mut specific = json!({
        "hookEventName": "PreToolUse",
        "permissionDecision": decision.as_str(),
        "permissionDecisionReason": reason,
    });
    if let Some(ctx) = context {
        specific["additionalContext"] = json!(ctx);
    }
    json!({ "hookSpecificOutput": specific })
}

/// A PostToolUse answer that adds context for the model and optionally replaces the output.
pub fn post_tool_use_answer(context: Option<&str>, updated_output: Option<Value>) -> Value {
    let mut specific = Map::new();
    specific.insert("hookEventName".into(), json!("PostToolUse"));
    if let Some(ctx) = context {
        specific.insert("additionalContext".into(), json!(ctx));
    }
    if let Some(out) = updated_output {
        specific.insert("updatedToolOutput".into(), out);
    }
    if specific.len() == 1 {
        return json!({});
    }
    json!({ "hookSpecificOutput": Value::Object(specific) })
}

/// Stop the whole session (drift halts, failures outside a tool call).
pub fn halt_answer(reason: &str) -> Value {
    json!({ "continue": false, "stopReason": reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_tools() {
        let a = action_from_tool("Bash", &json!({"command": "ls"})).unwrap();
        assert_eq!(
            a,
            Action::Exec {
                command: "ls".into()
            }
        );
        assert!(action_from_tool("Bash", &json!({})).is_err());
        let g = action_from_tool("Glob", &json!({"pattern": "/etc/ssh/*.key"})).unwrap();
        assert_eq!(g.path().unwrap(), std::path::Path::new("/etc/ssh"));
        let m = action_from_tool("mcp__github__create_issue", &json!({})).unwrap();
        assert!(matches!(m, Action::Mcp { ref server, .. } if server == "github"));
        assert!(matches!(
            action_from_tool("Zap", &json!({})).unwrap(),
            Action::Unknown { .. }
        ));
        assert!(matches!(
            action_from_tool("TodoWrite", &json!({})).unwrap(),
            Action::Inert { .. }
        ));
        let me = action_from_tool(
            "MultiEdit",
            &json!({"file_path": "a", "edits": [{"new_string": "x"}, {"new_string": "y"}]}),
        )
        .unwrap();
        assert!(matches!(me, Action::Edit { ref new_text, .. } if new_text == "x\ny"));
    }
}
