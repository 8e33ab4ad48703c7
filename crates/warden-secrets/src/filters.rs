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
    // Ruby string interpolation (`"#{Dir.pwd}/"`).
    "#{",
    // Format directives, printf's `%s` (not `%d`: `%d3` is URL encoding) and Python's `{}`:
    // a format string, filled in later.
    "%s",
    "{}",
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
    // The fixed "Generator token" GUID that Rcpp writes into every generated
    // `RcppExports.R` and `RcppExports.cpp`.
    "10BE3573-1514-4C36-9D1C-5A225CD40393",
    // The crypt(3) hash of `password` that Apache's mod_ssl documentation gives for
    // FakeBasicAuth, copied into every configuration template that explains the option.
    "xxj31ZMTZzkVA",
    // The account key of Azure's storage emulators (Azurite, the Storage Emulator), the
    // same in every installation and published in Microsoft's documentation.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
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
    // A placeholder word spelled with digits and symbols for letters (`p4$sw0rd`) is still
    // a placeholder word.
    if let Some(plain) = unleet(value) {
        if PLACEHOLDER_VALUES.iter().any(|p| plain == p.as_bytes())
            || PLACEHOLDER_MARKERS
                .iter()
                .filter(|m| m.bytes().all(|b| b.is_ascii_lowercase()))
                .any(|m| memchr::memmem::find(&plain, m.as_bytes()).is_some())
        {
            return true;
        }
    }
    if is_sequence_filler(value) {
        return true;
    }
    // Common Lisp's format directives (`~A/~A/s3/aws4_request`). Two of them: one `~` and a
    // letter is part of some providers' secrets (Azure's client secrets have a `~`).
    let lisp_directives = value
        .windows(2)
        .filter(|w| w[0] == b'~' && matches!(w[1], b'A' | b'a' | b'S' | b's' | b'D' | b'd'))
        .count();
    if lisp_directives >= 2 {
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
    // A chained assignment in code (`this.tokenEnd=this.source.length`,
    // `t.parseScript=t.parseModule=t.parse=void`, common in minified JavaScript): names
    // joined by `=`, one of them a member access. A random token holds `=` only as base64
    // padding at its end.
    if let Some(eq) = value.iter().position(|&b| b == b'=') {
        if eq > 0 && eq + 1 < value.len() && value[eq + 1] != b'=' {
            let parts: Vec<&[u8]> = value.split(|&b| b == b'=').collect();
            if parts.iter().all(|p| !p.is_empty() && looks_like_code(p))
                && parts.iter().any(|p| p.contains(&b'.'))
            {
                return true;
            }
        }
    }
    // A Ruby instance or class variable (`@ec2_credentials`, `@@api_key`).
    let ivar = value
        .strip_prefix(b"@@")
        .or_else(|| value.strip_prefix(b"@"));
    if let Some(name) = ivar {
        if name
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return true;
        }
    }
    // A path or URL without credentials is not a secret value.
    if value.starts_with(b"/") || value.starts_with(b"./") || value.starts_with(b"http") {
        return true;
    }
    // The rule read an operator as the start of the value: a comparison (`==XPath.Tokens.X`),
    // a dereference (`*secretsBlock`), a negation (`!!opts.withCredentials`), a concatenation (`"Credential="+cred.AccessKeyID`,
    // `"pwd =".$db->qstr($newPwd)."`). What follows is code when it is a name or a path, or
    // a variable's method call (`$db->qstr(`).
    let rest = trim_operators(value);
    if rest.len() < value.len() && !rest.is_empty() {
        if looks_like_code(rest) {
            return true;
        }
        if rest.starts_with(b"$")
            && rest.get(1).is_some_and(u8::is_ascii_alphabetic)
            && (memchr::memmem::find(rest, b"->").is_some() || rest.contains(&b'('))
        {
            return true;
        }
    }
    false
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
    // Letters and digits may alternate in a part whose letters all stand in runs of four or
    // more (`curve25519xsalsa20poly1305`: names and numbers; a token's letter runs are short).
    let parts: Vec<&[u8]> = value.split(|&b| b == b'_').collect();
    if parts.len() >= 2 && parts.iter().all(|p| !p.is_empty()) {
        let one_case = parts.iter().all(|p| {
            let switches = p
                .windows(2)
                .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
                .count();
            let letter_runs_are_words = p
                .split(u8::is_ascii_digit)
                .all(|run| run.is_empty() || run.len() >= 4);
            (switches < 3 || letter_runs_are_words)
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
    reserved && (is_example_word(value) || unleet(value).is_some_and(|w| is_example_word(&w)))
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

/// `value` in lower case with the digits and symbols people write for letters read as those
/// letters (`p4$sw0rd`, `S3nsit1ve`); `None` when it has none of them or anything else that
/// is not a letter, `-`, `_` or `.`.
fn unleet(value: &[u8]) -> Option<Vec<u8>> {
    let mut changed = false;
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        let c = match b {
            b'0' => b'o',
            b'1' => b'i',
            b'3' => b'e',
            b'4' | b'@' => b'a',
            b'5' | b'$' => b's',
            b'7' => b't',
            b'a'..=b'z' | b'-' | b'_' | b'.' => b,
            b'A'..=b'Z' => {
                out.push(b.to_ascii_lowercase());
                continue;
            }
            _ => return None,
        };
        changed |= c != b;
        out.push(c);
    }
    changed.then_some(out)
}

/// True when most of `value` is runs of four or more consecutive characters of the alphabet
/// or of the digits, or of neighbouring keys on one row of a QWERTY or AZERTY keyboard in
/// either direction (`abcd1234abcd1234`, `12345678abcdefgh...`,
/// `0234567890AZERTYUIOPMLKJHGFDSQ24`), or all of it is one run of the alphabet or the
/// digits (`12345`, `abcdef`): typed in order by a person making up a value. Random text
/// almost never holds such a run.
fn is_sequence_filler(value: &[u8]) -> bool {
    let mut covered = 0;
    let mut run = 1;
    for i in 1..=value.len() {
        let next = i < value.len()
            && value[i].is_ascii_alphanumeric()
            && value[i - 1].is_ascii_alphanumeric()
            && (value[i] == value[i - 1].wrapping_add(1)
                || keyboard_neighbours(value[i - 1], value[i]));
        if next {
            run += 1;
        } else {
            if run >= 4 {
                covered += run;
            }
            run = 1;
        }
    }
    (value.len() >= 8 && covered * 10 >= value.len() * 6)
        || (value.len() >= 4 && covered == value.len() && run_count_one(value))
}

/// Rows of the QWERTY and AZERTY keyboards, digits included.
const KEYBOARD_ROWS: [&[u8]; 7] = [
    b"1234567890",
    b"qwertyuiop",
    b"asdfghjkl",
    b"zxcvbnm",
    b"azertyuiop",
    b"qsdfghjklm",
    b"wxcvbn",
];

/// True when `a` and `b` are neighbouring keys on one keyboard row, in either order (case
/// ignored).
fn keyboard_neighbours(a: u8, b: u8) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    KEYBOARD_ROWS.iter().any(|row| {
        row.windows(2)
            .any(|w| (w[0] == a && w[1] == b) || (w[0] == b && w[1] == a))
    })
}

/// True when `value` is a single run of consecutive characters (`12345`, not `1234abcd`).
fn run_count_one(value: &[u8]) -> bool {
    value.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
}

/// For assignment-style (generic) rules: true when the value is words and counters, the way a
/// person names or makes up a thing (`client-valid-token-1`, `X-aws-ec2-metadata-token`,
/// `authkey1`, `20110909/us-east-1/iam/aws4_request`, `phpseclib/salt`): parts joined by
/// `-`, `_`, `.`, `/`, `#` or `:`, each a number or a word (lower case, capitalised or all
/// capitals, with a vowel and no run of five consonants when longer than three letters)
/// with at most four digits after it; two words at least, or one of four letters or more
/// with a counter. Random tokens mix letters and digits inside their parts.
pub fn words_and_counters(value: &[u8]) -> bool {
    let mut words = 0;
    let mut long_word_with_counter = false;
    for part in value.split(|b| matches!(b, b'-' | b'_' | b'.' | b'/' | b'#' | b':')) {
        if part.is_empty() {
            continue;
        }
        if part.iter().all(u8::is_ascii_digit) {
            continue;
        }
        let digits = part.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let letters = &part[..part.len() - digits];
        if digits > 4 || !is_word(letters) {
            return false;
        }
        words += 1;
        long_word_with_counter |= digits > 0 && letters.len() >= 4;
    }
    words >= 2 || (words == 1 && long_word_with_counter)
}

/// Letters in one case (lower, capitalised, or all capitals), with a vowel and no run of
/// five consonants when longer than three letters.
fn is_word(w: &[u8]) -> bool {
    if w.is_empty() || !w.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let one_case =
        w[1..].iter().all(u8::is_ascii_lowercase) || w.iter().all(u8::is_ascii_uppercase);
    if !one_case {
        return false;
    }
    if w.len() <= 3 {
        return true;
    }
    let vowel = |b: &u8| {
        matches!(
            b.to_ascii_lowercase(),
            b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
        )
    };
    w.iter().any(vowel) && w.split(vowel).all(|run| run.len() < 5)
}

/// For assignment-style (generic) rules: true when an unquoted value is the name of another
/// variable that holds a credential (`jwtTestEC256PrivateKey`, `*decryptionSecretsBlock`,
/// `ed25519PrivateKey`): an identifier of two or more words in CamelCase or snake_case,
/// one of them a credential word. A random token almost never holds such a word as a part.
pub fn names_a_credential(value: &[u8], quoted: bool) -> bool {
    let value = trim_operators(value);
    if quoted
        || !value.first().is_some_and(u8::is_ascii_alphabetic)
        || !value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        return false;
    }
    let parts = camel_parts(value);
    parts.len() >= 2
        && parts.iter().any(|p| {
            let p = p.to_ascii_lowercase();
            [
                &b"key"[..],
                b"keys",
                b"secret",
                b"secrets",
                b"token",
                b"tokens",
                b"password",
                b"passwd",
                b"passphrase",
                b"credential",
                b"credentials",
            ]
            .contains(&p.as_slice())
        })
}

/// The parts of an identifier: split at `_`, `-`, `.`, and where CamelCase starts a word.
/// Digits stay with the letters before them (`EC256`, `ed25519`).
fn camel_parts(id: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 0..id.len() {
        let b = id[i];
        if matches!(b, b'_' | b'-' | b'.') {
            if start < i {
                parts.push(&id[start..i]);
            }
            start = i + 1;
            continue;
        }
        if i > start && b.is_ascii_uppercase() {
            let prev = id[i - 1];
            let next_lower = id.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                parts.push(&id[start..i]);
                start = i;
            }
        }
    }
    if start < id.len() {
        parts.push(&id[start..]);
    }
    parts
}

/// `value` without the operators code puts before a name (`*ptr`, `&x`, `+x`, `.x`, `=x`,
/// `!!x`).
fn trim_operators(value: &[u8]) -> &[u8] {
    let n = value
        .iter()
        .take_while(|b| matches!(b, b'*' | b'&' | b'+' | b'.' | b'=' | b'!'))
        .count();
    &value[n..]
}

/// For assignment-style (generic) rules: true when the value is percent-encoded text with
/// structure in it (`urn%3Aietf%3Aparams...`, `%7B%22...`, `%2F%2Fiam.googleapis.com%2F...`):
/// a URL-encoded request body, URN or JSON, not a secret. A percent-encoded random token
/// decodes to letters, digits and `+/=` only.
pub fn url_encoded_text(value: &[u8]) -> bool {
    let mut decoded = Vec::with_capacity(value.len());
    let mut escapes = 0;
    let mut i = 0;
    while i < value.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if value[i] == b'%' && i + 2 < value.len() {
            if let (Some(h), Some(l)) = (hex(value[i + 1]), hex(value[i + 2])) {
                decoded.push((h * 16 + l) as u8);
                escapes += 1;
                i += 3;
                continue;
            }
        }
        decoded.push(value[i]);
        i += 1;
    }
    escapes >= 2
        && (decoded
            .iter()
            .any(|b| matches!(b, b':' | b'{' | b'}' | b'"' | b',' | b' ' | b'<' | b'>'))
            || (decoded.contains(&b'.') && decoded.contains(&b'/')))
}

/// For assignment-style (generic) rules: true when the value is a password hash in one of
/// the crypt formats (`$2y$10$...` bcrypt, `$argon2id$`, `$6$` SHA-crypt, `$pbkdf2...`,
/// `{SSHA}`), stored to check a password, not the password.
pub fn is_password_hash(value: &[u8]) -> bool {
    [
        &b"$2a$"[..],
        b"$2b$",
        b"$2y$",
        b"$argon2",
        b"$scrypt$",
        b"$pbkdf2",
        b"$1$",
        b"$5$",
        b"$6$",
        b"$y$",
        b"{SSHA}",
        b"{SHA}",
        b"{SSHA512}",
    ]
    .iter()
    .any(|p| value.starts_with(p))
}

/// For assignment-style (generic) rules: true when the name a value is assigned to says it is
/// not the secret but something about one: its id, where it is (`url`, `uri`, `path`,
/// `file`, `header`), its name or type (`private_key_id`, `tokenURI`,
/// `sessionTokenHeader`), or a cursor of a paged listing (`next_continuation_token`,
/// `nextPageToken`). `before`: the line up to the value.
pub fn names_not_the_secret(before: &[u8]) -> bool {
    let name = assigned_name(before);
    let parts: Vec<Vec<u8>> = camel_parts(name)
        .iter()
        .map(|p| p.to_ascii_lowercase())
        .collect();
    let Some(last) = parts.last() else {
        return false;
    };
    let about = [
        &b"id"[..],
        b"ids",
        b"url",
        b"uri",
        b"path",
        b"file",
        b"filename",
        b"name",
        b"header",
        b"type",
        b"uuid",
        b"guid",
    ];
    let cursor = [&b"next"[..], b"continuation", b"pagination", b"cursor"];
    // A key the provider publishes by design: a reCAPTCHA or Turnstile site key
    // (`RECAPTCHA_SITE_KEY`, `sitekey`), a Stripe publishable key, a `NEXT_PUBLIC_` or
    // `public_` key of a web app. Not when the name also says it is the secret or private
    // half (`public_secret`, `PRIVATE_KEY`).
    let public = parts
        .iter()
        .any(|p| matches!(p.as_slice(), b"public" | b"publishable" | b"sitekey"))
        || parts.windows(2).any(|w| w[0] == b"site" && w[1] == b"key");
    let secret_half = parts.iter().any(|p| {
        matches!(
            p.as_slice(),
            b"secret" | b"private" | b"password" | b"passwd" | b"pwd" | b"priv"
        )
    });
    about.contains(&last.as_slice())
        || parts.iter().any(|p| cursor.contains(&p.as_slice()))
        || (public && !secret_half)
}

/// The name a value is given to: the last run of letters, digits, `_`, `-` and `.` on the
/// line before it (`before`), ending in a letter or digit (`Dot1XConfigurationToken` of
/// `'Dot1XConfigurationToken' => '`).
fn assigned_name(before: &[u8]) -> &[u8] {
    let end = before
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |i| i + 1);
    let start = before[..end]
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .map_or(0, |i| i + 1);
    &before[start..end]
}

/// For assignment-style (generic) rules: true when the value is the name it is given to
/// (`'Dot1XConfigurationToken' => 'Dot1XConfigurationToken'`, `api_key: API_KEY`): a field
/// or constant named after itself in a type map, an enum or a lookup table, never a secret.
/// Compared without case and without `_`, `-` and `.`. `before`: the line up to the value.
pub fn value_repeats_name(before: &[u8], value: &[u8]) -> bool {
    // Runs on every generic match that got this far: compared in place, nothing allocated.
    fn letters(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
        s.iter()
            .filter(|b| !matches!(b, b'_' | b'-' | b'.'))
            .map(u8::to_ascii_lowercase)
    }
    let name = assigned_name(before);
    // `assigned_name` ends in a letter or digit, so a name is never all separators.
    !name.is_empty() && letters(name).eq(letters(value))
}

/// For the Basic-credentials rule: true when `value` is base64 of `user:password` and the
/// password is a plain word or identifier (`...:notsosecret`), as generic rules ignore.
pub fn basic_password_is_word(value: &[u8]) -> bool {
    base64_text(value).is_some_and(|text| {
        text.iter()
            .position(|&b| b == b':')
            .is_some_and(|i| looks_like_code(&text[i + 1..]) && !text[i + 1..].is_empty())
    })
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
    fn a_value_that_repeats_its_name() {
        for (before, value) in [
            (
                "    'Dot1XConfigurationToken' => '",
                "Dot1XConfigurationToken",
            ),
            ("api_key: ", "API_KEY"),
            ("  \"client-secret\": \"", "client_secret"),
        ] {
            assert!(
                value_repeats_name(before.as_bytes(), value.as_bytes()),
                "{value}"
            );
        }
        for (before, value) in [
            ("api_key: ", "Xq2pLm9Zr4Tw7YbN3c8K"),
            ("token = '", "token_Xq2pLm9Zr4Tw7YbN3c8K"),
            ("= '", "Dot1XConfigurationToken"),
            ("", "x"),
        ] {
            assert!(
                !value_repeats_name(before.as_bytes(), value.as_bytes()),
                "{value}"
            );
        }
    }

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
            "~A/~A/~A/s3/aws4_request",
            "user-%s-k8Xq2pLm",
            "{}:{}@db.internal",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for s in [
            "ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU",
            "Tr0ub4dor&3xyz",
            "Jk88Q~aNcTOm6DPf7aZ2ZnT3fh4d5ws8yWm.uaJh",
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn published_examples_and_base64_placeholders() {
        for p in [
            "2YotnFZFEjr1zCsicMWpAA",
            "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
            "geheim$parole",
            "xxj31ZMTZzkVA",
            "10BE3573-1514-4C36-9D1C-5A225CD40393",
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
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
            ("crypto_box_curve25519xsalsa20poly1305_SECRETKEYBYTES", ","),
            ("crypto_secretbox_xsalsa20poly1305_NONCEBYTES", ","),
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
            ("live_4f8a9b2c7e1d_secret_9d7e", false, ","),
            ("sk_9f3b1c7e5a2d8f60b4c19e7d3a5f2b81_prod", false, ","),
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

    #[test]
    fn words_with_counters_are_made_up() {
        for c in [
            "client-ok-token-2",
            "X-Amz-ec2-session-token",
            "sharedkey7",
            "20110909/us-east-1/iam/aws4_request",
            "vendor/salt",
            "active_storage/disk#update",
        ] {
            assert!(words_and_counters(c.as_bytes()), "{c}");
        }
        for s in [
            "y-bsgM43DN92ftIv-DnsNc6vvjbbJxxX8HFMQ8e8",
            "hvIGi1gj-SaD",
            "c3606020-d1b7-445d-a88f-f7af48dd6a20",
            "mztVzWq30Ezw-vQtXEVfePOVIHttQWL-CPzs6RB_dNuGK0gH",
            "k7Qm2vX9pL4w",
            "sFJsdlh3g0bqf7",
            "2021",
            "abc1",
            "qwrtzpl12",
        ] {
            assert!(!words_and_counters(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn sequences_and_leet_placeholders() {
        for c in [
            "wxyz6789wxyz6789",
            "12345678abcdefghlmnopqrs",
            "p4$$w0rd",
            "S3cr3t",
            "12345",
            "abcdef",
            "0987654321poiuytrezaqsdfghjklm",
            "QWERTYUIOPasdfghjkl1",
        ] {
            assert!(is_placeholder(c.as_bytes()), "{c}");
        }
        for s in [
            "Zq8f3LkT0pWm2Rv9",
            "1440593c45a0bee00b427b153bf74fed",
            "abcd9Xq2Lm0pZr7T",
            "12349",
            "93451",
            "elj1IWiLoWHgcyYxFVLj7cM5rGOOxWl0",
            "1xjUNUcEVLObcPG7QOGpRCftCNIodHKP",
        ] {
            assert!(!is_placeholder(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn credential_names_and_names_about_a_secret() {
        assert!(names_a_credential(b"testES256PrivateKey", false));
        assert!(names_a_credential(b"ed448PrivateKey", false));
        assert!(names_a_credential(b"*decryptionSecretsBlock", false));
        assert!(!names_a_credential(b"testES256PrivateKey", true));
        assert!(!names_a_credential(
            b"GyDOTCaY3GU3E7jE2WRN1Y0xaEkFWbv4",
            false
        ));
        for c in [
            "  \"private_key_id\": \"",
            "\ttokenURI := \"",
            "\tsessionTokenHeader = \"",
            "#     next_continuation_token: \"",
            "nextPageToken=",
            "API_KEY_NAME=",
            "RECAPTCHA_SITE_KEY = \"",
            "data-sitekey=\"",
            "STRIPE_PUBLISHABLE_KEY=",
            "NEXT_PUBLIC_API_KEY=",
            "device_token_uuid: \"",
            "apiKeyGuid = \"",
        ] {
            assert!(names_not_the_secret(c.as_bytes()), "{c}");
        }
        for s in [
            "client_secret = \"",
            "  \"private_key\": \"",
            "ACCESS_TOKEN=",
            "const key = process.env.SESSION_SECRET || \"",
            "page_access_token: ",
            // A UUID given to an API key is a key: several providers issue UUID keys.
            "api_key = \"",
            "RECAPTCHA_API_KEY = \"",
            "PUBLIC_SECRET_KEY=",
            "public_private_key = \"",
        ] {
            assert!(!names_not_the_secret(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn encoded_bodies_hashes_and_code() {
        assert!(url_encoded_text(
            b"urn%3Aietf%3Aparams%3Aoauth%3Agrant-type"
        ));
        assert!(url_encoded_text(b"%7B%22rules%22%3A%5B"));
        assert!(url_encoded_text(b"%2F%2Fiam.googleapis.com%2Flocations"));
        assert!(!url_encoded_text(b"q8Lk2%2BvX9pZr%2FmT3%3D%3D"));
        assert!(is_password_hash(
            b"$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
        ));
        assert!(!is_password_hash(b"$kLq2vBZpxW9"));
        assert!(looks_like_code(b"=XPath.Tokens.NAMETEST"));
        assert!(looks_like_code(b".$db->qstr($newPwd)."));
        assert!(looks_like_code(b"+creds.AccessKeyID"));
        assert!(!looks_like_code(b"*Xk9q2Lm0pZr7T"));
        // Negations and chained assignments of minified code; base64 padding stays a token.
        assert!(looks_like_code(b"!!opts.withCredentials"));
        assert!(looks_like_code(b"this.tokenEnd=this.source.length"));
        assert!(looks_like_code(b"t.parseScript=t.parseModule=t.parse=void"));
        assert!(!looks_like_code(b"!Xk9q2Lm0pZr7T"));
        assert!(!looks_like_code(b"dXNlcjpxOExrMnZYOXBacg=="));
        assert!(!looks_like_code(b"a.b=Xk9q2Lm0pZr7T"));
        assert!(!looks_like_code(b"token=Xk9q2Lm0pZr7T&sig=abc"));
        // user:notsosecret, and user:q8Lk2vX9pZr
        assert!(basic_password_is_word(b"dXNlcjpub3Rzb3NlY3JldA=="));
        assert!(!basic_password_is_word(b"dXNlcjpxOExrMnZYOXBacg=="));
    }
}
