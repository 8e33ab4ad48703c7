//! Claude Code's permission rule syntax: `Tool`, `Tool(specifier)`, `mcp__server__tool`.

use crate::paths::{Anchors, PathPattern, PatternBase};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

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
    /// Shared by every rule of the file.
    #[serde(serialize_with = "serialize_path")]
    pub file: Arc<Path>,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    pub layer: crate::config::Layer,
}

fn serialize_path<S: serde::Serializer>(path: &Arc<Path>, s: S) -> Result<S::Ok, S::Error> {
    path.as_ref().serialize(s)
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
        let (tool, specifier) = split_rule(text)?;
        Ok(RuleSyntax {
            tool: tool.to_string(),
            specifier: specifier.map(str::to_string),
        })
    }
}

/// [`RuleSyntax::parse`] without copying: the tool and the specifier as slices of `text`.
fn split_rule(text: &str) -> Result<(&str, Option<&str>), RuleSyntaxError> {
    let text = text.trim();
    let name_end = text.find('(').unwrap_or(text.len());
    let tool = &text[..name_end];
    if tool.is_empty() {
        return Err(RuleSyntaxError {
            message: "a rule starts with a tool name".into(),
            column: 1,
        });
    }
    if let Some(bad) = tool
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
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
        return Ok((tool, None));
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
    Ok((tool, Some(specifier)))
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
    /// The rule as written (trimmed), shared with the reasons it gives.
    pub text: Arc<str>,
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
        Rule::compile_with(text, list, origin, &Arc::new(PatternBase::of(anchors)))
    }

    /// [`Rule::compile`] with path patterns made absolute against a base shared with the
    /// policy's other patterns.
    pub fn compile_with(
        text: &str,
        list: RuleList,
        origin: Origin,
        base: &Arc<PatternBase>,
    ) -> Result<Rule, RuleCompileError> {
        let (tool, specifier) = split_rule(text).map_err(|e| RuleCompileError(e.to_string()))?;
        let target = compile_target(tool, specifier, base)?;
        Ok(Rule {
            text: Arc::from(text.trim()),
            list,
            target,
            origin,
        })
    }
}

fn compile_target(
    tool: &str,
    specifier: Option<&str>,
    base: &Arc<PatternBase>,
) -> Result<RuleTarget, RuleCompileError> {
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
    let Some(spec) = specifier else {
        return Ok(RuleTarget::WholeTool(tool.to_string()));
    };
    let spec = spec.trim();
    if spec == "*" {
        return Ok(RuleTarget::WholeTool(tool.to_string()));
    }
    let path = |spec: &str| {
        PathPattern::with_base(Cow::Owned(spec.to_string()), base)
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
    // `rule` is lower-cased when the policy loads; `host` is compared without case, in place.
    let host = host.trim_end_matches('.');
    match rule.strip_prefix("*.") {
        Some(base) => {
            host.eq_ignore_ascii_case(base)
                || (host.len() > base.len()
                    && host.is_char_boundary(host.len() - base.len())
                    && host[host.len() - base.len()..].eq_ignore_ascii_case(base)
                    && host.as_bytes()[host.len() - base.len() - 1] == b'.')
        }
        None => host.eq_ignore_ascii_case(rule),
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
        assert!(domain_matches("*.example.com", "API.Example.COM."));
        assert!(!domain_matches("*.example.com", ".example.com.x"));
        assert!(!domain_matches("*.é.com", "aé.com"));
    }

    proptest::proptest! {
        /// The comparison in place agrees with lower-casing the host and testing the suffix.
        #[test]
        fn domain_matching_agrees_with_lowercased_suffix(
            rule in "(\\*\\.)?[a-cé]{1,3}(\\.[a-c]{1,2})?",
            host in "[a-cA-Cé.]{0,9}",
        ) {
            let rule = rule.to_ascii_lowercase();
            let lower = host.trim_end_matches('.').to_ascii_lowercase();
            let expected = match rule.strip_prefix("*.") {
                Some(base) => lower == base || lower.ends_with(&format!(".{base}")),
                None => lower == rule,
            };
            proptest::prop_assert_eq!(domain_matches(&rule, &host), expected, "{} {}", rule, host);
        }
    }
}
