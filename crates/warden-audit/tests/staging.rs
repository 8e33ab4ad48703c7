//! The staging file: hook processes append to it without SQLite; every
//! reader folds it into SQLite first. Chain, concurrency, flags, torn
//! records and a fold that dies between its commit and its rewrite.

mod common;

use std::path::{Path, PathBuf};

use serde_json::json;
use warden_audit::{staging, AuditStore, EventFilter, EventKind, NewEvent, SqliteStore};

use common::{child, event, long_timeout, opts};

fn staged_opts(dir: &Path) -> warden_audit::StoreOptions {
    let mut o = long_timeout(opts(dir));
    o.staged = true;
    o
}

fn staged(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("audit.db"), staged_opts(dir)).unwrap()
}

fn reader(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("audit.db"), long_timeout(opts(dir))).unwrap()
}

fn staging_file(dir: &Path) -> PathBuf {
    staging::staging_path(&dir.join("audit.db"))
}

fn lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(staging_file(dir))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// True when no event follows the last head record (nothing left to fold).
fn folded(dir: &Path) -> bool {
    let l = lines(dir);
    let head = l
        .iter()
        .rposition(|x| x.starts_with(r#"{"t":"head""#))
        .unwrap();
    l[head..].iter().all(|x| !x.starts_with(r#"{"t":"ev""#))
}

#[test]
fn staged_events_are_folded_byte_for_byte_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    // The first append of a new log goes through SQLite and leaves the head.
    let first = staged(dir.path()).append(event("s", 1)).unwrap();
    assert_eq!(first.seq, 1);
    assert!(lines(dir.path())[0].starts_with(r#"{"t":"head""#));
    let mut returned = vec![first];
    for i in 2..=20 {
        let mut e = event("s", i);
        e.result = Some(format!("output {i} é"));
        e.extra = json!({"z": 1, "a": [true, null]});
        returned.push(staged(dir.path()).append(e).unwrap());
    }
    // Staged, not yet in SQLite.
    assert_eq!(
        lines(dir.path())
            .iter()
            .filter(|l| l.starts_with(r#"{"t":"ev""#))
            .count(),
        19
    );
    let r = reader(dir.path());
    let read = r.events(&EventFilter::default()).unwrap();
    assert_eq!(read, returned);
    let v = r.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.last_seq, 20);
    // Folded: a head record follows the folded events (the file is
    // rewritten only once it passes FOLD_BYTES).
    assert!(folded(dir.path()));
    // And appends continue the chain.
    assert_eq!(staged(dir.path()).append(event("s", 21)).unwrap().seq, 21);
    assert!(reader(dir.path()).verify().unwrap().is_ok());
}

#[test]
fn concurrent_staged_appenders_chain_correctly() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 0)).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let d = dir.path();
            s.spawn(move || {
                for i in 0..40 {
                    // A store per append, as a hook process has.
                    staged(d).append(event(&format!("t{t}"), i)).unwrap();
                }
            });
        }
    });
    let v = reader(dir.path()).verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.events, 1 + 8 * 40);
    assert_eq!(v.last_seq, 1 + 8 * 40);
}

/// Run as a child process by `concurrent_processes_chain_correctly`.
#[test]
fn staged_child_appends() {
    let Ok(d) = std::env::var("WARDEN_STAGED_DIR") else {
        return;
    };
    let d = PathBuf::from(d);
    for i in 0..30 {
        staged(&d).append(event("child", i)).unwrap();
    }
}

#[test]
fn concurrent_processes_chain_correctly() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 0)).unwrap();
    let env = [(
        "WARDEN_STAGED_DIR",
        dir.path().to_string_lossy().into_owned(),
    )];
    let kids: Vec<_> = (0..6)
        .map(|_| child("staged_child_appends", &env).spawn().unwrap())
        .collect();
    for mut k in kids {
        assert!(k.wait().unwrap().success());
    }
    let v = reader(dir.path()).verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.events, 1 + 6 * 30);
}

#[test]
fn a_torn_last_record_is_dropped_visibly() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 1)).unwrap();
    staged(dir.path()).append(event("s", 2)).unwrap();
    // A writer died mid-record: no newline.
    let torn = br#"{"t":"ev","seq":3,"ts_us":1,"session_id":"s","ag"#;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(staging_file(dir.path()))
        .unwrap();
    std::io::Write::write_all(&mut f, torn).unwrap();
    drop(f);
    let e = staged(dir.path()).append(event("s", 3)).unwrap();
    // The note took seq 3; the new event follows it.
    assert_eq!(e.seq, 4);
    let r = reader(dir.path());
    let all = r.events(&EventFilter::default()).unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[2].kind, EventKind::Incident);
    assert_eq!(
        all[2].input,
        json!({"dropped_staged_record_bytes": torn.len()})
    );
    assert!(r.verify().unwrap().is_ok());
}

#[test]
fn a_torn_record_is_dropped_by_the_fold_too() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 1)).unwrap();
    staged(dir.path()).append(event("s", 2)).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(staging_file(dir.path()))
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"t\":\"fl").unwrap();
    drop(f);
    let r = reader(dir.path());
    let all = r.events(&EventFilter::default()).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].kind, EventKind::Incident);
    assert!(r.verify().unwrap().is_ok());
}

#[test]
fn a_fold_that_died_before_its_rewrite_neither_loses_nor_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=5 {
        staged(dir.path()).append(event("s", i)).unwrap();
    }
    let before = std::fs::read(staging_file(dir.path())).unwrap();
    // A fold commits...
    drop(reader(dir.path()));
    // ... and "dies" before the staging file is rewritten: it still holds
    // the events now in SQLite.
    std::fs::write(staging_file(dir.path()), &before).unwrap();
    // More hooks append after them, onto the old file's tail.
    for i in 6..=8 {
        assert_eq!(staged(dir.path()).append(event("s", i)).unwrap().seq, i);
    }
    let r = reader(dir.path());
    let v = r.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.events, 8);
    assert_eq!(v.last_seq, 8);
}

#[test]
fn session_flags_are_staged_and_carried_over_by_the_fold() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 1)).unwrap();
    // Set long ago (in SQLite only): found by the fallback.
    {
        let r = reader(dir.path());
        r.set_session_flag("old", "task", json!("ancient")).unwrap();
        r.set_session_flag("old", "guard", json!("g0")).unwrap();
    }
    let h = staged(dir.path());
    assert_eq!(h.session_flags("new").unwrap().len(), 0);
    h.set_session_flag("new", "guard", json!("g1")).unwrap();
    h.set_session_flag("new", "guard", json!("g2")).unwrap();
    drop(h);
    let got = staged(dir.path()).session_flags("new").unwrap();
    assert_eq!(got.get("guard"), Some(&json!("g2")));
    // Fold: SQLite gets the latest value, the staging file keeps the
    // session's complete flags for the next hooks.
    let r = reader(dir.path());
    assert_eq!(
        r.session_flags("new").unwrap().get("guard"),
        Some(&json!("g2"))
    );
    drop(r);
    assert!(lines(dir.path())
        .iter()
        .any(|l| l.starts_with(r#"{"t":"flags","s":"new""#)));
    let old = staged(dir.path()).session_flags("old").unwrap();
    assert_eq!(old.get("task"), Some(&json!("ancient")));
    // A partial staged update keeps the SQLite keys.
    staged(dir.path())
        .set_session_flag("old", "guard", json!("g9"))
        .unwrap();
    let old = staged(dir.path()).session_flags("old").unwrap();
    assert_eq!(old.get("task"), Some(&json!("ancient")));
    assert_eq!(old.get("guard"), Some(&json!("g9")));
    let sessions = reader(dir.path())
        .sessions(&warden_audit::SessionFilter::default())
        .unwrap();
    assert_eq!(sessions.len(), 1);
}

#[test]
fn a_checkpoint_falls_due_on_a_staged_stop_and_is_made_by_its_fold() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 1)).unwrap();
    staged(dir.path()).append(event("s", 2)).unwrap();
    let stop = staged(dir.path())
        .append(NewEvent::new("s", "claude-code", EventKind::Stop))
        .unwrap();
    // Folded at once: the checkpoint and its witness exist without a reader.
    assert!(folded(dir.path()));
    let r = reader(dir.path());
    let cps = r.checkpoints().unwrap();
    assert_eq!(cps.last().unwrap().seq, stop.seq);
    let v = r.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.anchored_seq, Some(stop.seq));
}

#[test]
fn a_read_only_reader_folds_what_is_staged() {
    let dir = tempfile::tempdir().unwrap();
    for i in 1..=3 {
        staged(dir.path()).append(event("s", i)).unwrap();
    }
    let mut o = opts(dir.path());
    o.read_only = true;
    let r = SqliteStore::open(&dir.path().join("audit.db"), o).unwrap();
    assert_eq!(r.events(&EventFilter::default()).unwrap().len(), 3);
    staged(dir.path()).append(event("s", 4)).unwrap();
    // Later reads of the same store fold again (what `tail -f` polls with).
    assert_eq!(r.events(&EventFilter::default()).unwrap().len(), 4);
}

#[test]
fn an_edited_staged_event_is_stored_as_staged_and_verify_names_it() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 1)).unwrap();
    staged(dir.path()).append(event("s", 2)).unwrap();
    let text = std::fs::read_to_string(staging_file(dir.path())).unwrap();
    let edited = text.replace(r#""session_id":"s""#, r#""session_id":"x""#);
    assert_ne!(text, edited);
    std::fs::write(staging_file(dir.path()), edited).unwrap();
    let v = reader(dir.path()).verify().unwrap();
    assert!(!v.is_ok());
    assert_eq!(v.first_break.unwrap().seq, 2);
}

#[test]
fn events_staged_onto_a_stale_head_are_renumbered_visibly() {
    let dir = tempfile::tempdir().unwrap();
    staged(dir.path()).append(event("s", 1)).unwrap();
    staged(dir.path()).append(event("s", 2)).unwrap();
    let before = std::fs::read(staging_file(dir.path())).unwrap();
    // A store appending to SQLite directly commits event 3 and dies before
    // its head record reaches the staging file.
    let direct = reader(dir.path());
    assert_eq!(direct.append(event("s", 3)).unwrap().seq, 3);
    drop(direct);
    std::fs::write(staging_file(dir.path()), &before).unwrap();
    // A hook chains onto the stale head: its event says seq 3 too.
    assert_eq!(staged(dir.path()).append(event("s", 4)).unwrap().seq, 3);
    let r = reader(dir.path());
    let all = r.events(&EventFilter::default()).unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[3].session_id, "s");
    assert_eq!(all[3].seq, 4);
    assert_eq!(all[4].kind, EventKind::Incident);
    assert_eq!(all[4].input, json!({"renumbered_staged_events": 1}));
    let v = r.verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
}

#[test]
fn a_writer_appending_to_sqlite_leaves_a_head_staged_hooks_continue() {
    let dir = tempfile::tempdir().unwrap();
    let direct = reader(dir.path());
    for i in 1..=5 {
        direct.append(event("s", i)).unwrap();
        assert_eq!(staged(dir.path()).append(event("h", i)).unwrap().seq, 2 * i);
    }
    drop(direct);
    let v = reader(dir.path()).verify().unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.events, 10);
}
