//! `cargo bench -p warden-shell --bench analyze`
//!
//! Targets (issue 4): a typical command in at most 50 µs; the whole tldr corpus (29,496
//! lines) in at most 2 s on one thread.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use warden_shell::packs::{self, PackSelection};

fn corpus() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/tldr-commands.jsonl"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("tldr corpus missing at {path}: {e}"));
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["cmd"].as_str().map(str::to_owned))
        .collect()
}

fn bench(c: &mut Criterion) {
    let typical =
        "cd /repo && git -C sub push origin +main && sudo rm -rf build/ 2>/dev/null | tee log.txt";
    c.bench_function("analyze typical command", |b| {
        b.iter(|| warden_shell::analyze(black_box(typical)))
    });
    c.bench_function("analyze + packs typical command", |b| {
        let sel = PackSelection::all();
        b.iter(|| {
            let a = warden_shell::analyze(black_box(typical));
            packs::evaluate(&a, &sel)
        })
    });
    c.bench_function("analyze simple command", |b| {
        b.iter(|| warden_shell::analyze(black_box("npm test -- --watch")))
    });
    // The same through the bash parser, as before plain words skipped it.
    c.bench_function("analyze simple command, parser only", |b| {
        b.iter(|| warden_shell::analyze_with_parser_only(black_box("npm test -- --watch")))
    });

    let lines = corpus();
    let mut group = c.benchmark_group("tldr corpus");
    group.sample_size(10);
    group.bench_function("analyze + packs, all 29,496 lines, one thread", |b| {
        let sel = PackSelection::all();
        b.iter(|| {
            let mut n = 0usize;
            for l in &lines {
                let a = warden_shell::analyze(l);
                n += packs::evaluate(&a, &sel).len();
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
