//! Cheap checks that throw away matches which are obviously not live secrets.
//!
//! Docs, templates and tests are full of strings shaped like credentials but filled with
//! placeholders (`AKIAIOSFODNN7EXAMPLE`, `xxxx`, `your-api-key`, `${VAR}`, `<token>`).
//! Reporting them would train people to ignore the scanner, so they are dropped here.
//! These checks run only on values a rule already matched: they never make a scan slower
//! on clean text.

/// Substrings (compared ASCII case-insensitively) that mark a value as a placeholder.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example",
    "password",
    "passw0rd",
    "xxxxx",
    "your_",
    "your-",
    "yourapi",
    "yourtoken",
    "yoursecret",
    "yourpass",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "replace_me",
    "replace-me",
    "replaceme",
    "redacted",
    "insert_",
    "insert-",
    "dummy",
    "sample",
    "********",
    "........",
    "123456789",
    "abcdefghij",
    "${",
    "{{",
    "%(",
    "$(",
    "<%",
];

/// Values that are common stand-ins in docs when they make up the whole secret.
const PLACEHOLDER_VALUES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "secret",
    "changeme",
    "root",
    "admin",
    "test",
    "testing",
    "postgres",
    "mysql",
    "user",
    "username",
    "guest",
    "default",
    "foo",
    "bar",
    "foobar",
    "token",
    "apikey",
    "api_key",
    "none",
    "null",
    "undefined",
    "true",
    "false",
    "empty",
];

/// True when `value` looks like a documentation placeholder rather than a real secret.
pub fn is_placeholder(value: &[u8]) -> bool {
    if value.is_empty() {
        return true;
    }
    // `<token>`, `[secret]`, `{key}`, `$VAR`, `%VAR%`: template syntax, not a value.
    match (value.first(), value.last()) {
        (Some(b'<'), Some(b'>')) | (Some(b'['), Some(b']')) | (Some(b'{'), Some(b'}')) => {
            return true
        }
        (Some(b'%'), Some(b'%')) if value.len() > 2 => return true,
        // `$VAR`, `${VAR}`, `$(cmd)`: a shell or template reference. A password that merely
        // starts with `$` and a lowercase letter is kept.
        (Some(b'$'), _) if matches!(value.get(1), Some(b'A'..=b'Z' | b'{' | b'(' | b'_')) => {
            return true
        }
        _ => {}
    }
    if PLACEHOLDER_VALUES
        .iter()
        .any(|p| value.eq_ignore_ascii_case(p.as_bytes()))
    {
        return true;
    }
    if PLACEHOLDER_MARKERS
        .iter()
        .any(|m| contains_ignore_ascii_case(value, m.as_bytes()))
    {
        return true;
    }
    // A value made of one or two distinct bytes (`0000...`, `abab...`) is filler.
    let first = value[0];
    let mut second = None;
    for &b in value {
        if b != first {
            match second {
                None => second = Some(b),
                Some(s) if s == b => {}
                Some(_) => return false,
            }
        }
    }
    true
}

/// For assignment-style (generic) rules: true when the value reads like code or prose, not
/// like a secret. Real random tokens almost always contain a digit or a symbol; a value made
/// of letters, `_`, `.` and `-` only is an identifier, a dotted path or a word
/// (`settings.SECRET_KEY`, `production_database`, `my-secret-name`).
pub fn looks_like_code(value: &[u8]) -> bool {
    let wordish = value
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-'));
    if wordish {
        return true;
    }
    // `config.password2`, `self.api_key_v2`: a dotted identifier path, even with digits.
    let mut parts = value.split(|&b| b == b'.');
    let dotted = value.contains(&b'.')
        && parts.all(|p| {
            !p.is_empty()
                && !p[0].is_ascii_digit()
                && p.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        });
    if dotted && value.iter().any(|b| b.is_ascii_lowercase()) {
        return true;
    }
    // A path or URL without credentials is not a secret value.
    value.starts_with(b"/") || value.starts_with(b"./") || value.starts_with(b"http")
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    if needle.len() > hay.len() {
        return false;
    }
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "xxxxxxxxxxxxxxxxxxxx",
            "your-api-key",
            "${API_KEY}",
            "<token>",
            "0000000000000000",
            "password",
            "$TOKEN",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in ["ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU", "Tr0ub4dor&3xyz"] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn code_like_values() {
        for c in [
            "settings.SECRET_KEY",
            "production_database",
            "config.password2",
            "/etc/secret",
            "https://x",
        ] {
            assert!(looks_like_code(c.as_bytes()), "{c}");
        }
        for s in ["Zq8f3LkT0pWm2Rv9", "s3cr3t-P4ss!", "9a.Zk3.pQ"] {
            assert!(!looks_like_code(s.as_bytes()), "{s}");
        }
    }
}
