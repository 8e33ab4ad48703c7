//! What the injection detector adds to a fresh hook process, measured on a busy machine:
//! runs `hook_scan --noop FILE` and `hook_scan FILE` (see `examples/hook_scan.rs`) in turn,
//! in random order within each pair, so that a burst of load falls on both alike, and prints
//! the median wall time of each and the median of the paired differences. hyperfine runs
//! one command's batch after the other's, and under load its medians drift by more than
//! the difference being measured.
//!
//! ```sh
//! cargo build --release -p warden-guard --example hook_scan --example fresh_process
//! target/release/examples/fresh_process FILE [PAIRS]
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Wall time of one run of `hook_scan [--noop] file`, in milliseconds.
fn run(hook_scan: &Path, noop: bool, file: &str) -> f64 {
    let mut cmd = Command::new(hook_scan);
    if noop {
        cmd.arg("--noop");
    }
    cmd.arg(file).stdout(Stdio::null());
    let t0 = Instant::now();
    let status = cmd.status().expect("hook_scan runs");
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    assert!(status.success(), "hook_scan failed: {status}");
    ms
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: fresh_process FILE [PAIRS]");
        return ExitCode::from(2);
    };
    let pairs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(3000);
    let exe = std::env::current_exe().expect("own path");
    let hook_scan: PathBuf = exe.with_file_name("hook_scan");
    if !hook_scan.exists() {
        eprintln!(
            "{} not found: build the hook_scan example",
            hook_scan.display()
        );
        return ExitCode::from(2);
    }
    for _ in 0..50 {
        run(&hook_scan, true, &file);
        run(&hook_scan, false, &file);
    }
    // A small xorshift for the order within each pair: no dependency for a coin flip.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut noop, mut scan, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (a, b) = if seed & 1 == 0 {
            let a = run(&hook_scan, true, &file);
            (a, run(&hook_scan, false, &file))
        } else {
            let b = run(&hook_scan, false, &file);
            (run(&hook_scan, true, &file), b)
        };
        noop.push(a);
        scan.push(b);
        diff.push(b - a);
    }
    let (n, s, d) = (median(&mut noop), median(&mut scan), median(&mut diff));
    println!("{pairs} pairs: read only {n:.3} ms, build + scan {s:.3} ms (medians)");
    println!("added by the detector: {d:.3} ms (median of paired differences)");
    ExitCode::SUCCESS
}
