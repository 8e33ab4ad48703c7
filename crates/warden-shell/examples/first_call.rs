//! Measures the cost of the first `analyze` call in a fresh process (what a hook pays):
//! `cargo run --release -p warden-shell --example first_call`.
use std::time::Instant;

fn main() {
    let cmd =
        "cd /repo && git -C sub push origin +main && sudo rm -rf build/ 2>/dev/null | tee log.txt";
    let t = Instant::now();
    let a = warden_shell::analyze(cmd);
    let first = t.elapsed();
    let t = Instant::now();
    let b = warden_shell::analyze(cmd);
    let second = t.elapsed();
    assert_eq!(a, b);
    println!("first analyze: {first:?}, second: {second:?}");
}
