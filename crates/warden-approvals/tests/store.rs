//! The approval store and the hook-side wait, against a real SQLite file.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;
use warden_approvals::{
    request_and_wait, ApprovalError, ApprovalStore, Decision, NewRequest, Outcome, Scope,
    SqliteApprovals, Status, WaitOptions,
};

fn store() -> (tempfile::TempDir, std::path::PathBuf, SqliteApprovals) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let s = SqliteApprovals::open(&path).unwrap();
    (dir, path, s)
}

fn psql(file: &str, session: &str) -> NewRequest {
    NewRequest::new(
        session,
        "Bash",
        json!({"command": format!("psql -f {file}")}),
        "rule ask:irreversible matched: database migration",
    )
}

fn approve(scope: Scope) -> Decision {
    Decision::Approve {
        by: "alice".into(),
        reason: Some("reviewed".into()),
        scope,
    }
}

fn fast(timeout_ms: u64) -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_millis(timeout_ms),
        poll_interval: Duration::from_millis(20),
        ..WaitOptions::default()
    }
}

/// Approves the first pending request that shows up, from another thread.
fn approve_when_pending(
    path: std::path::PathBuf,
    decision: Decision,
) -> thread::JoinHandle<warden_approvals::Decided> {
    thread::spawn(move || {
        let s = SqliteApprovals::open(&path).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(r) = s.pending().unwrap().into_iter().next() {
                return s.decide(&r.id, decision).unwrap();
            }
            assert!(Instant::now() < deadline, "no request appeared");
            thread::sleep(Duration::from_millis(10));
        }
    })
}

#[test]
fn created_request_reads_back_pending_with_its_hash() {
    let (_d, _p, s) = store();
    let req = psql("migrate.sql", "s1").with_task("ship the migration");
    let hash = req.action_hash();
    let created = s.create(req).unwrap();
    assert_eq!(created.id.len(), 12);
    assert_eq!(created.action_hash, hash);
    let got = s.get(&created.id).unwrap().unwrap();
    assert_eq!(got, created);
    assert_eq!(s.pending().unwrap(), vec![created.clone()]);
    assert!(s.get("nosuchid0000").unwrap().is_none());
}

#[test]
fn approval_is_bound_to_the_action_and_the_session() {
    let (_d, path, s) = store();
    let reviewer = approve_when_pending(path, approve(Scope::SameForSession));
    let out = request_and_wait(&s, psql("migrate.sql", "s1"), &fast(10_000)).unwrap();
    let decided = reviewer.join().unwrap();
    let rule = decided.rule.expect("a session-wide approval stores a rule");
    match &out {
        Outcome::Approved { scope, rule: r, .. } => {
            assert_eq!(*scope, Scope::SameForSession);
            assert_eq!(r.as_ref().map(|r| &r.id), Some(&rule.id));
        }
        other => panic!("expected approval, got {other:?}"),
    }
    // The same action in the same session: allowed at once, no new request.
    let again = request_and_wait(&s, psql("migrate.sql", "s1"), &fast(200)).unwrap();
    assert!(
        matches!(&again, Outcome::Approved { request: None, rule: Some(r), .. } if r.id == rule.id)
    );
    assert!(s.pending().unwrap().is_empty());
    // Another file, or another session: not covered, they wait and time out.
    for (file, session) in [("other.sql", "s1"), ("migrate.sql", "s2")] {
        let o = request_and_wait(&s, psql(file, session), &fast(150)).unwrap();
        assert!(
            matches!(o, Outcome::TimedOut { .. }),
            "{file} {session}: {o:?}"
        );
    }
    assert_eq!(s.session_rules("s1").unwrap().len(), 1);
    assert!(s.session_rules("s2").unwrap().is_empty());
}

#[test]
fn approving_this_action_only_creates_no_rule() {
    let (_d, path, s) = store();
    let reviewer = approve_when_pending(path, approve(Scope::ThisAction));
    let out = request_and_wait(&s, psql("migrate.sql", "s1"), &fast(10_000)).unwrap();
    assert!(reviewer.join().unwrap().rule.is_none());
    assert!(out.is_approved());
    assert!(s.session_rules("s1").unwrap().is_empty());
    let again = request_and_wait(&s, psql("migrate.sql", "s1"), &fast(150)).unwrap();
    assert!(matches!(again, Outcome::TimedOut { .. }), "{again:?}");
}

#[test]
fn denial_reaches_the_waiter_with_the_reviewers_reason() {
    let (_d, path, s) = store();
    let reviewer = approve_when_pending(
        path,
        Decision::Deny {
            by: "bob".into(),
            reason: "not during business hours".into(),
        },
    );
    let out = request_and_wait(&s, psql("migrate.sql", "s1"), &fast(10_000)).unwrap();
    reviewer.join().unwrap();
    match &out {
        Outcome::Denied { by, reason, .. } => {
            assert_eq!(by, "bob");
            assert_eq!(reason, "not during business hours");
        }
        other => panic!("{other:?}"),
    }
    assert!(out.message().contains("not during business hours"));
    assert!(!out.is_approved());
}

#[test]
fn no_decision_times_out_and_cannot_be_approved_afterwards() {
    let (_d, _p, s) = store();
    let t = Instant::now();
    let out = request_and_wait(&s, psql("migrate.sql", "s1"), &fast(300)).unwrap();
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    let Outcome::TimedOut { request, .. } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(
        s.get(&request.id).unwrap().unwrap().status,
        Status::TimedOut
    );
    assert!(out.message().contains("timed out"));
    let late = s.decide(&request.id, approve(Scope::ThisAction));
    assert!(
        matches!(
            late,
            Err(ApprovalError::NotPending {
                status: "timed_out",
                ..
            })
        ),
        "{late:?}"
    );
}

#[test]
fn a_request_whose_waiter_died_expires_in_the_store() {
    let (_d, _p, s) = store();
    let mut req = psql("migrate.sql", "s1");
    req.expires_in = Duration::from_millis(50);
    let r = s.create(req).unwrap();
    thread::sleep(Duration::from_millis(120));
    assert!(s.pending().unwrap().is_empty());
    assert_eq!(s.get(&r.id).unwrap().unwrap().status, Status::TimedOut);
    assert!(matches!(
        s.decide(&r.id, approve(Scope::SameForSession)),
        Err(ApprovalError::NotPending { .. })
    ));
    assert!(s.session_rules("s1").unwrap().is_empty());
}

#[test]
fn decisions_are_validated_and_happen_once() {
    let (_d, _p, s) = store();
    let r = s.create(psql("migrate.sql", "s1")).unwrap();
    let no_reason = s.decide(
        &r.id,
        Decision::Deny {
            by: "bob".into(),
            reason: "  ".into(),
        },
    );
    assert!(
        matches!(no_reason, Err(ApprovalError::Invalid(_))),
        "{no_reason:?}"
    );
    assert!(s.get(&r.id).unwrap().unwrap().status.is_pending());
    assert!(matches!(
        s.decide("unknown00000", approve(Scope::ThisAction)),
        Err(ApprovalError::NotFound { .. })
    ));
    s.decide(&r.id, approve(Scope::ThisAction)).unwrap();
    assert!(matches!(
        s.decide(
            &r.id,
            Decision::Deny {
                by: "bob".into(),
                reason: "too late".into()
            }
        ),
        Err(ApprovalError::NotPending {
            status: "approved",
            ..
        })
    ));
    let empty = s.create(NewRequest::new("", "Bash", json!({}), "x"));
    assert!(matches!(empty, Err(ApprovalError::Invalid(_))));
}

#[test]
fn a_session_rule_also_answers_identical_requests_already_waiting() {
    let (_d, _p, s) = store();
    let a = s.create(psql("migrate.sql", "s1")).unwrap();
    let b = s.create(psql("migrate.sql", "s1")).unwrap();
    let other = s.create(psql("migrate.sql", "s2")).unwrap();
    let d = s.decide(&a.id, approve(Scope::SameForSession)).unwrap();
    assert_eq!(d.also_approved, vec![b.id.clone()]);
    assert!(matches!(
        s.get(&b.id).unwrap().unwrap().status,
        Status::Approved {
            scope: Scope::SameForSession,
            ..
        }
    ));
    assert!(s.get(&other.id).unwrap().unwrap().status.is_pending());
}

#[test]
fn concurrent_waiters_each_get_their_own_decision() {
    let (_d, path, _s) = store();
    let n = 8;
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut waiters = Vec::new();
    for i in 0..n {
        let path = path.clone();
        let barrier = barrier.clone();
        waiters.push(thread::spawn(move || {
            // One connection per waiter, as separate hook processes have.
            let s = SqliteApprovals::open(&path).unwrap();
            barrier.wait();
            let req = psql(&format!("m{i}.sql"), &format!("session-{i}"));
            (i, request_and_wait(&s, req, &fast(20_000)).unwrap())
        }));
    }
    barrier.wait();
    let reviewer = SqliteApprovals::open(&path).unwrap();
    let mut decided = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while decided < n {
        assert!(Instant::now() < deadline, "waiters never all appeared");
        for r in reviewer.pending().unwrap() {
            let i: usize = r.session_id.trim_start_matches("session-").parse().unwrap();
            let d = if i.is_multiple_of(2) {
                approve(Scope::ThisAction)
            } else {
                Decision::Deny {
                    by: "bob".into(),
                    reason: format!("no to {i}"),
                }
            };
            reviewer.decide(&r.id, d).unwrap();
            decided += 1;
        }
        thread::sleep(Duration::from_millis(5));
    }
    for w in waiters {
        let (i, out) = w.join().unwrap();
        if i % 2 == 0 {
            assert!(out.is_approved(), "{i}: {out:?}");
        } else {
            assert!(
                matches!(&out, Outcome::Denied { reason, .. } if *reason == format!("no to {i}")),
                "{i}: {out:?}"
            );
        }
    }
}

#[test]
fn a_decision_racing_the_timeout_has_exactly_one_winner() {
    let (_d, path, s) = store();
    for _ in 0..20 {
        let r = s.create(psql("migrate.sql", "s1")).unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let (p2, b2, id2) = (path.clone(), barrier.clone(), r.id.clone());
        let reviewer = thread::spawn(move || {
            let s = SqliteApprovals::open(&p2).unwrap();
            b2.wait();
            s.decide(&id2, approve(Scope::ThisAction))
        });
        barrier.wait();
        let after_timeout = s.time_out(&r.id).unwrap();
        let decision = reviewer.join().unwrap();
        let stored = s.get(&r.id).unwrap().unwrap();
        assert_eq!(
            after_timeout.status, stored.status,
            "waiter and store disagree"
        );
        match (&decision, &stored.status) {
            (Ok(_), Status::Approved { .. }) => {}
            (Err(ApprovalError::NotPending { .. }), Status::TimedOut) => {}
            other => panic!("inconsistent race result: {other:?}"),
        }
    }
}

#[test]
fn the_store_shares_the_audit_database_without_touching_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    {
        // Another owner's table and schema version in the same file.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA user_version=7;
             CREATE TABLE events (seq INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO events (body) VALUES ('first');",
        )
        .unwrap();
    }
    let s = SqliteApprovals::open(&path).unwrap();
    s.create(psql("migrate.sql", "s1")).unwrap();
    drop(s);
    // Reopening (as every hook process does) keeps what was stored.
    let s = SqliteApprovals::open(&path).unwrap();
    assert_eq!(s.pending().unwrap().len(), 1);
    let c = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let body: String = c
        .query_row("SELECT body FROM events", [], |r| r.get(0))
        .unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!((v, body.as_str(), mode.as_str()), (7, "first", "wal"));
}

#[test]
fn opening_fails_clearly_on_a_missing_directory_or_a_corrupt_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("audit.db");
    let e = SqliteApprovals::open(&missing).unwrap_err();
    assert!(matches!(e, ApprovalError::Open { .. }), "{e:?}");
    assert!(e.to_string().contains("no-such-dir"), "{e}");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 8192]).unwrap();
    let e = SqliteApprovals::open(&garbage).unwrap_err();
    assert!(matches!(e, ApprovalError::Open { .. }), "{e:?}");
}

#[test]
fn revision_grows_on_create_and_decide() {
    let (_d, _p, s) = store();
    let r0 = s.revision().unwrap();
    let r = s.create(psql("a.sql", "s1")).unwrap();
    let r1 = s.revision().unwrap();
    s.decide(&r.id, approve(Scope::ThisAction)).unwrap();
    let r2 = s.revision().unwrap();
    assert!(r0 < r1 && r1 < r2, "{r0} {r1} {r2}");
}
