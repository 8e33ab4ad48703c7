//! Detector throughput on one thread, wall clock, next to the thread's own CPU time, so that
//! a figure taken on a busy machine also says what one core does:
//! `cargo run --release -p warden-guard --example throughput`
//!
//! Inputs as in `benches/detector.rs`: docs (the benign corpus), code and HTML pages
//! (`benches/corpus`), attacks (cue-dense), and one 20 KiB source file.
//! CPU time comes from `/proc/thread-self/schedstat` (Linux); elsewhere only wall time is shown.

use std::path::Path;
use std::time::Instant;

use warden_guard::InjectionDetector;

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

fn corpus(dir: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES.md"))
        .collect();
    paths.sort();
    let mut text = String::new();
    for p in paths {
        text.push_str(&std::fs::read_to_string(p).expect("utf-8"));
        text.push('\n');
    }
    text
}

fn main() {
    let det = InjectionDetector::new();
    for (name, dir) in [
        ("docs", "tests/corpus/benign"),
        ("code and HTML", "benches/corpus"),
        ("attacks", "tests/corpus/attacks"),
    ] {
        let text = corpus(dir);
        measure(
            &format!("{name} ({} KiB)", text.len() / 1024),
            text.len(),
            || {
                std::hint::black_box(det.scan(&text));
            },
        );
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus/serde_json-de.rs");
    let source = std::fs::read_to_string(source).expect("utf-8");
    let mut end = 20 * 1024;
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let file = &source[..end];
    measure("20 KiB source file", file.len(), || {
        std::hint::black_box(det.scan(file));
    });
    measure("new() + scan 20 KiB source file", file.len(), || {
        std::hint::black_box(InjectionDetector::new().scan(file));
    });
}
