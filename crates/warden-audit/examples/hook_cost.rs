//! Times the three steps a hook process takes: open, append, close.
//!
//! `cargo run --release -p warden-audit --example hook_cost -- [N]`

use std::time::Instant;

use warden_audit::{AuditStore, EventKind, NewEvent, SqliteStore, StoreOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("audit.db");
    let mut o = StoreOptions::default();
    o.checkpoints.key_path = Some(dir.path().join("keys/audit-signing.key"));
    let (mut open, mut append, mut close) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let t0 = Instant::now();
        let store = SqliteStore::open(&path, o.clone())?;
        let t1 = Instant::now();
        let mut ev = NewEvent::new("s", "claude-code", EventKind::PreToolUse);
        ev.tool = Some("Bash".into());
        ev.input = serde_json::json!({"command": format!("cargo test {i}")});
        store.append(ev)?;
        let t2 = Instant::now();
        drop(store);
        let t3 = Instant::now();
        open.push(t1 - t0);
        append.push(t2 - t1);
        close.push(t3 - t2);
    }
    for (name, v) in [
        ("open", &mut open),
        ("append", &mut append),
        ("close", &mut close),
    ] {
        v.sort();
        println!(
            "{name:>6}: median {:?}  p90 {:?}",
            v[v.len() / 2],
            v[v.len() * 9 / 10]
        );
    }
    Ok(())
}
