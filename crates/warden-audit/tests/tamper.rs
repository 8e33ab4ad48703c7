//! Every single-field edit, deletion, swap and insertion of an event, at
//! random places, is detected. The attacker edits the SQLite file directly.

// `u64::is_multiple_of` is newer than the workspace's rust-version.
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use rusqlite::types::Value;
use rusqlite::Connection;
use warden_audit::{AuditStore, BreakKind, SqliteStore};

use common::{event, opts, rechain};

const EVENTS: i64 = 30;

const COLUMNS: [&str; 19] = [
    "seq",
    "ts_us",
    "session_id",
    "agent",
    "kind",
    "cwd",
    "tool",
    "tool_use_id",
    "input",
    "decision",
    "rule",
    "reasons",
    "latency_us",
    "result",
    "result_len",
    "result_sha256",
    "extra",
    "prev_hash",
    "hash",
];

struct Template {
    dir: tempfile::TempDir,
    log_id: String,
}

/// One log of 30 varied events, checkpointed every 10 and at its end.
fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(dir.path());
        o.checkpoints.every = 10;
        let store = SqliteStore::open(&dir.path().join("audit.db"), o).unwrap();
        for i in 0..EVENTS as u64 {
            store
                .append(event(if i % 3 == 0 { "s1" } else { "s2" }, i))
                .unwrap();
        }
        let last = store.checkpoint_now().unwrap().unwrap();
        assert_eq!(last.seq, EVENTS as u64);
        let log_id = store.log_id().to_owned();
        assert!(store.verify().unwrap().is_ok());
        drop(store);
        common::merge_wal(&dir.path().join("audit.db"));
        Template { dir, log_id }
    })
}

/// A private copy of the template log, in its own directory.
fn copy() -> (tempfile::TempDir, PathBuf) {
    let t = template();
    // Thousands of small copies: keep them in memory when the system allows.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let path = dir.path().join("audit.db");
    std::fs::copy(t.dir.path().join("audit.db"), &path).unwrap();
    (dir, path)
}

fn verify_copy(path: &Path) -> warden_audit::VerifyReport {
    // The template's key is the trusted one; the copy has no witness (other path).
    let store = SqliteStore::open(path, opts(template().dir.path())).unwrap();
    store.verify().unwrap()
}

/// A value of the same SQLite type that differs from `v`.
fn changed(col: &str, v: Value, pick: u32) -> Value {
    match v {
        Value::Integer(i) => {
            let d = i64::from(pick % 1000) + 1;
            Value::Integer(if col == "seq" {
                i + 1000 + d
            } else {
                i.wrapping_add(d)
            })
        }
        Value::Text(s) => {
            let chars: Vec<char> = s.chars().collect();
            if chars.is_empty() {
                Value::Text("x".into())
            } else {
                let at = pick as usize % chars.len();
                let mut out = chars.clone();
                out[at] = if chars[at] == 'q' { 'r' } else { 'q' };
                Value::Text(out.into_iter().collect())
            }
        }
        Value::Blob(mut b) => {
            if b.is_empty() {
                Value::Blob(vec![1])
            } else {
                let at = pick as usize % b.len();
                b[at] ^= 1 << (pick % 8);
                Value::Blob(b)
            }
        }
        Value::Null => match col {
            "latency_us" | "result_len" => Value::Integer(i64::from(pick)),
            "result_sha256" => Value::Blob(vec![0; 32]),
            _ => Value::Text("x".into()),
        },
        Value::Real(r) => Value::Real(r + 1.0),
    }
}

fn get(c: &Connection, col: &str, seq: i64) -> Value {
    c.query_row(
        &format!("SELECT {col} FROM events WHERE seq = ?1"),
        [seq],
        |r| r.get(0),
    )
    .unwrap()
}

fn set(c: &Connection, col: &str, seq: i64, v: &Value) {
    let n = c
        .execute(
            &format!("UPDATE events SET {col} = ?1 WHERE seq = ?2"),
            rusqlite::params![v, seq],
        )
        .unwrap();
    assert_eq!(n, 1);
}

const CONTENT: &str =
    "ts_us, session_id, agent, kind, cwd, tool, tool_use_id, input, decision, rule, \
     reasons, latency_us, result, result_len, result_sha256, extra, prev_hash, hash";

fn swap(c: &Connection, a: i64, b: i64) {
    // Move b aside, copy a's content into b's seq, then b's into a's.
    c.execute_batch(&format!(
        "UPDATE events SET seq = -1 WHERE seq = {b};
         INSERT INTO events (seq, {CONTENT}) SELECT {b}, {CONTENT} FROM events WHERE seq = {a};
         DELETE FROM events WHERE seq = {a};
         INSERT INTO events (seq, {CONTENT}) SELECT {a}, {CONTENT} FROM events WHERE seq = -1;
         DELETE FROM events WHERE seq = -1;"
    ))
    .unwrap();
}

/// Renumbers `seq >= from` by `delta` without tripping the primary key.
fn shift(c: &Connection, from: i64, delta: i64) {
    c.execute_batch(&format!(
        "UPDATE events SET seq = -(seq + {delta}) WHERE seq >= {from};
         UPDATE events SET seq = -seq WHERE seq < 0;"
    ))
    .unwrap();
}

fn insert_copy(c: &Connection, at: i64, source: i64) {
    // Copy first (the source may move when shifting).
    c.execute_batch(&format!(
        "CREATE TEMP TABLE forged AS SELECT {CONTENT} FROM events WHERE seq = {source};"
    ))
    .unwrap();
    shift(c, at, 1);
    c.execute_batch(&format!(
        "INSERT INTO events (seq, {CONTENT}) SELECT {at}, {CONTENT} FROM forged; DROP TABLE forged;"
    ))
    .unwrap();
}

#[derive(Debug, Clone)]
enum Tamper {
    Edit { seq: i64, col: usize, pick: u32 },
    SetNull { seq: i64, col: usize },
    Delete { seq: i64 },
    Swap { a: i64, b: i64 },
    Insert { at: i64, source: i64 },
}

#[derive(Debug, Clone)]
enum Attacker {
    /// Edits the file and leaves the hashes as they are.
    Naive,
    /// Edits, then recomputes every hash after the edit (knows the
    /// algorithm, not the signing key).
    Rechaining,
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        4 => (1..=EVENTS, 0..COLUMNS.len(), any::<u32>())
            .prop_map(|(seq, col, pick)| Tamper::Edit { seq, col, pick }),
        1 => (1..=EVENTS, 0..COLUMNS.len()).prop_map(|(seq, col)| Tamper::SetNull { seq, col }),
        2 => (1..=EVENTS).prop_map(|seq| Tamper::Delete { seq }),
        2 => (1..=EVENTS, 1..=EVENTS)
            .prop_filter("two different events", |(a, b)| a != b)
            .prop_map(|(a, b)| Tamper::Swap { a, b }),
        2 => (1..=EVENTS + 1, 1..=EVENTS).prop_map(|(at, source)| Tamper::Insert { at, source }),
    ]
}

/// Applies the change; returns the lowest seq it touched and whether the
/// file changed at all (setting NULL on a NULL column changes nothing).
fn apply(c: &Connection, t: &Tamper) -> Option<i64> {
    match *t {
        Tamper::Edit { seq, col, pick } => {
            let name = COLUMNS[col];
            let v = changed(name, get(c, name, seq), pick);
            set(c, name, seq, &v);
            Some(seq)
        }
        Tamper::SetNull { seq, col } => {
            let name = COLUMNS[col];
            let nullable = matches!(
                name,
                "tool"
                    | "tool_use_id"
                    | "decision"
                    | "rule"
                    | "latency_us"
                    | "result"
                    | "result_len"
                    | "result_sha256"
            );
            if !nullable || get(c, name, seq) == Value::Null {
                return None;
            }
            set(c, name, seq, &Value::Null);
            Some(seq)
        }
        Tamper::Delete { seq } => {
            c.execute("DELETE FROM events WHERE seq = ?1", [seq])
                .unwrap();
            Some(seq)
        }
        Tamper::Swap { a, b } => {
            swap(c, a, b);
            Some(a.min(b))
        }
        Tamper::Insert { at, source } => {
            insert_copy(c, at, source);
            Some(at)
        }
    }
}

fn run_case(t: &Tamper, attacker: &Attacker) -> Result<(), TestCaseError> {
    let (_dir, path) = copy();
    if let (Attacker::Rechaining, Tamper::Edit { col, .. }) = (attacker, t) {
        // Rechaining recomputes both links: an edit of either is undone.
        if matches!(COLUMNS[*col], "prev_hash" | "hash") {
            return Ok(());
        }
    }
    if let (Attacker::Rechaining, Tamper::Insert { at, source }) = (attacker, t) {
        // A well-formed event added after the last checkpoint is an append,
        // which anyone who can write the file can do: see
        // `appending_after_the_last_checkpoint_is_not_tampering_the_log_can_see`.
        if *at > EVENTS {
            return Ok(());
        }
        // A copy of the last event inserted in its own place leaves every event up to the last
        // checkpoint as it was and re-adds the last one after it: an append again.
        if *at == EVENTS && *source == EVENTS {
            return Ok(());
        }
    }
    let c = Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA synchronous = OFF").unwrap();
    let Some(from) = apply(&c, t) else {
        return Ok(());
    };
    if let Attacker::Rechaining = attacker {
        // A rechaining attacker also closes seq gaps left by a delete.
        if let Tamper::Delete { seq } = *t {
            shift(&c, seq + 1, -1);
        }
        rechain(&c, &template().log_id, from.max(1) as u64);
    }
    drop(c);
    let r = verify_copy(&path);
    prop_assert!(!r.is_ok(), "{t:?} by {attacker:?} went unnoticed: {r:?}");
    if let (Attacker::Naive, Tamper::Edit { seq, col, .. }) = (attacker, t) {
        // A content edit is pinned to the edited event.
        if COLUMNS[*col] != "seq" {
            let b = r.first_break.as_ref().expect("a chain break");
            prop_assert_eq!(b.seq, *seq as u64, "{:?}", b);
            if COLUMNS[*col] != "prev_hash" {
                let is_hash_mismatch = matches!(b.kind, BreakKind::HashMismatch { .. });
                prop_assert!(is_hash_mismatch, "{:?}", b);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn naive_tampering_is_detected(t in tamper()) {
        run_case(&t, &Attacker::Naive)?;
    }

    #[test]
    fn rechained_tampering_is_detected_by_the_signed_checkpoint(t in tamper()) {
        run_case(&t, &Attacker::Rechaining)?;
    }
}

/// Exhaustive over the columns: every field of a middle event, edited.
#[test]
fn every_column_edit_of_a_middle_event_is_detected() {
    for (col, name) in COLUMNS.iter().enumerate() {
        for pick in [0u32, 7, 12345] {
            let t = Tamper::Edit { seq: 15, col, pick };
            run_case(&t, &Attacker::Naive).unwrap_or_else(|e| panic!("{name}: {e}"));
            run_case(&t, &Attacker::Rechaining).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn deleting_the_first_or_last_event_is_detected() {
    for seq in [1, EVENTS] {
        for a in [Attacker::Naive, Attacker::Rechaining] {
            run_case(&Tamper::Delete { seq }, &a).unwrap();
        }
    }
}

/// The documented limit (TRUST.md): the log cannot tell a forged append
/// after the last checkpoint from a real one.
#[test]
fn appending_after_the_last_checkpoint_is_not_tampering_the_log_can_see() {
    let (_dir, path) = copy();
    let c = Connection::open(&path).unwrap();
    insert_copy(&c, EVENTS + 1, 3);
    rechain(&c, &template().log_id, EVENTS as u64 + 1);
    drop(c);
    let r = verify_copy(&path);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.unanchored_events(), 1);
}
