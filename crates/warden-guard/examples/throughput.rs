//! Detector throughput on one thread, wall clock, next to the thread's own CPU time, so that
//! a figure taken on a busy machine also says what one core does:
//! `cargo run --release -p warden-guard --example throughput`
//!
//! Inputs as in `benches/detector.rs` (`benches/inputs/mod.rs`).
//! CPU time comes from `/proc/thread-self/schedstat` (Linux); elsewhere only wall time is shown.

use std::time::Instant;

use warden_guard::InjectionDetector;

#[path = "../benches/inputs/mod.rs"]
mod inputs;

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn measure(name: &str, bytes: usize, mut f: impl FnMut()) {
    f();
    let (w0, c0) = (Instant::now(), cpu_ns());
    let mut n = 0u32;
    while w0.elapsed().as_secs_f64() < 3.0 {
        f();
        n += 1;
    }
    let wall = w0.elapsed().as_secs_f64() / f64::from(n);
    let per = |secs: f64| (secs * 1e6, bytes as f64 / secs / 1e6);
    let (wus, wmb) = per(wall);
    match (c0, cpu_ns()) {
        (Some(a), Some(b)) => {
            let cpu = (b - a) as f64 / 1e9 / f64::from(n);
            let (cus, cmb) = per(cpu);
            println!("{name}: wall {wus:.1} µs ({wmb:.0} MB/s), on-CPU {cus:.1} µs ({cmb:.0} MB/s), {n} runs");
        }
        _ => println!("{name}: wall {wus:.1} µs ({wmb:.0} MB/s), {n} runs"),
    }
}

fn main() {
    let det = InjectionDetector::new();
    for (name, dir) in [
        ("docs", "tests/corpus/benign"),
        ("code and HTML", "benches/corpus"),
    ] {
        let text = inputs::concat(&inputs::files(dir));
        measure(
            &format!("{name} ({} KiB)", text.len() / 1024),
            text.len(),
            || {
                std::hint::black_box(det.scan(&text));
            },
        );
    }
    for (name, docs) in [
        (
            "docs carrying injections",
            inputs::docs_carrying_injections(),
        ),
        ("attacks alone", inputs::files("tests/corpus/attacks")),
    ] {
        let bytes: usize = docs.iter().map(String::len).sum();
        let label = format!("{name} ({} docs, {} KiB)", docs.len(), bytes / 1024);
        measure(&label, bytes, || {
            for d in &docs {
                std::hint::black_box(det.scan(d));
            }
        });
    }
    let worst = inputs::agent_words_one_line();
    measure(
        &format!("agent words on one line ({} KiB)", worst.len() / 1024),
        worst.len(),
        || {
            std::hint::black_box(det.scan(&worst));
        },
    );
    let file = inputs::source_20k();
    measure("20 KiB source file", file.len(), || {
        std::hint::black_box(det.scan(&file));
    });
    measure("new() + scan 20 KiB source file", file.len(), || {
        std::hint::black_box(InjectionDetector::new().scan(&file));
    });
}
