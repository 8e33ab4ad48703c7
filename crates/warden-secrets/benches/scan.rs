//! The hook's budget: scanning a 100 KiB Write must take at most 1 ms, and building the
//! scanner (once per hook process) must stay small.
//!
//! cargo bench -p warden-secrets --bench scan -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use warden_secrets::{ScanConfig, Scanner};

#[path = "support/payload.rs"]
mod payload;
use payload::write_payload;

fn benches(c: &mut Criterion) {
    let text = write_payload();
    let scanner = Scanner::builtin();
    assert_eq!(scanner.scan(&text).len(), 1);

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("write_100k", |b| b.iter(|| scanner.scan(black_box(&text))));
    g.bench_function("redact_100k", |b| {
        b.iter(|| scanner.redact(black_box(&text)))
    });
    g.finish();

    let mut g = c.benchmark_group("construct");
    // What a hook process pays once: set up the table of built-in rules (the pack, its
    // keyword automaton and gates are compiled into the binary; regexes compile on first use).
    g.bench_function("builtin_uncached", |b| {
        b.iter(|| {
            Scanner::from_config(ScanConfig {
                use_builtin: true,
                ..ScanConfig::default()
            })
        })
    });
    g.bench_function("builtin_cached", |b| b.iter(Scanner::builtin));
    g.finish();
}

criterion_group!(scan, benches);
criterion_main!(scan);
