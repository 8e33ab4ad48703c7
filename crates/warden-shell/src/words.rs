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
/// A string [`quote_into`] writes to.
pub(crate) trait Out {
    fn push_str(&mut self, s: &str);
    fn push(&mut self, c: char);
    fn reserve(&mut self, n: usize);
}

impl Out for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s)
    }
    fn push(&mut self, c: char) {
        String::push(self, c)
    }
    fn reserve(&mut self, n: usize) {
        String::reserve(self, n)
    }
}

/// Builds a [`CompactString`](compact_str::CompactString) without an allocation when the
/// text is short: bytes go to a buffer on the stack until they no longer fit, then to a
/// `String` whose buffer the result keeps. (`CompactString::push_str` reserves at each call,
/// which costs more than the copy for the few short words of a command.)
pub(crate) struct ShortText {
    buf: [u8; ShortText::INLINE],
    len: usize,
    /// Where the text is once it is longer than [`ShortText::INLINE`].
    long: Option<String>,
    /// Capacity for the `String`, when one is needed.
    hint: usize,
}

impl ShortText {
    /// What a `CompactString` keeps inline on 64-bit targets.
    const INLINE: usize = 24;

    /// An empty text expected to be about `hint` bytes long.
    pub(crate) fn with_capacity(hint: usize) -> Self {
        ShortText {
            buf: [0; Self::INLINE],
            len: 0,
            long: None,
            hint,
        }
    }

    pub(crate) fn finish(self) -> compact_str::CompactString {
        match self.long {
            Some(s) => s.into(),
            // Only whole `&str`s and `char`s were copied in: always UTF-8.
            None => compact_str::CompactString::new(
                std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default(),
            ),
        }
    }
}

impl Out for ShortText {
    fn push_str(&mut self, s: &str) {
        if let Some(long) = &mut self.long {
            long.push_str(s);
        } else if self.len + s.len() <= Self::INLINE {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            let mut long = String::with_capacity(self.hint.max(self.len + s.len()));
            // The bytes so far are whole `&str`s and `char`s.
            long.push_str(std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default());
            long.push_str(s);
            self.long = Some(long);
        }
    }
    fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }
    fn reserve(&mut self, n: usize) {
        if let Some(long) = &mut self.long {
            long.reserve(n);
        }
    }
}

pub(crate) fn quote_into(out: &mut impl Out, word: &str) {
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
