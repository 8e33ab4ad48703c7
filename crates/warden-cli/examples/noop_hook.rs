//! The floor for hook cost: a Rust program that reads stdin and prints `{}`.
//! BENCHMARKS.md compares `warden hook claude` against it, both measured in the same run.
use std::io::{Read, Write};

fn main() {
    let mut input = String::new();
    let _ = std::io::stdin().read_to_string(&mut input);
    let _ = writeln!(std::io::stdout(), "{{}}");
}
