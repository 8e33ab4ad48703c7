//! Inputs shared by `benches/detector.rs` and `examples/throughput.rs`.
//!
//! - docs: the benign corpus, 200 READMEs, changelogs and how-tos (cue words, no finding);
//! - code and HTML: Rust sources and HTML documentation pages (`benches/corpus`);
//! - docs carrying injections: each of the 130 attacks planted in the middle of a benign
//!   document, one tool output per document (what a poisoned README looks like);
//! - attacks alone: the 130 attack texts, a few hundred bytes each and nothing but cues;
//! - agent words on one line: 16 KiB of AI and model names with no sentence end, the worst
//!   case known (the sentence rule reads a few hundred bytes around every agent word);
//! - one 20 KiB file read: the first 20 KiB of a Rust source file.

#![allow(dead_code)]

use std::fs;
use std::path::Path;

/// The texts of the files in `dir` (relative to the crate), in name order.
pub fn files(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES.md"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| fs::read_to_string(p).expect("utf-8 corpus file"))
        .collect()
}

/// The texts joined by newlines.
pub fn concat(texts: &[String]) -> String {
    let mut all = String::new();
    for t in texts {
        all.push_str(t);
        all.push('\n');
    }
    all
}

/// Attack k planted after the line nearest the middle of benign document k.
pub fn docs_carrying_injections() -> Vec<String> {
    let benign = files("tests/corpus/benign");
    let attacks = files("tests/corpus/attacks");
    attacks
        .iter()
        .zip(benign.iter().cycle())
        .map(|(attack, doc)| {
            let cut = doc[doc.len() / 2..]
                .find('\n')
                .map_or(doc.len(), |i| doc.len() / 2 + i + 1);
            format!("{}\n{attack}\n{}", &doc[..cut], &doc[cut..])
        })
        .collect()
}

/// The first `n` bytes of `text`, cut back to a character boundary.
pub fn head(text: &str, mut n: usize) -> &str {
    n = n.min(text.len());
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    &text[..n]
}

/// A 20 KiB file read: the start of a Rust source file.
pub fn source_20k() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus/serde_json-de.rs");
    let text = fs::read_to_string(path).expect("utf-8 source file");
    head(&text, 20 * 1024).to_string()
}

/// Agent words back to back on one line, 16 KiB: the worst case known.
pub fn agent_words_one_line() -> String {
    let unit = "assistant agent model AI claude llm ";
    unit.repeat(16 * 1024 / unit.len())
}
