//! Behaviour of the SQLite store: what goes in, what comes out, and the faults.

// `u64::is_multiple_of` is newer than the workspace's rust-version.
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

mod common;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use warden_audit::{
    chain, AuditError, AuditStore, CheckpointProblemKind, Decision, EventFilter, EventKind,
    Integrity, NewEvent, Redactor, SessionFilter, SqliteStore, StoreOptions, WitnessStatus,
};

use common::{event, open, opts, rewrite_and_rechain};

#[test]
fn append_assigns_gapless_seqs_and_links_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut prev = chain::genesis_hash(store.log_id());
    for i in 1..=10 {
        let e = store.append(event("s1", i)).unwrap();
        assert_eq!(e.seq, i);
        assert_eq!(e.prev_hash, hex::encode(prev));
        prev = <[u8; 32]>::try_from(hex::decode(&e.hash).unwrap()).unwrap();
    }
    let all = store.events(&EventFilter::default()).unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all.last().unwrap().hash, hex::encode(prev));
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.last_seq, 10);
    assert_eq!(r.integrity, Integrity::Ok);
}

#[test]
fn stored_event_round_trips_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut e = NewEvent::new("sess", "claude-code", EventKind::PreToolUse);
    e.cwd = "/p".into();
    e.tool = Some("Bash".into());
    e.tool_use_id = Some("toolu_1".into());
    e.input = json!({"command": "ls", "z": [1, 2.5, null, true], "a": {"b": "c"}});
    e.decision = Some(Decision::Ask);
    e.rule = Some("Bash(ls*)".into());
    e.reasons = vec!["one".into(), "two \"quoted\"\n".into()];
    e.latency_us = Some(1234);
    e.result = Some("output".into());
    e.extra = json!({"permission_mode": "default", "effort": {"level": "high"}});
    let returned = store.append(e.clone()).unwrap();
    let read = store.events(&EventFilter::default()).unwrap().remove(0);
    assert_eq!(returned, read);
    assert_eq!(read.input, e.input);
    assert_eq!(read.extra, e.extra);
    assert_eq!(read.reasons, e.reasons);
    assert_eq!(read.decision, Some(Decision::Ask));
    assert_eq!(read.result_len, Some(6));
    assert_eq!(
        read.result_sha256.as_deref(),
        Some(hex::encode(chain::sha256(b"output")).as_str())
    );
    assert_eq!(read.kind, EventKind::PreToolUse);
}

#[test]
fn unknown_kinds_survive_as_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .append(NewEvent::new(
            "s",
            "a",
            EventKind::Other("PreCompact".into()),
        ))
        .unwrap();
    store
        .append(NewEvent::new("s", "a", EventKind::Taint))
        .unwrap();
    let evs = store.events(&EventFilter::default()).unwrap();
    assert_eq!(evs[0].kind, EventKind::Other("PreCompact".into()));
    assert_eq!(evs[1].kind, EventKind::Taint);
}

#[test]
fn filters_select_by_session_decision_tool_since_and_after_seq() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for i in 0..40 {
        store
            .append(event(if i % 2 == 0 { "a" } else { "b" }, i))
            .unwrap();
    }
    let all = store.events(&EventFilter::default()).unwrap();
    let check = |f: EventFilter, pred: &dyn Fn(&warden_audit::StoredEvent) -> bool| {
        let got = store.events(&f).unwrap();
        let want: Vec<_> = all.iter().filter(|e| pred(e)).cloned().collect();
        assert_eq!(got, want, "{f:?}");
        assert!(
            !got.is_empty() || f.after_seq.is_some(),
            "{f:?} matched nothing"
        );
    };
    check(
        EventFilter {
            session: Some("a".into()),
            ..Default::default()
        },
        &|e| e.session_id == "a",
    );
    check(
        EventFilter {
            decision: Some(Decision::Deny),
            ..Default::default()
        },
        &|e| e.decision == Some(Decision::Deny),
    );
    check(
        EventFilter {
            tool: Some("Bash".into()),
            ..Default::default()
        },
        &|e| e.tool.as_deref() == Some("Bash"),
    );
    check(
        EventFilter {
            after_seq: Some(35),
            ..Default::default()
        },
        &|e| e.seq > 35,
    );
    let mid = all[20].ts_us;
    check(
        EventFilter {
            since_us: Some(mid),
            ..Default::default()
        },
        &|e| e.ts_us >= mid,
    );
    check(
        EventFilter {
            kind: Some(EventKind::UserPrompt),
            session: Some("a".into()),
            ..Default::default()
        },
        &|e| e.kind == EventKind::UserPrompt && e.session_id == "a",
    );
    let last3 = store
        .events(&EventFilter {
            limit: Some(3),
            from_end: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        last3.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![38, 39, 40]
    );
    let first3 = store
        .events(&EventFilter {
            limit: Some(3),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        first3.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

#[test]
fn sessions_summarise_counts_and_task() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut p = NewEvent::new("s1", "claude-code", EventKind::UserPrompt);
    p.input = json!({"prompt": "fix the flaky test"});
    store.append(p).unwrap();
    for d in [
        Decision::Deny,
        Decision::Deny,
        Decision::Ask,
        Decision::Allow,
    ] {
        let mut e = NewEvent::new("s1", "claude-code", EventKind::PreToolUse);
        e.tool = Some("Bash".into());
        e.decision = Some(d);
        store.append(e).unwrap();
    }
    let mut e = NewEvent::new("s2", "claude-code", EventKind::PreToolUse);
    e.tool = Some("Read".into());
    e.decision = Some(Decision::Allow);
    store.append(e).unwrap();
    store
        .set_session_flag("s2", "task", json!("refactor export"))
        .unwrap();

    let list = store.sessions(&SessionFilter::default()).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].session_id, "s2", "most recent first");
    let s1 = &list[1];
    assert_eq!(
        (s1.events, s1.tool_calls, s1.denied, s1.asked),
        (5, 4, 2, 1)
    );
    assert_eq!(s1.task.as_deref(), Some("fix the flaky test"));
    assert_eq!(list[0].task.as_deref(), Some("refactor export"));

    let denied = store
        .sessions(&SessionFilter {
            decision: Some(Decision::Deny),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].session_id, "s1");
    let read = store
        .sessions(&SessionFilter {
            tool: Some("Read".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        read.iter()
            .map(|s| s.session_id.as_str())
            .collect::<Vec<_>>(),
        vec!["s2"]
    );
    let future = store
        .sessions(&SessionFilter {
            since_us: Some(i64::MAX),
            ..Default::default()
        })
        .unwrap();
    assert!(future.is_empty());
}

#[test]
fn session_flags_are_shared_between_store_handles() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path());
    let b = open(dir.path());
    a.set_session_flag("s", "tainted", json!(true)).unwrap();
    a.set_session_flag("s", "scope", json!({"paths": ["src/**"]}))
        .unwrap();
    b.set_session_flag("s", "tainted", json!(false)).unwrap();
    let flags = a.session_flags("s").unwrap();
    assert_eq!(flags.get("tainted"), Some(&json!(false)));
    assert_eq!(flags.get("scope"), Some(&json!({"paths": ["src/**"]})));
    assert!(a.session_flags("other").unwrap().is_empty());
}

#[test]
fn result_is_cut_at_the_limit_on_a_char_boundary_with_full_length_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.result_max_bytes = 10;
    let store = SqliteStore::open(&dir.path().join("audit.db"), o).unwrap();
    let text = "abcdefghié and more";
    let mut e = NewEvent::new("s", "a", EventKind::PostToolUse);
    e.result = Some(text.into());
    let got = store.append(e).unwrap();
    // 'é' spans bytes 9..11: the cut falls back to 9.
    assert_eq!(got.result.as_deref(), Some("abcdefghi"));
    assert_eq!(got.result_len, Some(text.len() as u64));
    assert_eq!(
        got.result_sha256,
        Some(hex::encode(chain::sha256(text.as_bytes())))
    );
    assert!(got.result_truncated());
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn default_result_limit_is_64_kib() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mut e = NewEvent::new("s", "a", EventKind::PostToolUse);
    e.result = Some("x".repeat(100_000));
    let got = store.append(e).unwrap();
    assert_eq!(got.result.map(|r| r.len()), Some(65_536));
    assert_eq!(got.result_len, Some(100_000));
}

/// Replaces a marker wherever it appears, as the secrets scanner will.
struct MarkerRedactor;
const MARKER: &str = "sk-SECRETMARKER-4f9a2c";
impl Redactor for MarkerRedactor {
    fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.contains(MARKER) {
            Cow::Owned(text.replace(MARKER, "[REDACTED]"))
        } else {
            Cow::Borrowed(text)
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn redaction_happens_before_anything_reaches_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.redactor = Arc::new(MarkerRedactor);
    let path = dir.path().join("audit.db");
    {
        let store = SqliteStore::open(&path, o.clone()).unwrap();
        let mut e = NewEvent::new("s", "claude-code", EventKind::PreToolUse);
        e.cwd = format!("/home/{MARKER}");
        e.tool = Some("Bash".into());
        e.input = json!({
            "command": format!("curl -H 'Authorization: Bearer {MARKER}' x"),
            "env": {MARKER: [format!("nested {MARKER}")]},
        });
        e.rule = Some(format!("rule {MARKER}"));
        e.reasons = vec![format!("saw {MARKER}")];
        e.result = Some(format!("{}{MARKER}", "y".repeat(70_000)));
        e.extra = json!({"raw": MARKER});
        let got = store.append(e).unwrap();
        store
            .set_session_flag("s", "secret", json!(MARKER))
            .unwrap();
        // The stored hash and length describe the redacted text.
        let red = format!("{}[REDACTED]", "y".repeat(70_000));
        assert_eq!(got.result_len, Some(red.len() as u64));
        assert_eq!(
            got.result_sha256,
            Some(hex::encode(chain::sha256(red.as_bytes())))
        );
        let evs = store.events(&EventFilter::default()).unwrap();
        let text = serde_json::to_string(&evs).unwrap();
        assert!(!text.contains(MARKER));
        assert!(text.contains("[REDACTED]"));
        assert!(evs[0].input["env"].get("[REDACTED]").is_some());
        // Read the files while the store is open (WAL not yet merged) ...
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let p = entry.unwrap().path();
            if p.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !contains(&bytes, MARKER.as_bytes()),
                    "{} holds the secret",
                    p.display()
                );
            }
        }
    }
    // ... and after the WAL is merged into the main file.
    common::merge_wal(&path);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!contains(&bytes, MARKER.as_bytes()));
    assert!(contains(&bytes, b"[REDACTED]"));
}

#[test]
fn missing_directory_is_a_clear_error_unless_create_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/audit.db");
    match SqliteStore::open(&path, opts(dir.path())) {
        Err(AuditError::MissingDirectory { path: p }) => assert_eq!(p, path),
        other => panic!("expected MissingDirectory, got {other:?}"),
    }
    assert!(!path.parent().unwrap().exists());
    let mut o = opts(dir.path());
    o.create_dirs = true;
    let store = SqliteStore::open(&path, o).unwrap();
    store.append(event("s", 1)).unwrap();
}

#[test]
fn read_only_open_of_a_missing_log_is_not_found_and_never_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut o = opts(dir.path());
    o.read_only = true;
    assert!(matches!(
        SqliteStore::open(&path, o.clone()),
        Err(AuditError::NotFound { .. })
    ));
    assert!(!path.exists());
    open(dir.path()).append(event("s", 1)).unwrap();
    let ro = SqliteStore::open(&path, o).unwrap();
    assert_eq!(ro.events(&EventFilter::default()).unwrap().len(), 1);
    assert!(ro.verify().unwrap().is_ok());
    assert!(matches!(
        ro.append(event("s", 2)),
        Err(AuditError::ReadOnly { .. })
    ));
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    match SqliteStore::open(&path, opts(dir.path())) {
        Err(e @ AuditError::Corrupt { .. }) => {
            assert!(e.is_corruption());
            assert!(e.to_string().contains("audit.db"), "{e}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Nothing was overwritten.
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x5a; 8192]);
}

#[test]
fn damaged_pages_are_reported_distinctly_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    {
        let store = open(dir.path());
        for i in 0..400 {
            store.append(event("s", i)).unwrap();
        }
    }
    common::merge_wal(&path);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 8 * page, "file too small: {}", bytes.len());
    // Scribble over the b-tree header of a page in the middle of the file.
    let start = 5 * page;
    for b in &mut bytes[start..start + 64] {
        *b = 0xee;
    }
    std::fs::write(&path, &bytes).unwrap();
    match SqliteStore::open(&path, opts(dir.path())).and_then(|s| s.verify()) {
        Ok(r) => {
            assert!(matches!(r.integrity, Integrity::Damaged(_)), "{r:?}");
            assert!(!r.is_ok());
        }
        Err(e) => assert!(e.is_corruption(), "{e:?}"),
    }
}

#[test]
fn a_held_write_lock_yields_locked_after_the_bounded_wait() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.append(event("s", 1)).unwrap();
    let blocker = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let mut o = opts(dir.path());
    o.busy_timeout = Duration::from_millis(300);
    let waiting = SqliteStore::open(&dir.path().join("audit.db"), o).unwrap();
    let t = Instant::now();
    let err = waiting.append(event("s", 2)).unwrap_err();
    let waited = t.elapsed();
    assert!(matches!(err, AuditError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(
        waited >= Duration::from_millis(250),
        "gave up too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "waited too long: {waited:?}"
    );
    // Readers are not blocked by the writer.
    assert_eq!(waiting.events(&EventFilter::default()).unwrap().len(), 1);

    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(waiting.append(event("s", 3)).unwrap().seq, 2);
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn a_full_log_refuses_the_event_and_keeps_everything_written_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut o = opts(dir.path());
    o.max_db_bytes = Some(256 * 1024);
    let store = SqliteStore::open(&path, o).unwrap();
    let mut written = Vec::new();
    let mut full = None;
    for i in 0..10_000 {
        let mut e = event("s", i);
        e.result = Some("z".repeat(2000));
        match store.append(e) {
            Ok(ev) => written.push(ev),
            Err(err) => {
                full = Some(err);
                break;
            }
        }
    }
    let err = full.expect("the cap was never reached");
    assert!(matches!(err, AuditError::DiskFull { .. }), "{err:?}");
    assert!(!written.is_empty());
    drop(store);
    let reopened = open(dir.path());
    let all = reopened.events(&EventFilter::default()).unwrap();
    assert_eq!(all, written);
    assert!(reopened.verify().unwrap().is_ok());
}

#[test]
fn a_schema_from_the_future_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path()).append(event("s", 1)).unwrap();
    let c = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    c.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(c);
    assert!(matches!(
        SqliteStore::open(&dir.path().join("audit.db"), opts(dir.path())),
        Err(AuditError::Schema { found: 99, .. })
    ));
}

#[cfg(unix)]
#[test]
fn signing_key_is_created_private_and_refused_when_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.append(event("s", 1)).unwrap();
    let key = dir.path().join("keys/audit-signing.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    drop(store);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = open(dir.path());
    match store.append(event("s", 2)) {
        Err(AuditError::SigningKey { detail, .. }) => {
            assert!(detail.contains("too open"), "{detail}")
        }
        other => panic!("expected SigningKey error, got {other:?}"),
    }
    // Fail closed: nothing was appended without the key.
    assert_eq!(store.events(&EventFilter::default()).unwrap().len(), 1);
}

fn wal_len(db: &std::path::Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// A log whose WAL was left longer than a store merges (512 KiB) by a
/// process that appended once (600 events in one batch) and then wrote
/// session flags (each folded by a read): only a store that appended more than once merges when it
/// closes.
fn log_with_a_long_wal(dir: &std::path::Path) -> (std::path::PathBuf, StoreOptions) {
    let path = dir.join("audit.db");
    let mut o = opts(dir);
    o.checkpoints.enabled = false;
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    store
        .append_batch((1..=600).map(|i| event("s", i)).collect())
        .unwrap();
    for i in 0..400 {
        store
            .set_session_flag(&format!("s{i}"), "guard", json!({"n": i}))
            .unwrap();
        // Flags are staged; a read folds each into SQLite (one transaction).
        store.checkpoints().unwrap();
    }
    drop(store);
    assert!(
        wal_len(&path) > 1 << 20,
        "WAL only {} bytes",
        wal_len(&path)
    );
    (path, o)
}

#[test]
fn a_writer_that_appended_more_than_once_merges_a_long_wal_when_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut o = opts(dir.path());
    o.checkpoints.enabled = false;
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    for i in 1..=600 {
        store.append(event("s", i)).unwrap();
    }
    assert!(wal_len(&path) > 512 * 1024);
    drop(store);
    assert_eq!(wal_len(&path), 0);
    let r = SqliteStore::open(&path, o).unwrap().verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.events, 600);
}

#[test]
fn the_first_append_of_a_store_merges_a_long_wal_and_empties_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, o) = log_with_a_long_wal(dir.path());
    // Opening and reading merge nothing: only an append does.
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    assert_eq!(store.events(&EventFilter::default()).unwrap().len(), 600);
    assert!(wal_len(&path) > 1 << 20);
    assert_eq!(store.append(event("s", 601)).unwrap().seq, 601);
    // Merged into the main file, then the new event alone went to the WAL.
    assert!(wal_len(&path) < 64 * 1024, "WAL {} bytes", wal_len(&path));
    drop(store);
    let store = SqliteStore::open(&path, o).unwrap();
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((r.events, r.last_seq), (601, 601));
}

#[test]
fn a_reader_holding_a_snapshot_delays_the_merge_but_not_the_append() {
    let dir = tempfile::tempdir().unwrap();
    let (path, o) = log_with_a_long_wal(dir.path());
    let reader = rusqlite::Connection::open(&path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 600);

    // The merge cannot empty the WAL under the reader's snapshot: it gives
    // up after a short wait, and the append goes on.
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    assert_eq!(store.append(event("s", 601)).unwrap().seq, 601);
    assert!(wal_len(&path) > 1 << 20);
    // The reader's snapshot is untouched.
    let n: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 600);
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    drop(store);

    // The next store's first append merges.
    let store = SqliteStore::open(&path, o).unwrap();
    assert_eq!(store.append(event("s", 602)).unwrap().seq, 602);
    assert!(wal_len(&path) < 64 * 1024, "WAL {} bytes", wal_len(&path));
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.events, 602);
}

#[test]
fn checkpoints_are_written_every_n_events_and_at_session_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.checkpoints.every = 5;
    let store = SqliteStore::open(&dir.path().join("audit.db"), o).unwrap();
    for i in 1..=12 {
        store.append(event("s", i)).unwrap();
    }
    store
        .append(NewEvent::new("s", "a", EventKind::SessionEnd))
        .unwrap();
    let seqs: Vec<u64> = store.checkpoints().unwrap().iter().map(|c| c.seq).collect();
    assert_eq!(seqs, vec![5, 10, 13]);
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.witness, WitnessStatus::Ok { seq: 13 });
    assert_eq!(r.anchored_seq, Some(13));
    assert!(!r.signatures_unchecked);
}

#[test]
fn a_long_lived_writer_keeps_the_witness_current() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut o = opts(dir.path());
    o.checkpoints.every = 4;
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    for i in 1..=40 {
        store.append(event("s", i)).unwrap();
    }
    // Later witnesses are written in the background; verify waits for them.
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.witness, WitnessStatus::Ok { seq: 40 });
    for i in 41..=44 {
        store.append(event("s", i)).unwrap();
    }
    // Dropping the store waits for the last one.
    drop(store);
    let r = SqliteStore::open(&path, o).unwrap().verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.witness, WitnessStatus::Ok { seq: 44 });
}

#[test]
fn a_witness_that_cannot_be_written_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut o = opts(dir.path());
    o.checkpoints.every = 2;
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    store.append(event("s", 1)).unwrap();
    store.append(event("s", 2)).unwrap();
    let wp = store.witness_path().unwrap().to_owned();
    assert!(
        wp.is_file(),
        "the first witness is written inside the append"
    );
    // A directory where the witness goes: replacing it fails, even as root.
    std::fs::remove_file(&wp).unwrap();
    std::fs::create_dir_all(wp.join("blocker")).unwrap();

    // The first checkpoint of a store (a hook's only append) fails its append.
    let fresh = SqliteStore::open(&path, o.clone()).unwrap();
    fresh.append(event("s", 3)).unwrap();
    match fresh.append(event("s", 4)) {
        Err(AuditError::Witness { .. }) => {}
        other => panic!("expected a witness error, got {other:?}"),
    }
    drop(fresh);

    // A later one, written in the background, is reported afterwards.
    store.append(event("s", 5)).unwrap();
    store.append(event("s", 6)).unwrap();
    match store.flush_witness() {
        Err(AuditError::Witness { .. }) => {}
        other => panic!("expected a witness error, got {other:?}"),
    }
    store.flush_witness().unwrap();
    store.append(event("s", 7)).unwrap();
    store.append(event("s", 8)).unwrap();
    match store.close() {
        Err(AuditError::Witness { .. }) => {}
        other => panic!("expected a witness error, got {other:?}"),
    }
    // Every event was committed all the same.
    std::fs::remove_dir_all(&wp).unwrap();
    let r = SqliteStore::open(&path, o).unwrap().verify().unwrap();
    assert_eq!(r.events, 8);
    assert!(r.first_break.is_none(), "{r:?}");
}

/// Large enough that the hashing is spread over threads (batches of 1024).
#[test]
fn verify_of_a_large_log_names_the_first_break_and_counts_every_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = open(dir.path());
    store
        .append_batch((1..=5000).map(|i| event("s", i)).collect())
        .unwrap();
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((r.events, r.broken_links), (5000, 0));
    drop(store);

    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "UPDATE events SET input = '{\"n\":1}' WHERE seq IN (1500, 4100); \
         UPDATE events SET prev_hash = zeroblob(32), input = '[]' WHERE seq = 3000; \
         DELETE FROM events WHERE seq = 4500;",
    )
    .unwrap();
    drop(c);
    let r = open(dir.path()).verify().unwrap();
    // 1500 and 4100: content; 3000: link (one break although its content
    // changed too); 4501: numbering.
    assert_eq!(r.broken_links, 4, "{r:?}");
    let b = r.first_break.as_ref().unwrap();
    assert_eq!(b.seq, 1500);
    assert!(
        matches!(b.kind, warden_audit::BreakKind::HashMismatch { .. }),
        "{b:?}"
    );

    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("UPDATE events SET prev_hash = zeroblob(32) WHERE seq = 1200")
        .unwrap();
    drop(c);
    let r = open(dir.path()).verify().unwrap();
    assert_eq!(r.broken_links, 5, "{r:?}");
    let b = r.first_break.as_ref().unwrap();
    assert_eq!(b.seq, 1200);
    assert!(
        matches!(b.kind, warden_audit::BreakKind::PrevLinkMismatch { .. }),
        "{b:?}"
    );
}

#[test]
fn cut_off_tail_is_detected_through_the_witness_even_without_db_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = open(dir.path());
    for i in 1..=20 {
        store.append(event("s", i)).unwrap();
    }
    store.checkpoint_now().unwrap();
    drop(store);
    // The attacker cuts the last 5 events and every checkpoint in the file.
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("DELETE FROM events WHERE seq > 15; DELETE FROM checkpoints;")
        .unwrap();
    drop(c);
    let r = open(dir.path()).verify().unwrap();
    assert!(r.first_break.is_none(), "the remaining chain is intact");
    assert!(!r.is_ok());
    assert_eq!(r.witness, WitnessStatus::Failed { seq: 20 });
    assert!(r.checkpoint_problems.iter().any(|p| p.kind
        == CheckpointProblemKind::Truncated {
            signed_seq: 20,
            last_seq: 15
        }));
}

#[test]
fn cut_off_tail_is_detected_through_a_db_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut o = opts(dir.path());
    o.checkpoints.witness_dir = Some(dir.path().join("w"));
    let store = SqliteStore::open(&path, o.clone()).unwrap();
    for i in 1..=10 {
        store.append(event("s", i)).unwrap();
    }
    store.checkpoint_now().unwrap();
    drop(store);
    std::fs::remove_dir_all(dir.path().join("w")).unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("DELETE FROM events WHERE seq > 7").unwrap();
    drop(c);
    let r = SqliteStore::open(&path, o).unwrap().verify().unwrap();
    assert_eq!(r.witness, WitnessStatus::Missing);
    assert!(r.checkpoint_problems.iter().any(|p| p.kind
        == CheckpointProblemKind::Truncated {
            signed_seq: 10,
            last_seq: 7
        }));
}

/// The documented limit: events after the last checkpoint can be cut unnoticed.
#[test]
fn cutting_only_unanchored_events_is_not_detectable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = open(dir.path());
    for i in 1..=10 {
        store.append(event("s", i)).unwrap();
    }
    store.checkpoint_now().unwrap();
    for i in 11..=15 {
        store.append(event("s", i)).unwrap();
    }
    assert_eq!(store.verify().unwrap().unanchored_events(), 5);
    drop(store);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("DELETE FROM events WHERE seq > 12")
        .unwrap();
    drop(c);
    let r = open(dir.path()).verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.unanchored_events(), 2);
}

#[test]
fn forged_and_altered_checkpoints_are_detected() {
    use ed25519_dalek::{Signer, SigningKey};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = open(dir.path());
    for i in 1..=6 {
        store.append(event("s", i)).unwrap();
    }
    let good = store.checkpoint_now().unwrap().unwrap();
    drop(store);

    // A checkpoint signed with the attacker's own key, over the real head.
    let forger = SigningKey::from_bytes(&[7u8; 32]);
    let head: [u8; 32] = hex::decode(&good.head_hash).unwrap().try_into().unwrap();
    let msg = chain::checkpoint_message(&good.log_id, good.seq, &head, good.ts_us);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute(
        "INSERT INTO checkpoints (log_id, seq, head_hash, ts_us, key_id, public_key, signature) \
         VALUES (?1, ?2, ?3, ?4, 'forged', ?5, ?6)",
        rusqlite::params![
            good.log_id,
            good.seq as i64,
            good.head_hash,
            good.ts_us,
            hex::encode(forger.verifying_key().to_bytes()),
            hex::encode(forger.sign(&msg).to_bytes())
        ],
    )
    .unwrap();
    // And the genuine one altered to claim a later seq.
    c.execute(
        "UPDATE checkpoints SET seq = 99 WHERE key_id != 'forged'",
        [],
    )
    .unwrap();
    drop(c);
    let r = open(dir.path()).verify().unwrap();
    let kinds: Vec<_> = r
        .checkpoint_problems
        .iter()
        .map(|p| p.kind.clone())
        .collect();
    assert!(
        kinds.contains(&CheckpointProblemKind::UntrustedKey {
            key_id: "forged".into()
        }),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&CheckpointProblemKind::BadSignature),
        "{kinds:?}"
    );
    assert!(!r.is_ok());
}

#[test]
fn rewriting_history_with_recomputed_hashes_is_caught_by_the_signed_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let store = open(dir.path());
    for i in 1..=8 {
        store.append(event("s", i)).unwrap();
    }
    store.checkpoint_now().unwrap();
    let log_id = store.log_id().to_owned();
    drop(store);
    rewrite_and_rechain(
        &path,
        &log_id,
        3,
        "UPDATE events SET decision = 'deny' WHERE seq = 3 AND decision = 'allow'",
    );
    let r = open(dir.path()).verify().unwrap();
    assert!(
        r.first_break.is_none(),
        "the rewritten chain is self-consistent: {r:?}"
    );
    assert!(r
        .checkpoint_problems
        .iter()
        .any(|p| matches!(p.kind, CheckpointProblemKind::HeadMismatch { .. })));
    assert!(!r.is_ok());
}

#[test]
fn a_store_is_usable_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let s = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0..50 {
                    s.append(event(&format!("t{t}"), i)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let r = store.verify().unwrap();
    assert!(r.is_ok());
    assert_eq!(r.events, 200);
}

#[test]
fn default_options_are_the_documented_ones() {
    let o = StoreOptions::default();
    assert_eq!(o.busy_timeout, Duration::from_secs(2));
    assert_eq!(o.result_max_bytes, 64 * 1024);
    assert!(!o.create_dirs);
    assert!(o.checkpoints.enabled);
    assert_eq!(o.checkpoints.every, 128);
}
