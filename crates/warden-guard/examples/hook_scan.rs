//! What the injection detector adds to one hook process (the hook is a fresh process per
//! tool call): build the detector and scan one tool output, here the file named on the
//! command line. With `--noop` the program reads the same file and does nothing else, so
//! the difference between the two, timed as whole processes, is the detector's share:
//!
//! ```sh
//! cargo build --release -p warden-guard --example hook_scan
//! hyperfine -N --warmup 50 --runs 1000 \
//!   'target/release/examples/hook_scan --noop FILE' 'target/release/examples/hook_scan FILE'
//! ```
//!
//! On a busy machine `examples/fresh_process.rs` runs the two in turn instead.

use std::process::ExitCode;

use warden_guard::InjectionDetector;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let noop = args.next_if(|a| a == "--noop").is_some();
    let Some(path) = args.next() else {
        eprintln!("usage: hook_scan [--noop] FILE");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    if noop {
        println!("{} bytes", text.len());
    } else {
        let signals = InjectionDetector::new().scan(&text);
        println!("{} bytes, {} signals", text.len(), signals.len());
    }
    ExitCode::SUCCESS
}
