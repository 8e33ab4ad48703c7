//! Every line of the tldr corpus (29,496 real command lines) goes through the analyser without
//! a panic and in bounded time; the lines the default packs deny are a reviewed snapshot.

use std::time::{Duration, Instant};
use warden_shell::packs::{self, PackDecision, PackSelection};

fn corpus() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/tldr-commands.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("the tldr corpus must be present at {path} (shared/ beside the checkout): {e}")
    });
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus line is JSON");
            v["cmd"].as_str().expect("corpus line has cmd").to_owned()
        })
        .collect();
    assert!(
        lines.len() > 29_000,
        "corpus truncated: {} lines",
        lines.len()
    );
    lines
}

/// Generous per-line bound: a debug build on a slow CI machine. The release figure is in
/// the criterion benchmark (tens of microseconds).
const PER_LINE: Duration = Duration::from_millis(250);

#[test]
fn every_line_is_analysed_without_panic_in_bounded_time() {
    let mut slowest = (Duration::ZERO, String::new());
    let mut unresolved = 0usize;
    for line in corpus() {
        let start = Instant::now();
        let result = std::panic::catch_unwind(|| warden_shell::analyze(&line));
        let took = start.elapsed();
        let analysis = result.unwrap_or_else(|_| panic!("analyze panicked on {line:?}"));
        if !analysis.unresolved.is_empty() {
            unresolved += 1;
            // An unparseable line never comes out without a reason.
            assert!(analysis.unresolved.iter().all(|u| !u.reason.is_empty()));
        }
        if took > slowest.0 {
            slowest = (took, line.clone());
        }
    }
    assert!(
        slowest.0 < PER_LINE,
        "slowest line took {:?}: {:?}",
        slowest.0,
        slowest.1
    );
    // Roughly 1.3% of the corpus is not shell (key bindings such as `<Ctrl c>`), plus
    // computed program names; a jump here means the parser or the walker regressed.
    assert!(unresolved < 1_500, "{unresolved} lines unresolved");
}

#[test]
fn lines_denied_by_default_packs() {
    let sel = PackSelection::all();
    let mut denied = Vec::new();
    for line in corpus() {
        let analysis = warden_shell::analyze(&line);
        let hits = packs::evaluate(&analysis, &sel);
        let mut rules: Vec<&str> = hits
            .iter()
            .filter(|h| h.decision == PackDecision::Deny)
            .map(|h| h.rule)
            .collect();
        rules.sort_unstable();
        rules.dedup();
        if !rules.is_empty() {
            denied.push(format!(
                "{}  <- {}",
                line.replace('\n', "\\n"),
                rules.join(", ")
            ));
        }
    }
    insta::assert_snapshot!("tldr_denied", denied.join("\n"));
}
