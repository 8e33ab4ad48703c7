//! What a fresh hook process pays for secret scanning: the first `Scanner::builtin()` and
//! one scan of a ~200-byte Bash command, timed inside the process, plus a whole-process
//! figure when run under a process timer.
//!
//! cargo run --release -p warden-secrets --example first_scan            # prints the times
//! cargo run --release -p warden-secrets --example first_scan -- --quiet # for hyperfine
//! cargo run --release -p warden-secrets --example first_scan -- --noop  # the baseline process
//! cargo run --release -p warden-secrets --example first_scan -- --file F  # scan F instead
//! cargo run --release -p warden-secrets --example first_scan -- --payload # the bench's 100 KiB Write
//!
//! `--repeat N` then scans the same text N more times and prints the fastest and the median
//! of those (warm) scans.

use std::time::Instant;

use warden_secrets::Scanner;

#[path = "../benches/support/payload.rs"]
mod payload;

/// A ~200-byte command of the kind a coding agent runs, with trigger words (`token`,
/// `password`, `https://`) but no secret: the common case in a hook.
const COMMAND: &str = "cd /srv/app && export API_BASE=https://api.internal.example.org/v2 && \
    curl -sS -H \"Authorization: Bearer $SERVICE_TOKEN\" \"$API_BASE/users?limit=50\" | \
    jq '.items[] | {id, name}' > users.json && git status";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--noop") {
        return;
    }
    let quiet = args.iter().any(|a| a == "--quiet");
    let file = args
        .iter()
        .position(|a| a == "--file")
        .map(|i| std::fs::read_to_string(&args[i + 1]).expect("--file: a readable UTF-8 file"));
    let payload = args
        .iter()
        .any(|a| a == "--payload")
        .then(payload::write_payload);
    let repeat: usize = args
        .iter()
        .position(|a| a == "--repeat")
        .map_or(0, |i| args[i + 1].parse().expect("--repeat N"));
    let given = file.is_some() || payload.is_some();
    let text = file.as_deref().or(payload.as_deref()).unwrap_or(COMMAND);
    let t0 = Instant::now();
    let scanner = Scanner::builtin();
    let t1 = Instant::now();
    let findings = scanner.scan(std::hint::black_box(text));
    let t2 = Instant::now();
    assert!(
        given || findings.is_empty(),
        "unexpected finding: {findings:?}"
    );
    if !quiet {
        println!("findings: {}", findings.len());
        println!(
            "first Scanner::builtin(): {:>8.1} µs\nfirst scan ({} bytes):   {:>8.1} µs\ntotal:                    {:>8.1} µs",
            (t1 - t0).as_secs_f64() * 1e6,
            text.len(),
            (t2 - t1).as_secs_f64() * 1e6,
            (t2 - t0).as_secs_f64() * 1e6,
        );
    }
    if repeat > 0 {
        let mut times: Vec<f64> = (0..repeat)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(scanner.scan(std::hint::black_box(text)));
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{repeat} warm scans: fastest {:.1} µs, median {:.1} µs",
            times[0],
            times[repeat / 2]
        );
    }
}
