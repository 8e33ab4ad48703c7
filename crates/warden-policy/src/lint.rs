//! `warden policy lint`: syntax errors with line and caret, rules that can never match, and
//! rules that never take effect because a stronger rule covers them.

use crate::config::{load_file, ConfigError, Layer, LoadedFile};
use crate::engine::Policy;
use crate::paths::{Anchors, PathPattern, PatternBase};
use crate::rule::{Origin, Rule, RuleList, RuleSyntax, KNOWN_TOOLS};
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    config_error_in(path, &text, err)
}

fn config_error_in(path: &Path, text: &str, err: &ConfigError) -> LintFinding {
    let (line, column) = err.position().unwrap_or((0, 0));
    let message = match err {
        ConfigError::Toml { message, .. } => {
            message.lines().last().unwrap_or(message).trim().to_string()
        }
        other => other.to_string(),
    };
    LintFinding::at(Severity::Error, path, text, line, column, message)
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
    let mut findings: Vec<LintFinding> = Vec::new();
    let mut entries = Vec::new();
    for file in files {
        let errors_before = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let p = &file.policy.permissions;
        let quoted = crate::config::QuotedLines::of(&file.text);
        // Rules and patterns are compiled as loading compiles them: what the loader refuses
        // is an error here. Patterns are checked against this file's directory as the root
        // (the root and the home are escaped in a glob, so they never make one invalid).
        let root = file.path.parent().unwrap_or(Path::new(""));
        let base = Arc::new(PatternBase::of(&Anchors::at_root(root, None)));
        let file_path: Arc<Path> = Arc::from(file.path.as_path());
        for (list, rules) in [
            (RuleList::Deny, &p.deny),
            (RuleList::Ask, &p.ask),
            (RuleList::Allow, &p.allow),
        ] {
            let mut seen = std::collections::HashMap::new();
            for text in rules {
                let nth: &mut usize = seen.entry(text.as_str()).or_insert(0);
                let (line, column) = locate(file, &quoted, text, *nth);
                *nth += 1;
                let syntax = match RuleSyntax::parse(text) {
                    Ok(s) => {
                        let origin = Origin {
                            file: Arc::clone(&file_path),
                            line,
                            layer: file.layer,
                        };
                        match Rule::compile_with(text, list, origin, &base) {
                            Ok(_) => Some(s),
                            Err(e) => {
                                // Point at the specifier, which is what was refused.
                                let at = text.find('(').map_or(0, |open| open + 1);
                                findings.push(LintFinding::at(
                                    Severity::Error,
                                    &file.path,
                                    &file.text,
                                    line,
                                    column + at,
                                    format!("rule {text:?}: {}", e.0),
                                ));
                                None
                            }
                        }
                    }
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
        findings.extend(pattern_errors(file, &quoted, &base));
        let errors_found = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
            > errors_before;
        // Whatever else the loader refuses in this file is an error too, even where it cannot
        // be placed: lint never passes a file the hook would fail to load (and so deny all).
        if !errors_found {
            if let Err(crate::engine::PolicyError::Config(err)) =
                Policy::from_files(root, None, vec![file.clone()])
            {
                findings.push(config_error_in(&file.path, &file.text, &err));
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

/// The line and column of the `nth` quoted occurrence of `value` in `file`; a value with
/// backslashes is also looked for as a basic string writes it (`\\`).
fn locate(
    file: &LoadedFile,
    quoted: &crate::config::QuotedLines<'_>,
    value: &str,
    nth: usize,
) -> (usize, usize) {
    let mut written = Cow::Borrowed(value);
    let mut line = quoted.line(&file.text, value, nth);
    if line == 0 && value.contains('\\') {
        written = Cow::Owned(value.replace('\\', "\\\\"));
        line = crate::config::rule_line(&file.text, &written, nth);
    }
    let column = file
        .text
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.find(&*written))
        .map_or(1, |c| c + 1);
    (line, column)
}

/// What a list of patterns is called, its texts as written, and the pattern loading makes of
/// each.
type PatternList<'a> = (&'a str, &'a [String], fn(&str) -> String);

/// The `[scope]` patterns, extra directories and audit path of `file` that the loader would
/// refuse, each at its line: they are compiled with [`PathPattern::with_base`], as the loader
/// compiles them.
fn pattern_errors(
    file: &LoadedFile,
    quoted: &crate::config::QuotedLines<'_>,
    base: &Arc<PatternBase>,
) -> Vec<LintFinding> {
    let p = &file.policy;
    let audit = [p.audit.path.clone()];
    // (what, the text written in the file, the pattern loading makes of it)
    let lists: [PatternList<'_>; 6] = [
        ("[scope] read pattern", &p.scope.read, str::to_string),
        ("[scope] write pattern", &p.scope.write, str::to_string),
        (
            "[scope] secret_files pattern",
            &p.scope.secret_files,
            str::to_string,
        ),
        (
            "[scope] allow_secret_files pattern",
            &p.scope.allow_secret_files,
            str::to_string,
        ),
        (
            "additional directory",
            &p.permissions.additional_directories,
            |dir| format!("{}/**", dir.trim_end_matches('/')),
        ),
        ("[audit] path", &audit, |path| {
            format!("./{}", path.trim_start_matches("./"))
        }),
    ];
    let mut findings = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (what, written, pattern_of) in lists {
        for text in written {
            let pattern = pattern_of(text);
            if !crate::paths::has_classes_alternations_or_escapes(&pattern) {
                continue;
            }
            let Err(e) = PathPattern::with_base(Cow::Owned(pattern), base) else {
                continue;
            };
            let nth: &mut usize = seen.entry(text.as_str()).or_insert(0);
            let (line, column) = locate(file, quoted, text, *nth);
            *nth += 1;
            findings.push(LintFinding::at(
                Severity::Error,
                &file.path,
                &file.text,
                line,
                column,
                format!("{what} {text:?}: {}", e.kind()),
            ));
        }
    }
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

    /// Whether loading `file` alone fails, and whether lint finds an error in it.
    fn load_and_lint(file: LoadedFile) -> (bool, Vec<LintFinding>) {
        let loads = Policy::from_files(Path::new("/project"), None, vec![file.clone()]).is_ok();
        let errors = lint_loaded(&[file])
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        (!loads, errors)
    }

    #[test]
    fn lint_reports_an_error_exactly_where_loading_fails() {
        // (file name, text, whether it is malformed)
        let cases: &[(&str, &str, bool)] = &[
            (
                "warden.toml",
                "[permissions]\nallow = [\"Read(./src/[x/**)\"]\n",
                true,
            ),
            (
                "warden.toml",
                "[permissions]\nask = [\"Grep(src/[z)\"]\n",
                true,
            ),
            (
                "warden.toml",
                "[permissions]\ndeny = [\"Edit(./infra/{a,b/**)\"]\n",
                true,
            ),
            (
                "warden.toml",
                "[permissions]\ndeny = [\"Write(./a\\\\)\"]\n",
                true,
            ),
            (
                "warden.toml",
                "[permissions]\nallow = [\"Glob(]x)\"]\n",
                false,
            ),
            (
                "warden.toml",
                "[permissions]\nallow = [\"WebFetch(example.com)\"]\n",
                true,
            ),
            (
                "warden.toml",
                "[permissions]\nallow = [\"WebFetch(domain: )\"]\n",
                true,
            ),
            ("warden.toml", "[permissions]\nallow = [\"mcp__\"]\n", true),
            (
                "warden.toml",
                "[permissions]\nallow = [\"mcp____tool\"]\n",
                true,
            ),
            ("warden.toml", "[permissions]\nallow = [\"Bash(\"]\n", true),
            ("warden.toml", "[permissions]\nallow = [\"(x)\"]\n", true),
            ("warden.toml", "[scope]\nread = [\"./[x/**\"]\n", true),
            ("warden.toml", "[scope]\nwrite = [\"./src/{a\"]\n", true),
            (
                "warden.toml",
                "[scope]\nsecret_files = [\"**/.secret[\"]\n",
                true,
            ),
            (
                "warden.toml",
                "[scope]\nallow_secret_files = [\".env.{test\"]\n",
                true,
            ),
            ("warden.toml", "[audit]\npath = \"logs/[x.db\"\n", true),
            (
                "warden.toml",
                "[permissions]\nadditionalDirectories = [\"/opt/[x\"]\n",
                true,
            ),
            (
                "settings.json",
                "{\"permissions\": {\n  \"additionalDirectories\": [\"/opt/{x\"]\n}}\n",
                true,
            ),
            (
                "settings.json",
                "{\"permissions\": {\n  \"allow\": [\"Read(./[x)\"]\n}}\n",
                true,
            ),
            // Well-formed: classes, alternations and escapes that parse, and specifiers
            // loading accepts.
            (
                "warden.toml",
                "[permissions]\nallow = [\"Read(./src/[ab]/**)\", \"Read(./src/\\\\[x/**)\", \"Edit({a,b}/**)\", \"WebFetch(*)\", \"WebFetch(domain:example.com)\", \"Bash(ls [x)\", \"mcp__server\", \"Task(x)\"]\n[scope]\nwrite = [\"./src/{a,b}/**\"]\nsecret_files = [\"**/[.]secret\"]\n[audit]\npath = \"logs/{a,b}.db\"\n",
                false,
            ),
            (
                "settings.json",
                "{\"permissions\": {\"additionalDirectories\": [\"/opt/[x]\"]}}\n",
                false,
            ),
        ];
        for (name, text, malformed) in cases {
            let file = parse_text(Path::new(name), Layer::Project, text.to_string())
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            let (load_fails, errors) = load_and_lint(file);
            assert_eq!(load_fails, *malformed, "loading {text}");
            assert_eq!(!errors.is_empty(), load_fails, "{text}: {errors:?}");
            for error in &errors {
                assert!(error.line > 0, "{text}: {error:?}");
                assert!(
                    error.snippet.as_ref().is_some_and(|s| s.contains('^')),
                    "{text}: {error:?}"
                );
            }
        }
    }

    #[test]
    fn a_bad_glob_is_an_error_at_its_specifier() {
        let findings =
            lint("[permissions]\nallow = [\n  \"Read(./src/**)\",\n  \"Read(./src/[x/**)\",\n]\n");
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{findings:?}");
        assert_eq!((errors[0].line, errors[0].column), (4, 9));
        assert!(errors[0]
            .message
            .starts_with("rule \"Read(./src/[x/**)\": bad path pattern"));
        let scope =
            lint("[scope]\nread = [\"./**\"]\nwrite = [\n  \"./src/**\",\n  \"./src/[x/**\",\n]\n");
        assert_eq!(scope.len(), 1, "{scope:?}");
        assert_eq!((scope[0].line, scope[0].column), (5, 4));
        assert!(scope[0]
            .message
            .starts_with("[scope] write pattern \"./src/[x/**\": "));
    }

    proptest::proptest! {
        /// For any rule or write pattern drawn from glob-heavy text, loading fails exactly
        /// when lint reports an error.
        #[test]
        fn lint_and_load_agree(
            rule in "(Read|Edit|Glob|WebFetch|Bash|Task|mcp__)(\\([a-c\\[\\]{},\\\\*/.:!-]{0,7}\\))?",
            write in "[a-c\\[\\]{},\\\\*/.!-]{0,7}",
        ) {
            let text = format!("[permissions]\nallow = [{rule:?}]\n[scope]\nwrite = [{write:?}]\n");
            if let Ok(file) = parse_text(Path::new("warden.toml"), Layer::Project, text.clone()) {
                let (load_fails, errors) = load_and_lint(file);
                proptest::prop_assert_eq!(!errors.is_empty(), load_fails, "{} {:?}", text, errors);
            }
        }
    }

    #[test]
    fn clean_policy_has_no_findings() {
        assert!(
            lint("[permissions]\ndeny = [\"Bash(rm -rf*)\"]\nallow = [\"Bash(npm test*)\"]\n")
                .is_empty()
        );
    }
}
