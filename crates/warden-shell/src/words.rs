//! Static evaluation of shell words: quote removal, escapes, and the parts that cannot be
//! known before the command runs (parameters, command substitutions), kept visibly.

use brush_parser::word::{TildeExpr, WordPiece, WordPieceWithSource};
use brush_parser::ParserOptions;

/// A word after static evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Value {
    /// The text after quote removal; dynamic parts kept as written (`$HOME`, `$(date)`).
    pub text: String,
    /// True when no part of the word depends on the runtime environment (tilde aside).
    pub literal: bool,
    /// Bodies of command substitutions found in the word (`$(...)`, backquotes).
    pub substitutions: Vec<String>,
}

pub(crate) fn options() -> ParserOptions {
    ParserOptions {
        // `@(...)`-style patterns in arguments are rare in agent commands and confuse
        // the word parser on ordinary text such as `!(x)`; plain bash defaults are safer.
        enable_extended_globbing: false,
        ..ParserOptions::default()
    }
}

/// Evaluates one raw word as the shell would before expansion-time lookups.
/// A word the word parser rejects is returned as-is, marked non-literal.
pub(crate) fn evaluate(raw: &str, opts: &ParserOptions) -> Value {
    if is_plain(raw) {
        return Value {
            text: raw.to_owned(),
            literal: true,
            substitutions: Vec::new(),
        };
    }
    match brush_parser::word::parse(raw, opts) {
        Ok(pieces) => {
            let mut v = Value {
                text: String::with_capacity(raw.len()),
                literal: true,
                substitutions: Vec::new(),
            };
            append_pieces(raw, &pieces, &mut v);
            v
        }
        Err(_) => Value {
            text: raw.to_owned(),
            literal: false,
            substitutions: Vec::new(),
        },
    }
}

/// Heredoc bodies only expand `$`, backquotes and backslashes; quotes are literal.
pub(crate) fn heredoc_substitutions(body: &str, opts: &ParserOptions) -> Vec<String> {
    if !body.contains('$') && !body.contains('`') {
        return Vec::new();
    }
    match brush_parser::word::parse_heredoc(body, opts) {
        Ok(pieces) => {
            let mut v = Value::default();
            append_pieces(body, &pieces, &mut v);
            v.substitutions
        }
        Err(_) => Vec::new(),
    }
}

/// Fast path: words with no quoting, escapes or expansions need no parsing.
fn is_plain(raw: &str) -> bool {
    !raw.is_empty()
        && !raw.starts_with('~')
        && !raw
            .bytes()
            .any(|b| matches!(b, b'\'' | b'"' | b'\\' | b'$' | b'`'))
}

fn append_pieces(raw: &str, pieces: &[WordPieceWithSource], v: &mut Value) {
    for p in pieces {
        let source = raw.get(p.start_index..p.end_index).unwrap_or("");
        match &p.piece {
            WordPiece::Text(s) | WordPiece::SingleQuotedText(s) => v.text.push_str(s),
            WordPiece::AnsiCQuotedText(s) => v.text.push_str(&ansi_c(s)),
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => append_pieces(raw, inner, v),
            WordPiece::TildeExpansion(t) => match t {
                TildeExpr::Home => v.text.push('~'),
                TildeExpr::UserHome(u) => {
                    v.text.push('~');
                    v.text.push_str(u);
                }
                _ => {
                    v.text.push_str(source);
                    v.literal = false;
                }
            },
            WordPiece::EscapeSequence(s) => {
                // `\x` stands for `x`; a backslash-newline is a line continuation.
                let mut chars = s.chars();
                chars.next();
                let rest: String = chars.collect();
                if rest != "\n" {
                    v.text.push_str(&rest);
                }
            }
            WordPiece::ParameterExpansion(_) | WordPiece::ArithmeticExpression(_) => {
                v.text
                    .push_str(if source.is_empty() { "$?" } else { source });
                v.literal = false;
            }
            WordPiece::CommandSubstitution(body)
            | WordPiece::BackquotedCommandSubstitution(body) => {
                v.text
                    .push_str(if source.is_empty() { "$(...)" } else { source });
                v.literal = false;
                v.substitutions.push(body.clone());
            }
        }
    }
}

/// Interprets the escapes of a `$'...'` string.
fn ansi_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('e') | Some('E') => out.push('\x1b'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some('x') => {
                let mut hex = String::new();
                while hex.len() < 2 {
                    match chars.peek() {
                        Some(h) if h.is_ascii_hexdigit() => {
                            hex.push(*h);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if b.is_ascii() => out.push(char::from(b)),
                    _ => out.push('?'),
                }
            }
            Some(d @ '0'..='7') => {
                let mut oct = String::from(d);
                while oct.len() < 3 {
                    match chars.peek() {
                        Some(o @ '0'..='7') => {
                            oct.push(*o);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                match u8::from_str_radix(&oct, 8) {
                    Ok(b) if b.is_ascii() => out.push(char::from(b)),
                    _ => out.push('?'),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Quotes a word for display so that the normalised text reads back as the same word.
pub(crate) fn quote(word: &str) -> String {
    let mut out = String::new();
    quote_into(&mut out, word);
    out
}

/// [`quote`], appended to `out`.
pub(crate) fn quote_into(out: &mut String, word: &str) {
    if !word.is_empty()
        && !word.starts_with('#')
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_'
                        | b'.'
                        | b'/'
                        | b':'
                        | b','
                        | b'+'
                        | b'='
                        | b'@'
                        | b'%'
                        | b'~'
                        | b'*'
                        | b'?'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                        | b'^'
                        | b'#'
                        | b'!'
                )
        })
    {
        out.push_str(word);
        return;
    }
    out.reserve(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_removal_and_escapes() {
        let o = options();
        assert_eq!(evaluate("'rm'", &o).text, "rm");
        assert_eq!(evaluate("\\rm", &o).text, "rm");
        assert_eq!(evaluate("r\\m", &o).text, "rm");
        assert_eq!(evaluate("\"r\"m", &o).text, "rm");
        assert_eq!(evaluate("$'r\\x6d'", &o).text, "rm");
        let v = evaluate("$HOME/x", &o);
        assert_eq!(v.text, "$HOME/x");
        assert!(!v.literal);
        let v = evaluate("\"$(rm -rf /)\"", &o);
        assert_eq!(v.substitutions, vec!["rm -rf /".to_owned()]);
    }
}
