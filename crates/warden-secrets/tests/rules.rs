//! Every built-in rule is held to its own test cases.

use warden_secrets::builtin::rules_with_cases;
use warden_secrets::{RuleSpec, Scanner};

#[test]
fn pack_has_over_100_rules_with_unique_ids() {
    let rules = rules_with_cases().expect("pack parses");
    assert!(rules.len() >= 100, "only {} rules", rules.len());
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "duplicate rule ids");
    assert_eq!(Scanner::builtin().rule_count(), rules.len());
}

#[test]
fn every_rule_compiles_and_is_prefiltered() {
    for rule in rules_with_cases().unwrap() {
        // Compiling through with_rules (eager) surfaces regex and group errors.
        let spec: RuleSpec = rule.spec();
        Scanner::with_rules(vec![spec.clone()], &[]).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
        if spec.regex.is_some() {
            assert!(!spec.keywords.is_empty(), "{} has no keywords", rule.id);
            assert!(
                !rule.positive.is_empty(),
                "{} has no positive case",
                rule.id
            );
            assert!(
                !rule.negative.is_empty(),
                "{} has no negative case",
                rule.id
            );
        }
        for k in &spec.keywords {
            assert_eq!(
                k,
                &k.to_ascii_lowercase(),
                "{}: keyword {k} must be lowercase",
                rule.id
            );
        }
    }
}

#[test]
fn positive_cases_are_found_by_their_rule() {
    let scanner = Scanner::builtin();
    let mut failures = Vec::new();
    for rule in rules_with_cases().unwrap() {
        for (n, case) in rule.positive.iter().enumerate() {
            let found = scanner.scan(case);
            if !found.iter().any(|f| f.rule_id == rule.id) {
                let got: Vec<&str> = found.iter().map(|f| f.rule_id.as_str()).collect();
                failures.push(format!("{} positive #{n}: got {got:?}", rule.id));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn negative_cases_are_not_found_by_their_rule() {
    let scanner = Scanner::builtin();
    let mut failures = Vec::new();
    for rule in rules_with_cases().unwrap() {
        for (n, case) in rule.negative.iter().enumerate() {
            if scanner.scan(case).iter().any(|f| f.rule_id == rule.id) {
                failures.push(format!("{} negative #{n}", rule.id));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn findings_never_show_the_secret() {
    let scanner = Scanner::builtin();
    for rule in rules_with_cases().unwrap() {
        for case in &rule.positive {
            for f in scanner.scan(case) {
                let secret = &case[f.byte_range.clone()];
                let shown = format!("{f} {f:?} {}", serde_json::to_string(&f).unwrap());
                if secret.len() > 8 {
                    assert!(
                        !shown.contains(secret),
                        "{}: finding shows the secret",
                        rule.id
                    );
                }
                assert!(f.preview.ends_with("***"));
                assert!(f.preview.chars().count() <= 7);
            }
        }
    }
}

#[test]
fn path_only_rule_needs_a_path() {
    let scanner = Scanner::builtin();
    assert!(scanner.scan("binary-ish").is_empty());
    let f = scanner.scan_path_hint(Some("certs/client.p12"), "binary-ish");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "pkcs12-file");
}
