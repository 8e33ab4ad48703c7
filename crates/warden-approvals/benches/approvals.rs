//! What approvals add to a hook call: hashing the action, the session-rule
//! lookup (the fast path every "ask" takes first), and storing a request
//! and its decision.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::hint::black_box;
use warden_approvals::{action_hash, ApprovalStore, Decision, NewRequest, Scope, SqliteApprovals};

fn bench(c: &mut Criterion) {
    let edit = json!({
        "file_path": "infra/main.tf",
        "old_string": "replicas = 3\n".repeat(20),
        "new_string": "replicas = 0\n".repeat(20),
    });
    c.bench_function("action_hash/edit_520B", |b| {
        b.iter(|| action_hash(black_box("Edit"), black_box(&edit), black_box("session-1")))
    });

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteApprovals::open(&dir.path().join("audit.db")).unwrap();
    // A store with some history: 1,000 decided requests and 100 rules.
    for i in 0..1000 {
        let r = store
            .create(NewRequest::new(
                format!("s{}", i % 100),
                "Bash",
                json!({"command": format!("psql -f m{i}.sql")}),
                "ask",
            ))
            .unwrap();
        let scope = if i < 100 {
            Scope::SameForSession
        } else {
            Scope::ThisAction
        };
        store
            .decide(
                &r.id,
                Decision::Approve {
                    by: "b".into(),
                    reason: None,
                    scope,
                },
            )
            .unwrap();
    }
    let hit = NewRequest::new("s5", "Bash", json!({"command": "psql -f m5.sql"}), "ask");
    let miss = NewRequest::new("s5", "Bash", json!({"command": "psql -f other.sql"}), "ask");
    c.bench_function("matching_rule/hit", |b| {
        b.iter(|| {
            let h = hit.action_hash();
            assert!(store.matching_rule("s5", &h).unwrap().is_some());
        })
    });
    c.bench_function("matching_rule/miss", |b| {
        b.iter(|| {
            let h = miss.action_hash();
            assert!(store.matching_rule("s5", &h).unwrap().is_none());
        })
    });
    c.bench_function("create_then_decide", |b| {
        b.iter(|| {
            let r = store.create(miss.clone()).unwrap();
            store
                .decide(
                    &r.id,
                    Decision::Deny {
                        by: "b".into(),
                        reason: "no".into(),
                    },
                )
                .unwrap()
        })
    });
    c.bench_function("open_store", |b| {
        b.iter(|| SqliteApprovals::open(&dir.path().join("audit.db")).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
