//! Engine behaviour beyond single rules: markers, placeholders, overrides, gitleaks configs,
//! redaction.

use proptest::prelude::*;
use warden_secrets::{Confidence, RuleConfidence, RuleSpec, ScanConfig, Scanner};

const GHP: &str = "ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU";

#[test]
fn inline_markers_silence_a_line() {
    let s = Scanner::builtin();
    assert_eq!(s.scan(&format!("t = \"{GHP}\"")).len(), 1);
    assert!(s
        .scan(&format!("t = \"{GHP}\"  # warden:allow-secret"))
        .is_empty());
    assert!(s
        .scan(&format!("t = \"{GHP}\"  // gitleaks:allow"))
        .is_empty());
    // Only that line.
    assert_eq!(
        s.scan(&format!("# warden:allow-secret\nt = \"{GHP}\""))
            .len(),
        1
    );
}

#[test]
fn placeholders_are_ignored() {
    let s = Scanner::builtin();
    for t in [
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "api_key = \"your-api-key-goes-here\"",
        "password: ${DB_PASSWORD}",
        "token = \"<token>\"",
    ] {
        assert!(s.scan(t).is_empty(), "{t}");
    }
}

#[test]
fn specific_rule_beats_generic_and_positions_are_right() {
    let s = Scanner::builtin();
    let text = format!("line one\n  token: \"{GHP}\"\n");
    let f = s.scan(&text);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "github-pat");
    assert_eq!((f[0].line, f[0].column), (2, 11));
    assert_eq!(&text[f[0].byte_range.clone()], GHP);
}

#[test]
fn user_rules_add_override_and_disable() {
    let custom = RuleSpec {
        id: "acme-key".into(),
        description: "ACME internal key".into(),
        regex: Some(r"\b(acme_[0-9a-f]{32})\b".into()),
        secret_group: None,
        entropy: None,
        keywords: vec!["acme_".into()],
        path: None,
        generic: false,
        line_local: false,
        confidence: None,
        allowlists: vec![],
    };
    let text = format!("K=acme_9f3b1c7e5a2d8f60b4c19e7d3a5f2b81 {GHP}");
    let s = Scanner::with_rules(vec![custom.clone()], &["github-pat".to_string()]).unwrap();
    let ids: Vec<_> = s.scan(&text).into_iter().map(|f| f.rule_id).collect();
    assert!(ids.contains(&"acme-key".to_string()));
    assert!(!ids.contains(&"github-pat".to_string()));
    // A bad user regex is an error now, not a silent pass later.
    let bad = RuleSpec {
        regex: Some("(unclosed".into()),
        ..custom
    };
    assert!(Scanner::with_rules(vec![bad], &[]).is_err());
}

#[test]
fn findings_carry_a_confidence() {
    let s = Scanner::builtin();
    let text = format!(
        "GITHUB_TOKEN = \"{GHP}\"\n\
         api_token = \"k8Xq2pLm9Zr4Tw7YbN3c\"\n\
         DB_URL = \"mysql://nova:nova@localhost/nova\"\n"
    );
    let got: Vec<(String, Confidence)> = s
        .scan(&text)
        .into_iter()
        .map(|f| (f.rule_id, f.confidence))
        .collect();
    assert_eq!(
        got,
        [
            ("github-pat".to_string(), Confidence::High),
            ("generic-token".to_string(), Confidence::Medium),
            ("mysql-url-password".to_string(), Confidence::Low),
        ]
    );
    // Generated-looking values in a URL are rated by the value too.
    let f = s.scan("DB_URL = \"mysql://nova:Xq2pLm9Zr4Tw7YbN3c8K@db/nova\"");
    assert_eq!(f[0].confidence, Confidence::Medium);
}

/// The confidence of the one finding the built-in rules make in `text` at `path`.
fn rate_one(path: &str, text: &str) -> Confidence {
    let f = Scanner::builtin().scan_path_hint(Some(path), text);
    assert_eq!(f.len(), 1, "{path}: {text}");
    f[0].confidence
}

#[test]
fn where_a_value_is_written_rates_it() {
    let bare = "api_token = k8Xq2pLm9Zr4Tw7YbN3c\n";
    let quoted = "api_token = \"k8Xq2pLm9Zr4Tw7YbN3c\"\n";
    // Bare values are normal in configuration, an expression in source code.
    assert_eq!(rate_one(".env", bare), Confidence::Medium);
    assert_eq!(rate_one("src/client.ts", bare), Confidence::Low);
    assert_eq!(rate_one("src/client.ts", quoted), Confidence::Medium);
    // A value inside a string, such as a URL's query, is a literal.
    let in_url = "const u = \"https://h/vnc?token=Xq2pLm9Zr4Tw7YbN3c8K\";\n";
    assert_eq!(rate_one("src/console.ts", in_url), Confidence::Medium);
    // Tests, examples and documentation: made up for the occasion.
    assert_eq!(rate_one("tests/test_client.py", quoted), Confidence::Low);
    assert_eq!(rate_one("docs/setup.md", quoted), Confidence::Low);
    // A URL's password sits inside the URL's quotes: rated by its value.
    let url = "DB = \"postgres://app:Xq2pLm9Zr4Tw7YbN3c8K@db/app\"\n";
    assert_eq!(rate_one("src/db.go", url), Confidence::Medium);
    // A provider format is high wherever it is.
    let ghp = format!("token = {GHP}\n");
    assert_eq!(rate_one("tests/fixture.py", &ghp), Confidence::High);
}

#[test]
fn values_shown_in_comments_and_documentation_are_low() {
    let value = "Xq2pLm9Zr4Tw7YbN3c8K";
    let code = format!("client.password = \"{value}\"\n");
    assert_eq!(rate_one("lib/client.rb", &code), Confidence::Medium);
    // A doc comment shows how a call is used.
    let ruby_doc = format!("#\n#   client.password = \"{value}\"\n#\ndef password=(v)\nend\n");
    assert_eq!(rate_one("lib/client.rb", &ruby_doc), Confidence::Low);
    let javadoc = format!("/**\n * Example: api_token = \"{value}\"\n */\n");
    assert_eq!(rate_one("src/Client.java", &javadoc), Confidence::Low);
    // Perl's POD and Python's docstrings are documentation.
    let pod = format!("=head1 SYNOPSIS\n\n my $password = '{value}';\n\n=cut\n");
    assert_eq!(rate_one("lib/Client.pm", &pod), Confidence::Low);
    let after_pod = format!("=head1 NAME\n\n=cut\n\nmy $password = '{value}';\n");
    assert_eq!(rate_one("lib/Client.pm", &after_pod), Confidence::Medium);
    let docstring = format!("def login():\n    \"\"\"\n    api_token: {value}\n    \"\"\"\n");
    assert_eq!(rate_one("app/login.py", &docstring), Confidence::Low);
    let after_docstring = format!("\"\"\"Settings.\"\"\"\nAPI_TOKEN = \"{value}\"\n");
    assert_eq!(
        rate_one("app/settings.py", &after_docstring),
        Confidence::Medium
    );
    // A script installed without a suffix is known by its `#!` line.
    let perl_script = format!("#!/usr/bin/perl -w\n\n# Sample: Set-Cookie: form_token={value}\n");
    assert_eq!(
        rate_one("usr/bin/log-parser", &perl_script),
        Confidence::Low
    );
    // In configuration a commented-out line is often a real value set aside.
    let env = format!("# API_TOKEN={value}\n");
    assert_eq!(rate_one(".env", &env), Confidence::Medium);
    assert_eq!(rate_one("deploy/run.sh", &env), Confidence::Medium);
    let shell_script = format!("#!/bin/sh\n{env}");
    assert_eq!(
        rate_one("usr/bin/deploy", &shell_script),
        Confidence::Medium
    );
}

#[test]
fn a_shell_scripts_own_variables_are_low() {
    let value = "Xq2pLm9Zr4Tw7YbN3c8K";
    // Lower case and not exported: a value the script works with.
    let local = format!("#!/usr/bin/env bash\nf() {{\n  derived_secret=\"{value}\"\n}}\n");
    assert_eq!(rate_one("usr/bin/tls-check", &local), Confidence::Low);
    let in_case = format!("case $h in\n  sha256) early_secret=\"{value}\" ;;\nesac\n");
    assert_eq!(rate_one("scripts/check.sh", &in_case), Confidence::Low);
    // Upper case, exported or an argument: how a script is given or passes a credential.
    for line in [
        format!("API_SECRET=\"{value}\"\n"),
        format!("export api_secret=\"{value}\"\n"),
        format!("curl -d api_secret=\"{value}\" https://h/\n"),
    ] {
        assert_eq!(
            rate_one("scripts/deploy.sh", &line),
            Confidence::Medium,
            "{line}"
        );
    }
    // The same assignment in another language keeps its rating.
    assert_eq!(
        rate_one("app/tls.py", &format!("derived_secret = \"{value}\"\n")),
        Confidence::Medium
    );
}

#[test]
fn user_rules_set_their_confidence() {
    let spec: RuleSpec = toml::from_str(
        r#"
id = "acme-password"
regex = 'acme_password=(\S+)'
keywords = ["acme_password"]
confidence = "by-value"
"#,
    )
    .unwrap();
    assert_eq!(spec.confidence, Some(RuleConfidence::ByValue));
    let s = Scanner::with_rules(vec![spec.clone()], &[]).unwrap();
    assert_eq!(
        s.scan("acme_password=cinder1234567")[0].confidence,
        Confidence::Low
    );
    assert_eq!(
        s.scan("acme_password=Xq2pLm9Zr4Tw7YbN3c8K")[0].confidence,
        Confidence::Medium
    );
    // Unset on a non-generic rule: high, whatever the value.
    let plain = RuleSpec {
        confidence: None,
        ..spec
    };
    let s = Scanner::with_rules(vec![plain], &[]).unwrap();
    assert_eq!(
        s.scan("acme_password=cinder1234567")[0].confidence,
        Confidence::High
    );
    assert!(
        toml::from_str::<RuleSpec>("id = \"x\"\nregex = \"x\"\nconfidence = \"sure\"").is_err()
    );
}

#[test]
fn gitleaks_config_loads_as_is() {
    let cfg = r#"
title = "team config"
[extend]
useDefault = true
disabledRules = ["generic-token"]

[[rules]]
id = "acme-token"
description = "ACME token"
regex = '''acme_(?:live|test)_([a-z0-9]{24})'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME_"]
  [[rules.allowlists]]
  regexes = ['''^aaaaaaaa''']
  stopwords = ["fixture"]

[[rules]]
id = "keystore"
description = "Java keystore"
path = '''\.jks$'''

[allowlist]
description = "tests"
paths = ['''^testdata/''']
commits = ["abc123"]
"#;
    let config = Scanner::from_gitleaks_toml(cfg).unwrap();
    assert!(config.use_builtin);
    assert_eq!(config.disabled, vec!["generic-token".to_string()]);
    assert_eq!(config.rules[0].keywords, vec!["acme_".to_string()]);
    let s = Scanner::from_config(config).unwrap();
    let hit = "k = acme_live_q8w7e6r5t4y3u2i1o9p8a7s6";
    assert_eq!(s.scan(hit)[0].rule_id, "acme-token");
    assert_eq!(s.scan(hit)[0].preview, "q8w7***");
    assert!(
        s.scan("k = acme_live_fixture0q8w7e6r5t4y3u2i1").is_empty(),
        "stopword"
    );
    assert!(
        s.scan_path_hint(Some("testdata/a.txt"), hit).is_empty(),
        "global path allowlist"
    );
    assert_eq!(
        s.scan_path_hint(Some("keys/app.jks"), "")[0].rule_id,
        "keystore"
    );
    // Built-in rules came along (useDefault).
    assert_eq!(s.scan(&format!("x {GHP}"))[0].rule_id, "github-pat");
}

#[test]
fn gitleaks_config_without_extend_replaces_the_pack() {
    let cfg = "[[rules]]\nid = \"only\"\nregex = '''only_[0-9]{8}'''\nkeywords = [\"only_\"]\n";
    let s = Scanner::from_config(Scanner::from_gitleaks_toml(cfg).unwrap()).unwrap();
    assert_eq!(s.rule_count(), 1);
    assert!(Scanner::from_gitleaks_toml("[extend]\npath = \"other.toml\"\n").is_err());
    assert!(Scanner::from_gitleaks_toml("rules = 3").is_err());
}

#[test]
fn redaction_replaces_each_secret() {
    let s = Scanner::builtin();
    let text = format!("a={GHP}\nb=sk_live_4eC39HqLyjWDarjtT1zdp7dc9Xz\n");
    let (red, f) = s.redact(&text);
    assert_eq!(f.len(), 2);
    assert_eq!(
        red,
        "a=[REDACTED:github-pat]\nb=[REDACTED:stripe-secret-key]\n"
    );
    let clean = "nothing to see";
    assert!(matches!(s.redact(clean).0, std::borrow::Cow::Borrowed(_)));
}

#[test]
fn default_config_equals_builtin() {
    let a = Scanner::builtin().rule_count();
    let b = Scanner::from_config(ScanConfig {
        use_builtin: true,
        ..ScanConfig::default()
    })
    .unwrap()
    .rule_count();
    assert_eq!(a, b);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any text, with a token spliced in anywhere: no panic, the token is found, and the
    /// redacted text no longer holds it and scans clean of it.
    #[test]
    fn redaction_removes_the_secret(prefix in "\\PC{0,200}", suffix in "\\PC{0,200}") {
        let s = Scanner::builtin();
        let text = format!("{prefix}\n{GHP}\n{suffix}");
        let (red, found) = s.redact(&text);
        prop_assert!(found.iter().any(|f| f.rule_id == "github-pat"));
        prop_assert!(!red.contains(GHP));
        prop_assert!(s.scan(&red).iter().all(|f| f.rule_id != "github-pat"));
    }

    #[test]
    fn never_panics_and_ranges_are_valid(text in "\\PC{0,400}") {
        let s = Scanner::builtin();
        for f in s.scan(&text) {
            prop_assert!(text.get(f.byte_range.clone()).is_some());
            prop_assert!(f.line >= 1 && f.column >= 1);
        }
    }
}
