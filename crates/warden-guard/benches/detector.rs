//! Injection detector speed on one thread, wall clock: throughput over realistic tool output
//! with and without cues, the cost of one call on a 20 KiB file read, and the cost of
//! building the detector (paid once per hook process). Inputs: `benches/inputs/mod.rs`.
//!
//! `cargo bench -p warden-guard --bench detector`

mod inputs;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use warden_guard::InjectionDetector;

fn bench(c: &mut Criterion) {
    let det = InjectionDetector::new();
    let mut g = c.benchmark_group("detector");
    // Whole corpora as one text each.
    for (name, dir) in [
        ("docs", "tests/corpus/benign"),
        ("code and HTML", "benches/corpus"),
    ] {
        let text = inputs::concat(&inputs::files(dir));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("scan {name} (one thread)"), |b| {
            b.iter(|| det.scan(black_box(&text)))
        });
    }
    // One scan per document, as the hook sees them.
    for (name, docs) in [
        (
            "docs carrying injections",
            inputs::docs_carrying_injections(),
        ),
        ("attacks alone", inputs::files("tests/corpus/attacks")),
    ] {
        let bytes: usize = docs.iter().map(String::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("scan {name}, one call per document"), |b| {
            b.iter(|| {
                for d in &docs {
                    black_box(det.scan(black_box(d)));
                }
            })
        });
    }
    let worst = inputs::agent_words_one_line();
    g.throughput(Throughput::Bytes(worst.len() as u64));
    g.bench_function("scan agent words on one line (worst case)", |b| {
        b.iter(|| det.scan(black_box(&worst)))
    });
    let file = inputs::source_20k();
    g.throughput(Throughput::Bytes(file.len() as u64));
    g.bench_function("scan 20 KiB file read", |b| {
        b.iter(|| det.scan(black_box(&file)))
    });
    // What one hook call pays in process: build the detector, scan one tool output.
    g.bench_function("new() + scan 20 KiB file read (one hook call)", |b| {
        b.iter(|| InjectionDetector::new().scan(black_box(&file)))
    });
    g.finish();

    c.bench_function("InjectionDetector::new", |b| b.iter(InjectionDetector::new));
}

criterion_group!(benches, bench);
criterion_main!(benches);
