//! The event the append benchmarks write (the criterion bench and the `append_rate`
//! example): a typical PreToolUse / PostToolUse pair member, about 300 bytes stored.

use warden_audit::{Decision, EventKind, NewEvent};

pub fn event(i: u64) -> NewEvent {
    let post = i % 2 == 1;
    let kind = if post {
        EventKind::PostToolUse
    } else {
        EventKind::PreToolUse
    };
    let mut e = NewEvent::new(format!("session-{}", i / 200), "claude-code", kind);
    e.cwd = "/home/dev/projects/service".into();
    e.tool = Some("Bash".into());
    e.tool_use_id = Some(format!("toolu_01{i:016}"));
    e.input = serde_json::json!({"command": format!("cargo test -p service --lib tests::case_{i}"), "description": "Run the unit tests"});
    if post {
        e.result = Some(format!(
            "running 1 test\ntest tests::case_{i} ... ok\n\ntest result: ok. 1 passed\n"
        ));
        e.extra = serde_json::json!({"duration_ms": i % 900});
    } else {
        e.decision = Some(if i % 10 == 0 {
            Decision::Ask
        } else {
            Decision::Allow
        });
        e.rule = Some("Bash(cargo test*) at warden.toml:12".into());
        e.reasons = vec!["matched allow rule".into()];
        e.latency_us = Some(40 + i % 60);
        e.extra = serde_json::json!({"permission_mode": "default"});
    }
    e
}
