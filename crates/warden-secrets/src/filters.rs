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

/// Example values that standards and widely installed documentation publish, found in
/// every copy of the code that quotes them (compared as substrings, exactly). Each is
/// public by design; none can be anyone's live credential.
const KNOWN_EXAMPLES: &[&str] = &[
    // RFC 6749 (OAuth 2.0): the example access token, refresh token, authorization code
    // and client credentials `s6BhdRkqt3:gX1fBat3bV` (base64, in Basic headers).
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "SplxlOBeZQQYbYS6WxSbIA",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    // RFC 6750 (bearer tokens): the example token.
    "mF_9.B5f-4.1JqM",
    // RFC 7617 (Basic authentication): `Aladdin:open sesame`.
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    // The signature of the example token of the JWT introduction at jwt.io (HS256 with
    // the key `your-256-bit-secret`).
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // Python's `urllib.request` documentation (in every Python installation).
    "geheim$parole",
];

/// True when `value` looks like a documentation placeholder rather than a real secret.
pub fn is_placeholder(value: &[u8]) -> bool {
    if KNOWN_EXAMPLES
        .iter()
        .any(|e| memchr::memmem::find(value, e.as_bytes()).is_some())
    {
        return true;
    }
    // A placeholder written in base64 (`bm90IG15IHJlYWwgcGFzc3dvcmQ=` is `not my real
    // password`) is still a placeholder. Random key material never decodes to text.
    // So is `user:password` in base64, the form of Basic credentials.
    if let Some(text) = base64_text(value) {
        let password = text.iter().position(|&b| b == b':').map(|i| &text[i + 1..]);
        if is_plain_placeholder(&text) || password.is_some_and(is_plain_placeholder) {
            return true;
        }
    }
    is_plain_placeholder(value)
}

fn is_plain_placeholder(value: &[u8]) -> bool {
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
/// (`settings.SECRET_KEY`, `production_database`, `my-secret-name`). With one `@` it is an
/// e-mail address or a part of one (`ftp@example.org`, `-anonymous@`): the password
/// convention of anonymous FTP (RFC 1635), not a secret.
pub fn looks_like_code(value: &[u8]) -> bool {
    let wordish = value
        .iter()
        .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-' | b'@'))
        && memchr::memchr_iter(b'@', value).count() <= 1;
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
    // A Rust or C++ path (`Foo::BAR`, or its tail `::BAR` after a `Name:` the rule read
    // as the assignment) is code.
    let path = value.strip_prefix(b":").unwrap_or(value);
    let path = path.strip_prefix(b":").unwrap_or(path);
    if (path.len() < value.len() || memchr::memmem::find(value, b"::").is_some())
        && path
            .split(|&b| b == b':')
            .all(|p| p.is_empty() || p.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
    {
        return true;
    }
    // A path or URL without credentials is not a secret value.
    value.starts_with(b"/") || value.starts_with(b"./") || value.starts_with(b"http")
}

/// For assignment-style (generic) rules: true when an unquoted value is a name in code, not
/// a secret: a snake or SCREAMING_SNAKE identifier with digits (`MSV1_0_CREDENTIAL_KEY`,
/// `x25519_generate_private_key`), or a CamelCase type name (`X509PrivateKeyProtection`)
/// with more code after it on the line (`pub Key: X509KeyFlag = 3i32;`, `key: KeyType,`).
/// `after`: the rest of the line after the value. Quoted values are never names.
pub fn looks_like_identifier(value: &[u8], quoted: bool, after: &[u8]) -> bool {
    if quoted
        || !value.first().is_some_and(u8::is_ascii_alphabetic)
        || !value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return false;
    }
    // snake_case / SCREAMING_SNAKE: every part one case and not a jumble of letters and
    // digits (`4f8a9b2c`: a token cut with underscores), two or more parts that are words.
    let parts: Vec<&[u8]> = value.split(|&b| b == b'_').collect();
    if parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) {
        let one_case = parts.iter().all(|p| {
            let switches = p
                .windows(2)
                .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
                .count();
            switches < 3
                && !(p.iter().any(u8::is_ascii_lowercase) && p.iter().any(u8::is_ascii_uppercase))
        });
        let words = parts
            .iter()
            .filter(|p| p.iter().filter(|b| b.is_ascii_alphabetic()).count() >= 3)
            .count();
        if one_case && words >= 2 {
            return true;
        }
    }
    // CamelCase: most letters sit in lower-case runs of three or more (words), and code
    // follows (a random token's letters rarely do: about one in seven). A type name may
    // join CamelCase names, all-caps prefixes and numbers with `_` (`MI_UserCredentials_0`,
    // `SecPkgContext_Credentials`): then every part is a number or starts with a capital
    // (a token cut with underscores rarely is), and the letters count as a whole.
    let code_follows = matches!(
        after.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b',' | b';' | b')' | b'=' | b'{' | b'>')
    );
    let joined_names = parts.iter().all(|p| {
        p.first().is_some_and(u8::is_ascii_uppercase)
            || (!p.is_empty() && p.iter().all(u8::is_ascii_digit))
    });
    if !code_follows || (parts.len() > 1 && !joined_names) {
        return false;
    }
    let letters = value.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let mut in_words = 0;
    let mut run = 0;
    for &b in value.iter().chain(std::iter::once(&b'0')) {
        if b.is_ascii_lowercase() {
            run += 1;
        } else {
            if run >= 3 {
                in_words += run;
            }
            run = 0;
        }
    }
    in_words * 10 >= letters * 6
}

/// For assignment-style (generic) rules: true when the name the value is assigned to says
/// it is a hash of something (`token_hash`, `password-digest`, `secret_checksum`,
/// `key_fingerprint`), not the credential. `name`: the match up to the value.
pub fn names_a_hash(name: &[u8]) -> bool {
    let end = name
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |i| i + 1);
    let name = name[..end].to_ascii_lowercase();
    ["hash", "digest", "checksum", "fingerprint"]
        .iter()
        .any(|s| name.ends_with(s.as_bytes()))
}

/// True when `value` is the password of a URL's userinfo (`scheme://user:VALUE@host`, `rest`
/// being the rest of the match from the `@`) on a host name reserved for documentation
/// (RFC 2606 and 6761: `example.com`, `example.net`, `example.org` and their subdomains,
/// and the `.example`, `.test` and `.invalid` top-level domains), and the password is a
/// word a person types for an example (`secret1`, `opensesame`, `hunter2`: words of
/// letters, joined by `-`, `_` or `.`, and at most four digits after them). Both must
/// hold: a random password on an example host is still reported (a live one is often
/// pasted into an example), and so is a weak word on any other host.
pub fn documentation_url_example(value: &[u8], rest: &[u8]) -> bool {
    let Some(host) = rest.strip_prefix(b"@") else {
        return false;
    };
    let end = host
        .iter()
        .position(|b| matches!(b, b':' | b'/' | b'?' | b'#'))
        .unwrap_or(host.len());
    let host = host[..end].to_ascii_lowercase();
    let host = host.strip_suffix(b".").unwrap_or(&host);
    let reserved = [&b"example.com"[..], b"example.net", b"example.org"]
        .iter()
        .any(|d| host == *d || host.strip_suffix(*d).is_some_and(|sub| sub.ends_with(b".")))
        || [&b".example"[..], b".test", b".invalid"]
            .iter()
            .any(|t| host.ends_with(t))
        || host == b"example";
    reserved && is_example_word(value)
}

/// Words of letters (each all lower case, or capitalised), joined by `-`, `_` or `.`, with
/// at most four digits after them, each word with a vowel and no run of five consonants.
fn is_example_word(value: &[u8]) -> bool {
    let digits = value
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits > 4 || digits == value.len() {
        return false;
    }
    let letters = &value[..value.len() - digits];
    letters.split(|b| matches!(b, b'-' | b'_' | b'.')).all(|w| {
        let vowel = |b: &u8| {
            matches!(
                b.to_ascii_lowercase(),
                b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
            )
        };
        w.len() >= 2
            && w.iter().all(u8::is_ascii_alphabetic)
            && w[1..].iter().all(u8::is_ascii_lowercase)
            && w.iter().any(vowel)
            && w.split(vowel).all(|run| run.len() < 5)
    })
}

/// The text `value` encodes when it is base64 (standard or URL-safe alphabet, padded or
/// not, at least 12 characters) of printable ASCII; `None` otherwise.
fn base64_text(value: &[u8]) -> Option<Vec<u8>> {
    let body = value
        .strip_suffix(b"==")
        .or(value.strip_suffix(b"="))
        .unwrap_or(value);
    if value.len() < 12 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in body {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out.iter().all(|b| (0x20..0x7f).contains(b)).then_some(out)
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
    fn published_examples_and_base64_placeholders() {
        for p in [
            "2YotnFZFEjr1zCsicMWpAA",
            "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
            "geheim$parole",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            // base64 of `not my real password`, `changeme`, `user:password`
            "bm90IG15IHJlYWwgcGFzc3dvcmQ=",
            "Y2hhbmdlbWVjaGFuZ2VtZQ",
            "dXNlcjpwYXNzd29yZA==",
            // `martin:secret`
            "bWFydGluOnNlY3JldA==",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in [
            // base64 of `admin:Sup3rSecret!2024`, and of random bytes
            "YWRtaW46U3VwM3JTZWNyZXQhMjAyNA==",
            "q83vEjRWeJq83vEjRWeJq83v",
            "oOgui01Ieft059HGOVc9jpNA2efYGoGEDA9/NEEm",
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
        assert_eq!(
            base64_text(b"bm90IG15IHJlYWwgcGFzc3dvcmQ=").unwrap(),
            b"not my real password"
        );
        assert_eq!(
            base64_text(b"dXNlcjpwYXNzd29yZA").unwrap(),
            b"user:password"
        );
    }

    #[test]
    fn identifiers() {
        for (v, after) in [
            ("MSV1_0_CREDENTIAL_KEY", ","),
            ("x25519_generate_private_key", ","),
            ("TLS13_CHACHA20_POLY1305_SHA256_INTERNAL", ""),
            ("X509CertificateTemplatePrivateKeyFlag", " = 12288i32;"),
            ("IKEEXT_CREDENTIAL0", ","),
            ("D3DKMT_PRESENTHISTORYTOKEN_0", ","),
            ("MI_UserCredentials_0", ","),
            ("SecPkgContext_Credentials", ";"),
            ("PrivateKey_Info", ")"),
            ("privateKeyBytes", ","),
        ] {
            assert!(
                looks_like_identifier(v.as_bytes(), false, after.as_bytes()),
                "{v}"
            );
        }
        for (v, quoted, after) in [
            ("MSV1_0_CREDENTIAL_KEY", true, ","),
            ("GyDOTCaY3GU3E7jE2WRN1Y0xaEkFWbv4", false, ","),
            ("1tacDFKgcMGCvn6IIbri2A39hU47jt0a0qz0CSX9", false, ""),
            ("X509CertificateTemplatePrivateKeyFlag", false, ""),
            ("Sunshine2024Summer", false, ""),
            ("v18rjg_vytOf_zIM", false, ""),
            ("oOgui01Ieft059HGOVc9jpNA2efYGoGEDA9", false, ";"),
            ("live_4f8a9b2c_secret_9d7e", false, ""),
            ("PROD_DB_7Kq9x2Lm", false, ""),
            ("MI_UserCredentials_0", false, ""),
            ("PROD_DB_7Kq9x2Lm", false, ","),
            ("ABC_Xq9zLm2Kd8Rt", false, ","),
            ("live_4f8a9b2c_secret_9d7e", false, ","),
            ("AKd9_Tr0ub4dorXz", false, ";"),
            ("Credentials__0", false, ","),
            ("MI_credentialsValue", false, ","),
        ] {
            assert!(
                !looks_like_identifier(v.as_bytes(), quoted, after.as_bytes()),
                "{v}"
            );
        }
    }

    #[test]
    fn example_words_in_urls_on_documentation_hosts() {
        for (v, rest) in [
            ("secret1", "@example.com"),
            ("secret123", "@example.com"),
            ("opensesame", "@www.example.org:8080"),
            ("hunter2", "@ftp.example.net"),
            ("Open-Sesame", "@db.test"),
            ("tiger", "@host.example"),
            ("pass.word42", "@example.invalid"),
        ] {
            assert!(
                documentation_url_example(v.as_bytes(), rest.as_bytes()),
                "{v}{rest}"
            );
        }
        for (v, rest) in [
            // Random passwords on example hosts (what a pasted live credential looks like).
            ("VbnLSvM0OoD01JQIshPT36xO", "@git.example.org"),
            ("v_iDqvrDFlh3", "@files.example.org"),
            ("mXnZ1SY4DJcgQ9zfNJaP", "@example.com"),
            ("qzkfbwrt12", "@example.com"),
            ("secret12345", "@example.com"),
            // Weak words on hosts that are not reserved for documentation.
            ("secret1", "@example.co"),
            ("secret1", "@notexample.com"),
            ("secret1", "@example.com.evil.io"),
            ("secret1", "@db.internal"),
            ("secret1", "@localhost"),
            ("secret1", ""),
        ] {
            assert!(
                !documentation_url_example(v.as_bytes(), rest.as_bytes()),
                "{v}{rest}"
            );
        }
    }

    #[test]
    fn hash_names() {
        for n in [
            "?token-time=1&token-hash=",
            "password_hash: '",
            "SECRET_DIGEST = \"",
            "keyFingerprint",
        ] {
            assert!(names_a_hash(n.as_bytes()), "{n}");
        }
        for n in ["token=", "HASH_SECRET = '", "hash_key: ", "password = \""] {
            assert!(!names_a_hash(n.as_bytes()), "{n}");
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
            "super::System::PasswordManagement::CYPHER_BLOCK",
            ":CYPHER_BLOCK",
            "-anonymous@",
            "ftp@example.org",
        ] {
            assert!(looks_like_code(c.as_bytes()), "{c}");
        }
        for s in [
            "Zq8f3LkT0pWm2Rv9",
            "s3cr3t-P4ss!",
            "9a.Zk3.pQ",
            ":x9Lq2!vB",
            "k@Lq2vB@Zp",
            "kLq@vBZp@xW",
            "hvIGi1gj@SaD",
        ] {
            assert!(!looks_like_code(s.as_bytes()), "{s}");
        }
    }
}
