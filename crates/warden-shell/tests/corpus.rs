//! The destructive-spellings corpus: every case must get its expected pack decision.

use serde::Deserialize;
use warden_shell::packs::{self, PackDecision, PackSelection};

#[derive(Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    category: String,
    decision: String,
    cmd: String,
}

fn load() -> Corpus {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/destructive.toml");
    let text = std::fs::read_to_string(path).expect("tests/corpus/destructive.toml is readable");
    toml::from_str(&text).expect("destructive.toml parses")
}

#[test]
fn corpus_is_big_enough_and_covers_every_category() {
    let c = load();
    let destructive = c.case.iter().filter(|c| c.decision == "deny").count();
    assert!(destructive >= 150, "only {destructive} deny cases");
    for cat in [
        "filesystem",
        "git",
        "database",
        "infrastructure",
        "dynamic-code",
    ] {
        assert!(
            c.case
                .iter()
                .any(|c| c.category == cat && c.decision == "deny"),
            "no deny case for {cat}"
        );
    }
    for cat in ["network", "privilege"] {
        assert!(
            c.case.iter().any(|c| c.category == cat),
            "no case for {cat}"
        );
    }
    assert!(c.case.iter().filter(|c| c.category == "benign").count() >= 50);
}

#[test]
fn every_case_gets_its_decision() {
    let sel = PackSelection::all();
    let mut failures = Vec::new();
    for case in load().case {
        let analysis = warden_shell::analyze(&case.cmd);
        let hits = packs::evaluate(&analysis, &sel);
        let got = packs::strongest(&hits);
        let ok = match case.decision.as_str() {
            "deny" => got == Some(PackDecision::Deny),
            "ask" => got == Some(PackDecision::Ask),
            "not-deny" => got != Some(PackDecision::Deny),
            other => panic!("unknown decision {other:?} for {:?}", case.cmd),
        };
        if !ok {
            failures.push(format!(
                "[{}] {:?}: expected {}, got {:?}\n{}",
                case.category,
                case.cmd,
                case.decision,
                got,
                analysis.render()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn disabling_a_pack_removes_its_hits() {
    let a = warden_shell::analyze("git push --force");
    let all = packs::evaluate(&a, &PackSelection::all());
    assert!(all.iter().any(|h| h.rule == "core.git:force-push"));
    let without = packs::evaluate(&a, &PackSelection::all().without("core.git"));
    assert!(without.iter().all(|h| h.pack != "core.git"));
    let without_rule = packs::evaluate(&a, &PackSelection::all().without("core.git:force-push"));
    assert!(without_rule.iter().all(|h| h.rule != "core.git:force-push"));
}

#[test]
fn every_rule_id_is_unique_and_prefixed_by_its_pack() {
    let mut seen = std::collections::HashSet::new();
    for pack in packs::builtin_packs() {
        for rule in pack.rules {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            assert_eq!(rule.pack, pack.id);
            assert!(rule.id.starts_with(&format!("{}:", pack.id)), "{}", rule.id);
            assert!(packs::rule(rule.id).is_some());
        }
    }
}
