//! Injection detector speed on one thread, wall clock: throughput over realistic tool output
//! with and without cues, the cost of one call on a 20 KiB file read, and the cost of
//! building the detector (paid once per hook process).
//!
//! `cargo bench -p warden-guard --bench detector`
//!
//! Inputs (see `benches/corpus/SOURCES.md` and `tests/corpus/README.md`):
//! - docs: the benign corpus, 200 READMEs, changelogs and how-tos (few cues);
//! - code and HTML: Rust sources and HTML documentation pages, as an agent reads them;
//! - attacks: the 130 injection samples (cue-dense: every file has a finding).

use std::fs;
use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use warden_guard::InjectionDetector;

/// The files of `dir` (under the crate), concatenated in name order.
fn corpus(dir: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES.md"))
        .collect();
    paths.sort();
    let mut all = String::new();
    for p in paths {
        all.push_str(&fs::read_to_string(&p).expect("utf-8 corpus file"));
        all.push('\n');
    }
    all
}

/// The first `n` bytes of `text`, cut back to a character boundary.
fn head(text: &str, mut n: usize) -> &str {
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    &text[..n]
}

fn bench(c: &mut Criterion) {
    let det = InjectionDetector::new();
    let mut g = c.benchmark_group("detector");
    for (name, dir) in [
        ("docs", "tests/corpus/benign"),
        ("code and HTML", "benches/corpus"),
        ("attacks", "tests/corpus/attacks"),
    ] {
        let text = corpus(dir);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("scan {name} (one thread)"), |b| {
            b.iter(|| det.scan(black_box(&text)))
        });
    }
    // A typical tool output: a 20 KiB file read (Rust source).
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus/serde_json-de.rs");
    let source = fs::read_to_string(source).expect("utf-8 source file");
    let file = head(&source, 20 * 1024);
    g.throughput(Throughput::Bytes(file.len() as u64));
    g.bench_function("scan 20 KiB file read", |b| {
        b.iter(|| det.scan(black_box(file)))
    });
    // What one hook call pays in process: build the detector, scan one tool output.
    g.bench_function("new() + scan 20 KiB file read (one hook call)", |b| {
        b.iter(|| InjectionDetector::new().scan(black_box(file)))
    });
    g.finish();

    c.bench_function("InjectionDetector::new", |b| b.iter(InjectionDetector::new));
}

criterion_group!(benches, bench);
criterion_main!(benches);
