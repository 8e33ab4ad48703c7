//! Precision and recall of the injection detector over the labelled corpus in
//! `tests/corpus/` (attacks/ are positives, benign/ are negatives; see corpus/README.md).
//!
//! Reproduce the figures: `cargo test -p warden-guard --test eval -- --nocapture`

use std::fs;
use std::path::{Path, PathBuf};

use warden_guard::InjectionDetector;

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(dir);
    let mut out: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("corpus dir {} unreadable: {e}", root.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCES.md"))
        .collect();
    out.sort();
    out
}

#[test]
fn precision_and_recall_floors() {
    let det = InjectionDetector::new();
    let attacks = files("attacks");
    let benign = files("benign");
    assert!(
        attacks.len() >= 60,
        "need at least 60 attacks, have {}",
        attacks.len()
    );
    assert!(
        benign.len() >= 100,
        "need at least 100 benign docs, have {}",
        benign.len()
    );

    let mut tp = 0usize;
    let mut missed = Vec::new();
    for p in &attacks {
        let text = fs::read_to_string(p).expect("attack file is UTF-8");
        let sig = det.scan(&text);
        if sig.is_empty() {
            missed.push(format!(
                "{} (best {:.2})",
                p.file_name().unwrap().to_string_lossy(),
                det.max_score(&text)
            ));
        } else {
            tp += 1;
        }
    }
    let mut fp = 0usize;
    let mut false_alarms = Vec::new();
    let mut bytes = 0usize;
    for p in &benign {
        let text = fs::read_to_string(p).expect("benign file is UTF-8");
        bytes += text.len();
        let sig = det.scan(&text);
        if !sig.is_empty() {
            fp += 1;
            false_alarms.push(format!(
                "{}: {:?} line {} score {:.2} `{}`",
                p.file_name().unwrap().to_string_lossy(),
                sig[0].kind,
                sig[0].line,
                sig[0].score,
                sig[0].excerpt
            ));
        }
    }
    let fnn = attacks.len() - tp;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / attacks.len() as f64;
    println!(
        "injection detector on the labelled corpus: {} attacks, {} benign docs ({} KiB)",
        attacks.len(),
        benign.len(),
        bytes / 1024
    );
    println!("  TP {tp}  FN {fnn}  FP {fp}  TN {}", benign.len() - fp);
    println!("  precision {precision:.3}  recall {recall:.3}");
    for m in &missed {
        println!("  missed: {m}");
    }
    for f in &false_alarms {
        println!("  false alarm: {f}");
    }
    assert!(precision >= PRECISION_FLOOR, "precision {precision:.3}");
    assert!(recall >= RECALL_FLOOR, "recall {recall:.3}");
}

// Set from the measured figures, a little below them, so a regression fails the test.
const PRECISION_FLOOR: f64 = 0.95;
const RECALL_FLOOR: f64 = 0.95;
