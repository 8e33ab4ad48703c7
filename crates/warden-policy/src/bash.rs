//! `Bash(...)` rules.
//!
//! The rule text keeps Claude Code's meaning — `prefix:*` is a word prefix, `*` is a wildcard,
//! anything else is the exact command — and that is how a rule is matched against a piece of
//! text. Which pieces of a command line a rule is matched against is the shell analyser's job
//! ([`crate::engine::CommandAnalyzer`]): the built-in fallback splits on `&&`, `||`, `;`, `|`
//! the way Claude Code does; the semantic analyser matches on the parsed, unwrapped commands.

/// A compiled `Bash(...)` specifier.
#[derive(Debug, Clone)]
pub struct CommandRule {
    source: String,
    kind: Kind,
    /// The same rule understood by meaning, when the shell analyser can read it.
    semantic: Option<warden_shell::CommandPattern>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `git push:*`: the command is `git push` or starts with `git push `.
    Prefix(String),
    /// `npm test*`, `*DROP TABLE*`: `*` matches any run of characters.
    Wildcard(Vec<String>),
    Exact(String),
}

impl CommandRule {
    /// Compile a specifier. Every string is a valid specifier.
    pub fn parse(spec: &str) -> CommandRule {
        let spec = spec.trim();
        let kind = if let Some(prefix) = spec.strip_suffix(":*") {
            Kind::Prefix(collapse_spaces(prefix))
        } else if spec.contains('*') {
            Kind::Wildcard(spec.split('*').map(collapse_spaces_keep_edges).collect())
        } else {
            Kind::Exact(collapse_spaces(spec))
        };
        let semantic = warden_shell::CommandPattern::parse(spec).ok();
        CommandRule {
            source: spec.to_string(),
            kind,
            semantic,
        }
    }

    /// The rule as the semantic analyser reads it.
    pub fn semantic(&self) -> Option<&warden_shell::CommandPattern> {
        self.semantic.as_ref()
    }

    /// The specifier as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the rule starts with a wildcard, so it is about text anywhere in a command
    /// rather than about a program (`*DROP TABLE*`).
    pub fn is_text_search(&self) -> bool {
        matches!(&self.kind, Kind::Wildcard(parts) if parts.first().is_some_and(|p| p.is_empty()))
    }

    /// The first word the rule requires, when it names a program.
    pub fn program(&self) -> Option<&str> {
        let text = match &self.kind {
            Kind::Prefix(p) | Kind::Exact(p) => p.as_str(),
            Kind::Wildcard(parts) => parts.first().map(String::as_str).unwrap_or(""),
        };
        let word = text.split_whitespace().next()?;
        (!word.is_empty() && (text.len() > word.len() || !matches!(self.kind, Kind::Wildcard(_))))
            .then_some(word)
    }

    /// Match against one command's text, Claude Code style.
    pub fn matches_text(&self, text: &str) -> bool {
        let text = collapse_spaces(text);
        match &self.kind {
            Kind::Prefix(prefix) => {
                text == *prefix
                    || (text.starts_with(prefix.as_str()) && text[prefix.len()..].starts_with(' '))
            }
            Kind::Exact(exact) => text == *exact,
            Kind::Wildcard(parts) => wildcard_match(parts, &text),
        }
    }

    /// Case-insensitive text search, used for rules like `*DROP TABLE*` over strings that
    /// reach a command (arguments, here-strings, piped text).
    pub fn matches_text_caseless(&self, text: &str) -> bool {
        let lower = CommandRule::parse(&self.source.to_lowercase());
        lower.matches_text(&text.to_lowercase())
    }
}

fn wildcard_match(parts: &[String], text: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return text.is_empty();
    };
    let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part.as_str()) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Like `collapse_spaces` but keeps one leading and trailing space, which is meaningful
/// between wildcards (`git push * --force`).
fn collapse_spaces_keep_edges(text: &str) -> String {
    let core = collapse_spaces(text);
    if core.is_empty() {
        return if text.is_empty() {
            String::new()
        } else {
            " ".into()
        };
    }
    let lead = if text.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trail = if text.ends_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    format!("{lead}{core}{trail}")
}

/// Claude Code's own view of a compound command: split on `&&`, `||`, `;`, `|`, `&` and
/// newlines outside quotes. Not a shell parser; the semantic analyser replaces it.
pub fn split_compound(command: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some('"'), '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (None, ';' | '|' | '&' | '\n') => {
                if matches!(chars.peek(), Some('&' | '|')) {
                    chars.next();
                }
                parts.push(std::mem::take(&mut current));
            }
            (None, c) => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_semantics() {
        let npm = CommandRule::parse("npm test*");
        assert!(npm.matches_text("npm test"));
        assert!(npm.matches_text("npm test -- --watch"));
        assert!(!npm.matches_text("npm install"));
        let push = CommandRule::parse("git push:*");
        assert!(push.matches_text("git push"));
        assert!(push.matches_text("git  push origin main"));
        assert!(!push.matches_text("git pushx"));
        let drop = CommandRule::parse("*DROP TABLE*");
        assert!(drop.matches_text("psql -c 'DROP TABLE users'"));
        assert!(drop.is_text_search());
        assert!(drop.matches_text_caseless("psql -c 'drop   table users'"));
        let exact = CommandRule::parse("make");
        assert!(exact.matches_text("make"));
        assert!(!exact.matches_text("make install"));
        assert_eq!(CommandRule::parse("rm -rf*").program(), Some("rm"));
    }

    #[test]
    fn splits_like_claude_code() {
        assert_eq!(
            split_compound("npm test && rm -rf / ; echo 'a;b' | cat"),
            vec!["npm test", "rm -rf /", "echo 'a;b'", "cat"]
        );
    }
}
