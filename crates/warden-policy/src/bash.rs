//! `Bash(...)` rules.
//!
//! The rule text keeps Claude Code's meaning — `prefix:*` is a word prefix, `*` is a wildcard,
//! anything else is the exact command — and that is how a rule is matched against a piece of
//! text. Which pieces of a command line a rule is matched against is the shell analyser's job
//! ([`crate::engine::CommandAnalyzer`]): the built-in fallback splits on `&&`, `||`, `;`, `|`
//! the way Claude Code does; the semantic analyser matches on the parsed, unwrapped commands.

use std::borrow::Cow;
use std::sync::OnceLock;

/// A compiled `Bash(...)` specifier.
#[derive(Debug, Clone)]
pub struct CommandRule {
    source: String,
    kind: Kind,
    /// The same rule understood by meaning, when the shell analyser can read it. Read on first
    /// use: a command is matched only against the rules of its programs, so a hook process
    /// reads few of a policy's rules this way.
    semantic: OnceLock<Option<Box<warden_shell::CommandPattern>>>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `git push:*`: the command is `git push` or starts with `git push `.
    Prefix(String),
    /// `npm test*`, `*DROP TABLE*`: `*` matches any run of characters. The literal parts,
    /// each with its spaces collapsed, joined by `*` again (one string, split when matched).
    Wildcard(String),
    Exact(String),
}

impl CommandRule {
    /// Compile a specifier. Every string is a valid specifier.
    pub fn parse(spec: &str) -> CommandRule {
        let spec = spec.trim();
        let kind = if let Some(prefix) = spec.strip_suffix(":*") {
            Kind::Prefix(collapse_spaces(prefix))
        } else if spec.contains('*') {
            let mut parts = String::with_capacity(spec.len());
            for (n, part) in spec.split('*').enumerate() {
                if n > 0 {
                    parts.push('*');
                }
                parts.push_str(&collapse_spaces_keep_edges(part));
            }
            Kind::Wildcard(parts)
        } else {
            Kind::Exact(collapse_spaces(spec))
        };
        CommandRule {
            source: spec.to_string(),
            kind,
            semantic: OnceLock::new(),
        }
    }

    /// The rule as the semantic analyser reads it.
    pub fn semantic(&self) -> Option<&warden_shell::CommandPattern> {
        self.semantic
            .get_or_init(|| {
                warden_shell::CommandPattern::parse(&self.source)
                    .ok()
                    .map(Box::new)
            })
            .as_deref()
    }

    /// The specifier as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the rule starts with a wildcard, so it is about text anywhere in a command
    /// rather than about a program (`*DROP TABLE*`).
    pub fn is_text_search(&self) -> bool {
        matches!(&self.kind, Kind::Wildcard(parts) if parts.starts_with('*'))
    }

    /// The first word the rule requires, when it names a program.
    pub fn program(&self) -> Option<&str> {
        let text = match &self.kind {
            Kind::Prefix(p) | Kind::Exact(p) => p.as_str(),
            Kind::Wildcard(parts) => parts.split('*').next().unwrap_or(""),
        };
        let word = text.split_whitespace().next()?;
        (!word.is_empty() && (text.len() > word.len() || !matches!(self.kind, Kind::Wildcard(_))))
            .then_some(word)
    }

    /// Match against one command's text, Claude Code style.
    pub fn matches_text(&self, text: &str) -> bool {
        let text = collapsed(text);
        let text = text.as_ref();
        match &self.kind {
            Kind::Prefix(prefix) => {
                text == prefix
                    || (text.starts_with(prefix.as_str()) && text[prefix.len()..].starts_with(' '))
            }
            Kind::Exact(exact) => text == exact,
            Kind::Wildcard(parts) => wildcard_match(parts, text),
        }
    }

    /// Case-insensitive text search, used for rules like `*DROP TABLE*` over strings that
    /// reach a command (arguments, here-strings, piped text).
    pub fn matches_text_caseless(&self, text: &str) -> bool {
        let lower = CommandRule::parse(&self.source.to_lowercase());
        lower.matches_text(&text.to_lowercase())
    }
}

/// Whether `text` matches the literal parts of a wildcard rule, joined by `*`.
fn wildcard_match(parts: &str, text: &str) -> bool {
    let Some((body, last)) = parts.rsplit_once('*') else {
        return text == parts;
    };
    let mut body = body.split('*');
    let first = body.next().unwrap_or("");
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    for part in body {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// The words of `text` joined by one space.
fn collapse_spaces(text: &str) -> String {
    collapsed(text).into_owned()
}

/// `collapse_spaces`, borrowing `text` when it is collapsed already (no whitespace at either
/// end, and none between words but single spaces).
fn collapsed(text: &str) -> Cow<'_, str> {
    let mut after_space = true;
    let mut plain = true;
    for c in text.chars() {
        if c.is_whitespace() {
            if c != ' ' || after_space {
                plain = false;
                break;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    // A trailing space leaves `after_space` set.
    if plain && (!after_space || text.is_empty()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// Like `collapse_spaces` but keeps one leading and trailing space, which is meaningful
/// between wildcards (`git push * --force`).
fn collapse_spaces_keep_edges(text: &str) -> String {
    let core = collapsed(text);
    if core.is_empty() {
        return if text.is_empty() {
            String::new()
        } else {
            " ".into()
        };
    }
    let lead = text.starts_with(char::is_whitespace);
    let trail = text.ends_with(char::is_whitespace);
    let mut out = String::with_capacity(core.len() + usize::from(lead) + usize::from(trail));
    if lead {
        out.push(' ');
    }
    out.push_str(&core);
    if trail {
        out.push(' ');
    }
    out
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

    proptest::proptest! {
        /// The borrowing collapse agrees with joining the words, and keeping the edges adds
        /// back one space at each end that had any.
        #[test]
        fn collapsed_is_the_words_joined(text in "[ a\t\u{a0}\nb]{0,8}") {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let collapsed = collapsed(&text);
            proptest::prop_assert_eq!(collapsed.as_ref(), joined.as_str());
            let edges = if joined.is_empty() {
                if text.is_empty() { String::new() } else { " ".to_string() }
            } else {
                let lead = if text.starts_with(char::is_whitespace) { " " } else { "" };
                let trail = if text.ends_with(char::is_whitespace) { " " } else { "" };
                format!("{lead}{joined}{trail}")
            };
            proptest::prop_assert_eq!(collapse_spaces_keep_edges(&text), edges);
        }
    }

    /// The reference: the parts as a list, the first a prefix, the last a suffix, the others
    /// found in order between them.
    fn wildcard_reference(parts: &[String], text: &str) -> bool {
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

    proptest::proptest! {
        /// Matching the parts joined in one string is matching them as a list.
        #[test]
        fn joined_wildcard_parts_match_as_a_list(
            spec in "[ab *]{0,7}",
            text in "[ab ]{0,7}",
        ) {
            let rule = CommandRule::parse(&spec);
            if let Kind::Wildcard(joined) = &rule.kind {
                let list: Vec<String> = spec
                    .trim()
                    .split('*')
                    .map(collapse_spaces_keep_edges)
                    .collect();
                proptest::prop_assert_eq!(joined.split('*').map(str::to_string).collect::<Vec<_>>(), list.clone());
                let collapsed = collapse_spaces(&text);
                proptest::prop_assert_eq!(
                    rule.matches_text(&text),
                    wildcard_reference(&list, &collapsed),
                    "{:?} on {:?}", spec, text
                );
            }
        }
    }

    #[test]
    fn splits_like_claude_code() {
        assert_eq!(
            split_compound("npm test && rm -rf / ; echo 'a;b' | cat"),
            vec!["npm test", "rm -rf /", "echo 'a;b'", "cat"]
        );
    }
}
