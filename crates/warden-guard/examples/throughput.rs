//! Detector throughput measured against the thread's own CPU time as well as wall time, so
//! that a figure taken on a busy machine still says what one core does:
//! `cargo run --release -p warden-guard --example throughput`
//!
//! CPU time comes from `/proc/thread-self/schedstat` (Linux); elsewhere only wall time is shown.

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

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/benign");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("benign corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    let mut text = String::new();
    for p in paths {
        text.push_str(&std::fs::read_to_string(p).expect("utf-8"));
        text.push('\n');
    }
    let mut end = 10 * 1024;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let ten_k = &text[..end];
    let det = InjectionDetector::new();
    let dfa = InjectionDetector::new_dfa();
    measure("corpus, new()", text.len(), || {
        std::hint::black_box(det.scan(&text));
    });
    measure("corpus, new_dfa()", text.len(), || {
        std::hint::black_box(dfa.scan(&text));
    });
    measure("10 KiB, new()", ten_k.len(), || {
        std::hint::black_box(det.scan(ten_k));
    });
    measure("build new()", 0, || {
        std::hint::black_box(InjectionDetector::new());
    });
    measure("build new() + scan 10 KiB", ten_k.len(), || {
        std::hint::black_box(InjectionDetector::new().scan(ten_k));
    });
}
