//! The typed action an agent asks to perform, independent of any agent's wire format.

use serde::Serialize;
use std::path::PathBuf;

/// One tool call, normalized. Adapters (the Claude Code hook, `warden check`) build these;
/// the engine decides on them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Reading a file or listing / searching a directory (`Read`, `Glob`, `Grep`, `LS`).
    Read { tool: String, path: PathBuf },
    /// Creating or replacing a file wholesale (`Write`).
    Write {
        tool: String,
        path: PathBuf,
        content: String,
    },
    /// Changing part of a file (`Edit`, `MultiEdit`, `NotebookEdit`). `new_text` holds every
    /// replacement text, joined, so scanners see all of it.
    Edit {
        tool: String,
        path: PathBuf,
        new_text: String,
    },
    /// A shell command (`Bash`).
    Exec { command: String },
    /// Fetching a URL (`WebFetch`).
    Fetch { url: String },
    /// A web search (`WebSearch`).
    WebSearch { query: String },
    /// A tool served by an MCP server (`mcp__server__tool`).
    Mcp {
        server: String,
        tool: String,
        input: serde_json::Value,
    },
    /// A tool the agent offers that warden knows and that touches nothing by itself
    /// (planning, todo lists, spawning a sub-agent whose own calls are hooked too).
    Inert { tool: String },
    /// A tool warden does not know. The policy's `defaults.unknown_tool` decides it.
    Unknown {
        tool: String,
        input: serde_json::Value,
    },
}

impl Action {
    /// The agent-facing tool name this action came from.
    pub fn tool_name(&self) -> &str {
        match self {
            Action::Read { tool, .. }
            | Action::Write { tool, .. }
            | Action::Edit { tool, .. }
            | Action::Inert { tool }
            | Action::Unknown { tool, .. } => tool,
            Action::Exec { .. } => "Bash",
            Action::Fetch { .. } => "WebFetch",
            Action::WebSearch { .. } => "WebSearch",
            Action::Mcp { tool, .. } => tool,
        }
    }

    /// The file this action reads or changes, if it is a file action.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Action::Read { path, .. } | Action::Write { path, .. } | Action::Edit { path, .. } => {
                Some(path)
            }
            _ => None,
        }
    }

    /// Whether this action modifies a file through a file tool.
    pub fn is_file_write(&self) -> bool {
        matches!(self, Action::Write { .. } | Action::Edit { .. })
    }
}

/// Tool names the engine treats as inert: they change nothing outside the agent itself.
pub const INERT_TOOLS: &[&str] = &[
    "Task",
    "Agent",
    "TodoWrite",
    "TodoRead",
    "ExitPlanMode",
    "EnterPlanMode",
    "AskUserQuestion",
    "BashOutput",
    "KillShell",
    "KillBash",
    "ToolSearch",
    "ListMcpResourcesTool",
    "Skill",
    "SlashCommand",
];
