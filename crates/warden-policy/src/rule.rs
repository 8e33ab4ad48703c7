//! Claude Code's permission rule syntax: `Tool`, `Tool(specifier)`, `mcp__server__tool`.

use crate::paths::{Anchors, PathPattern};
use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// Which list a rule sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleList {
    Deny,
    Ask,
    Allow,
}

impl fmt::Display for RuleList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleList::Deny => "deny",
            RuleList::Ask => "ask",
            RuleList::Allow => "allow",
        })
    }
}

/// Where a rule was written, so a decision can point at the line that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    pub layer: crate::config::Layer,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file.display(), self.line)
        } else {
            write!(f, "{}", self.file.display())
        }
    }
}

/// A rule's text split into tool and specifier, before it is compiled against a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSyntax {
    pub tool: String,
    pub specifier: Option<String>,
}

/// Why a rule's text is not a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at column {column})")]
pub struct RuleSyntaxError {
    pub message: String,
    /// 1-based column within the rule text.
    pub column: usize,
}

impl RuleSyntax {
    /// Split `Tool(specifier)`; `Tool` alone and `mcp__server__tool` are accepted too.
    pub fn parse(text: &str) -> Result<RuleSyntax, RuleSyntaxError> {
        let text = text.trim();
        let name_end = text.find('(').unwrap_or(text.len());
        let tool = &text[..name_end];
        if tool.is_empty() {
            return Err(RuleSyntaxError {
                message: "a rule starts with a tool name".into(),
                column: 1,
            });
        }
        if let Some(bad) = tool.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(RuleSyntaxError {
                message: format!(
                    "unexpected {:?} in tool name",
                    &tool[bad..].chars().next().unwrap_or(' ')
                ),
                column: bad + 1,
            });
        }
        if name_end == text.len() {
            return Ok(RuleSyntax {
                tool: tool.to_string(),
                specifier: None,
            });
        }
        if !text.ends_with(')') {
            return Err(RuleSyntaxError {
                message: "the specifier is not closed with ')'".into(),
                column: text.len(),
            });
        }
        let specifier = &text[name_end + 1..text.len() - 1];
        if specifier.trim().is_empty() {
            return Err(RuleSyntaxError {
                message: "empty specifier: write the bare tool name to match every call".into(),
                column: name_end + 2,
            });
        }
        Ok(RuleSyntax {
            tool: tool.to_string(),
            specifier: Some(specifier.to_string()),
        })
    }
}

/// What a compiled rule applies to.
#[derive(Debug, Clone)]
pub enum RuleTarget {
    /// Every call of one tool (`Bash`, `WebSearch`, `Bash(*)`).
    WholeTool(String),
    /// `Bash(pattern)`.
    Command(crate::bash::CommandRule),
    /// `Read(pattern)`: Read, Glob, Grep, LS.
    ReadPath(PathPattern),
    /// `Edit(pattern)` / `Write(pattern)`: every tool that changes a file.
    ModifyPath(PathPattern),
    /// `WebFetch(domain:example.com)`; `*.example.com` covers subdomains.
    FetchDomain(String),
    /// `mcp__server` or `mcp__server__*` (all tools of a server) or `mcp__server__tool`.
    Mcp {
        server: String,
        tool: Option<String>,
    },
    /// A rule for a tool with a specifier warden cannot interpret; it never matches, and
    /// `warden policy lint` says so.
    Uninterpreted { tool: String, specifier: String },
}

/// One rule, compiled and with its origin.
#[derive(Debug, Clone)]
pub struct Rule {
    pub text: String,
    pub list: RuleList,
    pub target: RuleTarget,
    pub origin: Origin,
}

/// Tools whose rules take a path specifier, by the kind of access.
pub(crate) const READ_TOOLS: &[&str] = &["Read", "Glob", "Grep", "LS"];
pub(crate) const MODIFY_TOOLS: &[&str] = &["Edit", "Write", "MultiEdit", "NotebookEdit"];

/// Tool names warden knows, for lint's "never matches" check.
pub const KNOWN_TOOLS: &[&str] = &[
    "Bash",
    "Read",
    "Glob",
    "Grep",
    "LS",
    "Edit",
    "Write",
    "MultiEdit",
    "NotebookEdit",
    "WebFetch",
    "WebSearch",
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
    "Skill",
    "SlashCommand",
    "ListMcpResourcesTool",
    "ReadMcpResourceTool",
    "EnterWorktree",
    "ExitWorktree",
    "Workflow",
];

/// A rule that parses but cannot be compiled (for example, a bad glob).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RuleCompileError(pub String);

impl Rule {
    /// Parse and compile one rule.
    pub fn compile(
        text: &str,
        list: RuleList,
        origin: Origin,
        anchors: &Anchors,
    ) -> Result<Rule, RuleCompileError> {
        let syntax = RuleSyntax::parse(text).map_err(|e| RuleCompileError(e.to_string()))?;
        let target = compile_target(&syntax, anchors)?;
        Ok(Rule {
            text: text.trim().to_string(),
            list,
            target,
            origin,
        })
    }
}

fn compile_target(syntax: &RuleSyntax, anchors: &Anchors) -> Result<RuleTarget, RuleCompileError> {
    let tool = syntax.tool.as_str();
    if let Some(rest) = tool.strip_prefix("mcp__") {
        let (server, tool_name) = match rest.split_once("__") {
            Some((server, "*")) => (server, None),
            Some((server, name)) => (server, Some(name.to_string())),
            None => (rest, None),
        };
        if server.is_empty() {
            return Err(RuleCompileError(
                "an MCP rule names a server: mcp__server__tool".into(),
            ));
        }
        return Ok(RuleTarget::Mcp {
            server: server.to_string(),
            tool: tool_name,
        });
    }
    let Some(spec) = syntax.specifier.as_deref() else {
        return Ok(RuleTarget::WholeTool(tool.to_string()));
    };
    let spec = spec.trim();
    if spec == "*" {
        return Ok(RuleTarget::WholeTool(tool.to_string()));
    }
    let path = |spec: &str| {
        PathPattern::new(spec, anchors)
            .map_err(|e| RuleCompileError(format!("bad path pattern: {e}")))
    };
    Ok(match tool {
        "Bash" => RuleTarget::Command(crate::bash::CommandRule::parse(spec)),
        t if READ_TOOLS.contains(&t) => RuleTarget::ReadPath(path(spec)?),
        t if MODIFY_TOOLS.contains(&t) => RuleTarget::ModifyPath(path(spec)?),
        "WebFetch" => match spec.strip_prefix("domain:") {
            Some(domain) if !domain.trim().is_empty() => {
                RuleTarget::FetchDomain(domain.trim().to_ascii_lowercase())
            }
            _ => {
                return Err(RuleCompileError(
                    "WebFetch rules take domain:HOST, e.g. WebFetch(domain:example.com)".into(),
                ))
            }
        },
        other => RuleTarget::Uninterpreted {
            tool: other.to_string(),
            specifier: spec.to_string(),
        },
    })
}

/// Whether `host` is covered by a `domain:` specifier.
pub(crate) fn domain_matches(rule: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match rule.strip_prefix("*.") {
        Some(base) => host == base || host.ends_with(&format!(".{base}")),
        None => host == rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(
            RuleSyntax::parse("Bash(npm test*)").unwrap(),
            RuleSyntax {
                tool: "Bash".into(),
                specifier: Some("npm test*".into())
            }
        );
        assert_eq!(RuleSyntax::parse("WebSearch").unwrap().specifier, None);
        assert!(RuleSyntax::parse("Bash(").is_err());
        assert!(RuleSyntax::parse("Bash()").is_err());
        assert!(RuleSyntax::parse("(x)").is_err());
        assert_eq!(RuleSyntax::parse("Ba sh(x)").unwrap_err().column, 3);
    }

    #[test]
    fn domains() {
        assert!(domain_matches("example.com", "EXAMPLE.com"));
        assert!(!domain_matches("example.com", "api.example.com"));
        assert!(domain_matches("*.example.com", "api.example.com"));
        assert!(!domain_matches("*.example.com", "evilexample.com"));
    }
}
