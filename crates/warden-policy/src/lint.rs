//! `warden policy lint`: syntax errors with line and caret, rules that can never match, and
//! rules that never take effect because a stronger rule covers them.

use crate::config::{load_file, ConfigError, Layer, LoadedFile};
use crate::rule::{RuleList, RuleSyntax, KNOWN_TOOLS};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a policy file.
#[derive(Debug, Clone, Serialize)]
pub struct LintFinding {
    pub severity: Severity,
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending line and a caret under the column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

impl LintFinding {
    fn at(
        severity: Severity,
        file: &Path,
        text: &str,
        line: usize,
        column: usize,
        message: String,
    ) -> Self {
        let snippet = (line > 0).then(|| caret(text, line, column)).flatten();
        LintFinding {
            severity,
            file: file.to_path_buf(),
            line,
            column,
            message,
            snippet,
        }
    }
}

fn caret(text: &str, line: usize, column: usize) -> Option<String> {
    let source = text.lines().nth(line - 1)?;
    let pad: String = source
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    Some(format!("{source}\n{pad}^"))
}

/// Lint policy files given by path.
pub fn lint_paths(paths: &[(PathBuf, Layer)]) -> Vec<LintFinding> {
    let mut findings = Vec::new();
    let mut loaded = Vec::new();
    for (path, layer) in paths {
        match load_file(path, *layer) {
            Ok(file) => loaded.push(file),
            Err(err) => findings.push(config_error_finding(path, &err)),
        }
    }
    findings.extend(lint_loaded(&loaded));
    findings
}

fn config_error_finding(path: &Path, err: &ConfigError) -> LintFinding {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (line, column) = err.position().unwrap_or((0, 0));
    let message = match err {
        ConfigError::Toml { message, .. } => {
            message.lines().last().unwrap_or(message).trim().to_string()
        }
        other => other.to_string(),
    };
    LintFinding::at(Severity::Error, path, &text, line, column, message)
}

struct Entry<'a> {
    file: &'a LoadedFile,
    list: RuleList,
    text: &'a str,
    line: usize,
    column: usize,
    syntax: Option<RuleSyntax>,
}

/// Lint files already read.
pub fn lint_loaded(files: &[LoadedFile]) -> Vec<LintFinding> {
    let mut findings = Vec::new();
    let mut entries = Vec::new();
    for file in files {
        let p = &file.policy.permissions;
        let quoted = crate::config::QuotedLines::of(&file.text);
        for (list, rules) in [
            (RuleList::Deny, &p.deny),
            (RuleList::Ask, &p.ask),
            (RuleList::Allow, &p.allow),
        ] {
            let mut seen = std::collections::HashMap::new();
            for text in rules {
                let nth: &mut usize = seen.entry(text.as_str()).or_insert(0);
                let line = quoted.line(&file.text, text, *nth);
                *nth += 1;
                let column = file
                    .text
                    .lines()
                    .nth(line.saturating_sub(1))
                    .and_then(|l| l.find(text.as_str()))
                    .map_or(1, |c| c + 1);
                let syntax = match RuleSyntax::parse(text) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        findings.push(LintFinding::at(
                            Severity::Error,
                            &file.path,
                            &file.text,
                            line,
                            column + e.column - 1,
                            format!("rule {text:?}: {}", e.message),
                        ));
                        None
                    }
                };
                entries.push(Entry {
                    file,
                    list,
                    text,
                    line,
                    column,
                    syntax,
                });
            }
        }
        for hook in &file.hooks {
            if hook.shorthand {
                findings.push(LintFinding::at(
                    Severity::Warning,
                    &file.path,
                    &file.text,
                    crate::config::rule_line(&file.text, &hook.command, 0),
                    1,
                    format!("hook {} is a shorthand string: it means \"run `{}` on every {} event\"; Claude Code expects the full form ({{\"matcher\": \"*\", \"hooks\": [{{\"type\": \"command\", \"command\": ...}}]}}), and warden does not run it", hook.event, hook.command, hook.event),
                ));
            }
        }
    }
    for entry in &entries {
        let Some(syntax) = &entry.syntax else {
            continue;
        };
        let warn = |message: String| {
            LintFinding::at(
                Severity::Warning,
                &entry.file.path,
                &entry.file.text,
                entry.line,
                entry.column,
                message,
            )
        };
        if !syntax.tool.starts_with("mcp__") && !KNOWN_TOOLS.contains(&syntax.tool.as_str()) {
            let hint = KNOWN_TOOLS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&syntax.tool))
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            findings.push(warn(format!(
                "rule {:?} never matches: no tool is named {:?}{hint}",
                entry.text, syntax.tool
            )));
            continue;
        }
        if let Some(spec) = &syntax.specifier {
            let takes_spec = matches!(
                syntax.tool.as_str(),
                "Bash"
                    | "Read"
                    | "Glob"
                    | "Grep"
                    | "LS"
                    | "Edit"
                    | "Write"
                    | "MultiEdit"
                    | "NotebookEdit"
                    | "WebFetch"
            );
            if !takes_spec && spec.trim() != "*" {
                findings.push(warn(format!("rule {:?} never matches: warden does not interpret a specifier for {}; write the bare tool name", entry.text, syntax.tool)));
            }
            if syntax.tool == "WebFetch" && !spec.starts_with("domain:") {
                findings.push(warn(format!(
                    "rule {:?} never matches: WebFetch rules take domain:HOST",
                    entry.text
                )));
            }
        }
        for other in &entries {
            if std::ptr::eq(entry, other) {
                continue;
            }
            let Some(other_syntax) = &other.syntax else {
                continue;
            };
            let stronger = other.list < entry.list;
            let duplicate_before = other.list == entry.list
                && other.text == entry.text
                && (other.file.path != entry.file.path || other.line < entry.line);
            if (stronger || duplicate_before) && covers(other_syntax, syntax) {
                let why = if duplicate_before {
                    format!(
                        "rule {:?} repeats the same rule at {}:{}",
                        entry.text,
                        other.file.path.display(),
                        other.line
                    )
                } else {
                    format!(
                        "{} rule {:?} never takes effect: {} rule {:?} at {}:{} covers it ({} wins)",
                        entry.list, entry.text, other.list, other.text, other.file.path.display(), other.line, other.list
                    )
                };
                findings.push(warn(why));
                break;
            }
        }
    }
    findings.sort_by(|a, b| {
        (a.file.clone(), a.line, a.column).cmp(&(b.file.clone(), b.line, b.column))
    });
    findings
}

/// Whether every call `inner` matches is also matched by `outer` (conservative: false when unsure).
fn covers(outer: &RuleSyntax, inner: &RuleSyntax) -> bool {
    if outer.tool != inner.tool {
        return false;
    }
    let (Some(o), Some(i)) = (outer.specifier.as_deref(), inner.specifier.as_deref()) else {
        return outer.specifier.as_deref().is_none_or(|s| s.trim() == "*");
    };
    let (o, i) = (o.trim(), i.trim());
    if o == i || o == "*" {
        return true;
    }
    if outer.tool == "Bash" {
        let literal = i
            .trim_end_matches(":*")
            .split('*')
            .next()
            .unwrap_or(i)
            .trim_end();
        if let Some(prefix) = o.strip_suffix(":*") {
            return literal == prefix || literal.starts_with(&format!("{prefix} "));
        }
        if let Some(prefix) = o.strip_suffix('*') {
            return !prefix.contains('*') && literal.starts_with(prefix);
        }
        return false;
    }
    let norm = |s: &str| s.trim_start_matches("./").to_string();
    let (o, i) = (norm(o), norm(i));
    if let Some(dir) = o.strip_suffix("/**") {
        return !dir.contains(['*', '?', '[']) && (i == dir || i.starts_with(&format!("{dir}/")));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_text;

    fn lint(text: &str) -> Vec<LintFinding> {
        let file = parse_text(Path::new("warden.toml"), Layer::Project, text.to_string()).unwrap();
        lint_loaded(&[file])
    }

    #[test]
    fn reports_shadowed_and_never_matching_rules() {
        let findings = lint("[permissions]\ndeny = [\"Bash(npm*)\", \"Edit(./infra/**)\"]\nallow = [\n  \"Bash(npm test*)\",\n  \"Edit(./infra/main.tf)\",\n  \"Bsh(ls)\",\n  \"Task(foo)\",\n  \"Bash(\",\n]\n");
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("\"Bash(npm test*)\" never takes effect")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("\"Edit(./infra/main.tf)\" never takes effect")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("no tool is named \"Bsh\"")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("does not interpret a specifier for Task")),
            "{messages:?}"
        );
        let syntax = findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .unwrap();
        assert_eq!(syntax.line, 8);
        assert!(syntax.snippet.as_ref().unwrap().contains('^'));
    }

    #[test]
    fn clean_policy_has_no_findings() {
        assert!(
            lint("[permissions]\ndeny = [\"Bash(rm -rf*)\"]\nallow = [\"Bash(npm test*)\"]\n")
                .is_empty()
        );
    }
}
