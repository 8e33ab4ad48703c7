//! Many real processes at once, and a writer killed with SIGKILL mid-write.
//!
//! The children are this test binary run again with [`common::CHILD_ENV`]
//! set, executing only the ignored `child_appender` entry point.

// `u64::is_multiple_of` is newer than the workspace's rust-version.
#![allow(unknown_lints, clippy::manual_is_multiple_of)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use warden_audit::{AuditStore, EventFilter, Integrity, SqliteStore};

use common::{child, event, long_timeout, opts, CHILD_ENV};

/// The child's side: appends events and reports each returned seq on stdout.
#[test]
#[ignore = "entry point of the child processes started by the other tests"]
fn child_appender() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let worker = std::env::var("WORKER").unwrap_or_default();
    let count: u64 = std::env::var("COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(u64::MAX);
    let reopen = std::env::var("REOPEN").is_ok();
    let dir = Path::new(&dir);
    let path = dir.join("audit.db");
    // These tests are about losing nothing, not about how long a writer
    // waits (that bound has its own test): on a loaded test machine 16
    // writers can starve one past the 2 s default, so wait longer here.
    let opts = |d: &Path| long_timeout(opts(d));
    let mut store = Some(SqliteStore::open(&path, opts(dir)).expect("open"));
    for i in 0..count {
        if reopen {
            // As the hook does it: a fresh process-like open for every event.
            store = Some(SqliteStore::open(&path, opts(dir)).expect("open"));
        }
        let s = store.as_ref().expect("store");
        let ev = s.append(event(&worker, i)).expect("append");
        // Printed only after append returned: the parent may rely on it.
        println!("SEQ {worker} {i} {}", ev.seq);
    }
}

fn spawn(dir: &Path, worker: &str, count: Option<u64>, reopen: bool) -> Child {
    let mut env = vec![
        (CHILD_ENV, dir.display().to_string()),
        ("WORKER", worker.to_owned()),
    ];
    if let Some(c) = count {
        env.push(("COUNT", c.to_string()));
    }
    if reopen {
        env.push(("REOPEN", "1".into()));
    }
    child("child_appender", &env)
        .arg("--ignored")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child")
}

/// (worker, i, seq) from the child's output.
fn parse(line: &str) -> Option<(String, u64, u64)> {
    // The harness may print "test child_appender ... " on the same line.
    let at = line.find("SEQ ")?;
    let mut p = line[at + 4..].split(' ');
    Some((
        p.next()?.to_owned(),
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
    ))
}

#[test]
fn sixteen_processes_appending_a_thousand_events_each_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Create the log and the key first, as `warden init` would.
    SqliteStore::open(&dir.path().join("audit.db"), opts(dir.path())).unwrap();
    let children: Vec<(String, Child)> = (0..16)
        .map(|w| {
            let name = format!("w{w:02}");
            let c = spawn(dir.path(), &name, Some(1000), false);
            (name, c)
        })
        .collect();
    let mut reported = HashSet::new();
    for (name, c) in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<_> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(parse)
            .collect();
        assert_eq!(lines.len(), 1000, "worker {name} reported {}", lines.len());
        for (_, _, seq) in lines {
            assert!(reported.insert(seq), "seq {seq} handed out twice");
        }
    }
    assert_eq!(reported.len(), 16_000);

    let store = SqliteStore::open(&dir.path().join("audit.db"), opts(dir.path())).unwrap();
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!((r.events, r.last_seq), (16_000, 16_000));
    let all = store.events(&EventFilter::default()).unwrap();
    let seqs: HashSet<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, reported);
    // Each worker's own events are in the order it appended them.
    for w in 0..16 {
        let name = format!("w{w:02}");
        let mine: Vec<u64> = all
            .iter()
            .filter(|e| e.session_id == name)
            .map(|e| {
                e.input
                    .get("n")
                    .and_then(|n| n.as_u64())
                    .unwrap_or(u64::MAX)
            })
            .filter(|n| *n != u64::MAX)
            .collect();
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "{name} out of order");
    }
}

#[test]
fn processes_that_open_per_event_like_the_hook_interleave_safely() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..8)
        .map(|w| spawn(dir.path(), &format!("h{w}"), Some(60), true))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let store = SqliteStore::open(&dir.path().join("audit.db"), opts(dir.path())).unwrap();
    let r = store.verify().unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.events, 480);
}

#[test]
fn a_writer_killed_mid_write_leaves_a_log_that_verifies_and_holds_every_returned_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let mut returned: Vec<(String, u64, u64)> = Vec::new();
    for round in 0..5u64 {
        let worker = format!("k{round}");
        let mut c = spawn(dir.path(), &worker, None, false);
        let stdout = c.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Let it run for a varying number of appends, then kill it hard.
        let target = 150 + round * 97;
        let mut seen = 0;
        while seen < target {
            match lines.next() {
                Some(Ok(l)) => {
                    if let Some(p) = parse(&l) {
                        returned.push(p);
                        seen += 1;
                    }
                }
                _ => panic!("child ended early"),
            }
        }
        std::thread::sleep(Duration::from_micros(137 * round));
        c.kill().unwrap(); // SIGKILL on Unix
        c.wait().unwrap();
        // Whatever it printed before dying was returned by append too.
        for l in lines.map_while(Result::ok) {
            if let Some(p) = parse(&l) {
                returned.push(p);
            }
        }

        let store = SqliteStore::open(&path, opts(dir.path())).unwrap();
        let r = store.verify().unwrap();
        assert_eq!(r.integrity, Integrity::Ok);
        assert!(r.is_ok(), "round {round}: {r:?}");
        let all = store.events(&EventFilter::default()).unwrap();
        let have: HashSet<(String, u64)> =
            all.iter().map(|e| (e.session_id.clone(), e.seq)).collect();
        for (w, _, seq) in &returned {
            assert!(
                have.contains(&(w.clone(), *seq)),
                "returned event {w}/{seq} was lost"
            );
        }
    }
}
