//! Prints every signal the detector scores for each file named on the command line,
//! including those below the reporting threshold: `cargo run --example scan -- FILE...`

use warden_guard::InjectionDetector;

fn main() {
    let det = InjectionDetector::new();
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let all = det.scan_all(&text);
        let best = all.iter().map(|s| s.score).fold(0.0, f32::max);
        println!("{path}: best {best:.2}");
        for s in all.iter().filter(|s| s.score >= 0.2) {
            println!(
                "  {:.2} {:?} line {}: {}",
                s.score, s.kind, s.line, s.excerpt
            );
        }
    }
}
