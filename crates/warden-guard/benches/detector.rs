//! Injection detector speed: throughput over real documentation (the benign corpus, one
//! thread), the cost of one call on a typical 10 KiB tool output, and the cost of building
//! the detector (paid once per hook process).
//!
//! `cargo bench -p warden-guard --bench detector`

use std::fs;
use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use warden_guard::InjectionDetector;

fn corpus() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/benign");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .expect("benign corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    let mut all = String::new();
    for p in paths {
        all.push_str(&fs::read_to_string(&p).expect("utf-8 corpus file"));
        all.push('\n');
    }
    all
}

fn bench(c: &mut Criterion) {
    let det = InjectionDetector::new();
    let dfa = InjectionDetector::new_dfa();
    let text = corpus();

    let mut g = c.benchmark_group("detector");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("scan benign corpus, new() (one thread)", |b| {
        b.iter(|| det.scan(black_box(&text)))
    });
    g.bench_function("scan benign corpus, new_dfa() (one thread)", |b| {
        b.iter(|| dfa.scan(black_box(&text)))
    });
    // A typical tool output: 10 KiB of README-like text.
    let mut end = 10 * 1024;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let ten_k = &text[..end];
    g.throughput(Throughput::Bytes(ten_k.len() as u64));
    g.bench_function("scan 10 KiB tool output, new()", |b| {
        b.iter(|| det.scan(black_box(ten_k)))
    });
    // What one hook call pays: build the detector, scan one tool output.
    g.bench_function("new() + scan 10 KiB (one hook call)", |b| {
        b.iter(|| InjectionDetector::new().scan(black_box(ten_k)))
    });
    g.finish();

    c.bench_function("InjectionDetector::new", |b| b.iter(InjectionDetector::new));
    c.bench_function("InjectionDetector::new_dfa", |b| {
        b.iter(InjectionDetector::new_dfa)
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
