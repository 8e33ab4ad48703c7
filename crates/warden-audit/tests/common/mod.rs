//! Helpers shared by the integration tests.
#![allow(dead_code, unknown_lints, clippy::manual_is_multiple_of)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use warden_audit::{Decision, EventKind, NewEvent, SqliteStore, StoreOptions};

/// Options whose key and witness live under `dir` (never the user's config).
pub fn opts(dir: &Path) -> StoreOptions {
    let mut o = StoreOptions::default();
    o.checkpoints.key_path = Some(dir.join("keys").join("audit-signing.key"));
    o.checkpoints.witness_dir = Some(dir.join("keys").join("witness"));
    o
}

pub fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("audit.db"), opts(dir)).expect("open store")
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("audit.db")
}

/// A varied event: the `i`th of a session, cycling through kinds and decisions.
pub fn event(session: &str, i: u64) -> NewEvent {
    let kinds = [
        EventKind::PreToolUse,
        EventKind::PostToolUse,
        EventKind::UserPrompt,
        EventKind::PreToolUse,
    ];
    let mut e = NewEvent::new(session, "claude-code", kinds[(i % 4) as usize].clone());
    e.cwd = "/home/dev/project".into();
    match e.kind {
        EventKind::PreToolUse => {
            e.tool = Some(if i % 3 == 0 { "Bash" } else { "Read" }.into());
            e.tool_use_id = Some(format!("toolu_{i:08}"));
            e.input = json!({"command": format!("cargo test --package p{i}"), "n": i});
            e.decision = Some([Decision::Allow, Decision::Ask, Decision::Deny][(i % 3) as usize]);
            e.rule = Some(format!("Bash(cargo test*) at warden.toml:{}", i % 50));
            e.reasons = vec![format!("reason {i}")];
            e.latency_us = Some(100 + i % 400);
        }
        EventKind::PostToolUse => {
            e.tool = Some("Bash".into());
            e.tool_use_id = Some(format!("toolu_{i:08}"));
            e.result = Some(format!("test result: ok. {i} passed; 0 failed\n").repeat(3));
            e.extra = json!({"duration_ms": i % 1000});
        }
        _ => {
            e.input = json!({"prompt": format!("please fix bug #{i}")});
        }
    }
    e
}

pub const CHILD_ENV: &str = "WARDEN_AUDIT_TEST_CHILD";

/// Runs this test binary again, executing only `test_name`, with `env` set.
pub fn child(test_name: &str, env: &[(&str, String)]) -> std::process::Command {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([test_name, "--exact", "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn long_timeout(mut o: StoreOptions) -> StoreOptions {
    o.busy_timeout = Duration::from_secs(60);
    o
}

/// One stored row, owned, as an attacker reading the file sees it.
pub struct RawRow {
    pub seq: i64,
    pub ts_us: i64,
    pub text: [String; 5], // session_id, agent, kind, cwd, input
    pub tool: Option<String>,
    pub tool_use_id: Option<String>,
    pub decision: Option<String>,
    pub rule: Option<String>,
    pub reasons: String,
    pub latency_us: Option<i64>,
    pub result: Option<String>,
    pub result_len: Option<i64>,
    pub result_sha256: Option<Vec<u8>>,
    pub extra: String,
}

impl RawRow {
    pub fn read(c: &rusqlite::Connection, seq: i64) -> RawRow {
        c.query_row(
            "SELECT seq, ts_us, session_id, agent, kind, cwd, input, tool, tool_use_id, decision, rule, \
             reasons, latency_us, result, result_len, result_sha256, extra FROM events WHERE seq = ?1",
            [seq],
            |r| {
                Ok(RawRow {
                    seq: r.get(0)?,
                    ts_us: r.get(1)?,
                    text: [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?],
                    tool: r.get(7)?,
                    tool_use_id: r.get(8)?,
                    decision: r.get(9)?,
                    rule: r.get(10)?,
                    reasons: r.get(11)?,
                    latency_us: r.get(12)?,
                    result: r.get(13)?,
                    result_len: r.get(14)?,
                    result_sha256: r.get(15)?,
                    extra: r.get(16)?,
                })
            },
        )
        .expect("read row")
    }

    pub fn hash(&self, log_id: &str, prev: &[u8; 32]) -> [u8; 32] {
        let f = warden_audit::chain::EventFields {
            seq: self.seq as u64,
            ts_us: self.ts_us,
            session_id: &self.text[0],
            agent: &self.text[1],
            kind: &self.text[2],
            cwd: &self.text[3],
            tool: self.tool.as_deref(),
            tool_use_id: self.tool_use_id.as_deref(),
            input: &self.text[4],
            decision: self.decision.as_deref(),
            rule: self.rule.as_deref(),
            reasons: &self.reasons,
            latency_us: self.latency_us.map(|v| v as u64),
            result: self.result.as_deref(),
            result_len: self.result_len.map(|v| v as u64),
            result_sha256: self.result_sha256.as_deref(),
            extra: &self.extra,
        };
        warden_audit::chain::event_hash(log_id, &f, prev)
    }
}

/// Applies `edit`, then recomputes every hash from `from` on, as an attacker
/// who knows the algorithm (but not the signing key) would.
pub fn rewrite_and_rechain(path: &Path, log_id: &str, from: u64, edit: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(edit).unwrap();
    rechain(&c, log_id, from);
}

pub fn rechain(c: &rusqlite::Connection, log_id: &str, from: u64) {
    let mut prev: [u8; 32] = if from <= 1 {
        warden_audit::chain::genesis_hash(log_id)
    } else {
        c.query_row(
            "SELECT hash FROM events WHERE seq < ?1 ORDER BY seq DESC LIMIT 1",
            [from as i64],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .unwrap()
        .try_into()
        .unwrap()
    };
    let seqs: Vec<i64> = c
        .prepare("SELECT seq FROM events WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from as i64], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for seq in seqs {
        let h = RawRow::read(c, seq).hash(log_id, &prev);
        c.execute(
            "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![&prev[..], &h[..], seq],
        )
        .unwrap();
        prev = h;
    }
}

/// Merges the write-ahead log into the main file, so that the main file
/// alone holds everything (for tests that copy or damage it).
pub fn merge_wal(path: &Path) {
    let c = rusqlite::Connection::open(path).expect("open raw");
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
}
