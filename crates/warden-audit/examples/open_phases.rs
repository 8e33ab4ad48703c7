//! Where a fresh hook process's time in the audit log goes, step by SQLite
//! step: the same statements `SqliteStore` runs for a hook (open, schema
//! version, `synchronous`, log id, the session's flags, the key file, the
//! append's transaction), each timed on its own, in fresh processes.
//!
//! ```text
//! cargo build --release -p warden-audit --example hook_process --example open_phases
//! R=target/release/examples
//! $R/hook_process fill DIR 5000          # a log that already holds 5,000 events
//! $R/open_phases series DIR/audit.db 300              # medians of 300 fresh processes
//! $R/open_phases series DIR/audit.db 300 combined     # log id read with the chain head
//! $R/open_phases series DIR/audit.db 300 staged       # the staging-file prototype
//! ```
//!
//! `series` runs itself once per process, in turn, and merges the WAL
//! (`wal_checkpoint(TRUNCATE)`, untimed) whenever it passes 512 KiB, as the
//! store's first append does, so the WAL cycles through the sizes a hook
//! meets. It prints the median of each step, of their sum, and of the first
//! read (the step that rebuilds the WAL index) by WAL size.
//!
//! `combined` reads the log id in the same statement as the chain head
//! instead of in a statement of its own. `staged` times what a hook would
//! pay to append one event to a hash-chained file of its own under a file
//! lock (open, read the last line, write one line, close) instead of
//! to SQLite; it writes `DB` with the extension `staged`, beside the log.
//! Neither is what the store does: they are measured alternatives.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

type Steps = Vec<(&'static str, f64)>;

struct Timer {
    last: Instant,
    steps: Steps,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            last: Instant::now(),
            steps: Vec::new(),
        }
    }

    fn step(&mut self, name: &'static str) {
        let now = Instant::now();
        self.steps
            .push((name, (now - self.last).as_secs_f64() * 1e6));
        self.last = now;
    }
}

const INSERT: &str = "INSERT INTO events (seq, ts_us, session_id, agent, kind, cwd, tool, \
     tool_use_id, input, decision, rule, reasons, latency_us, result, result_len, \
     result_sha256, extra, prev_hash, hash) VALUES \
     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

/// One hook's use of the log, as `SqliteStore` makes it.
fn sqlite_once(db: &Path, combined: bool) -> rusqlite::Result<Steps> {
    let mut t = Timer::new();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(db, flags)?;
    conn.busy_timeout(Duration::from_secs(2))?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    t.step("sqlite3_open");
    // The first statement that reads: opens the WAL and its index, which a
    // process that finds no other connection rebuilds from the whole WAL.
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    assert_eq!(version, 1, "not a warden audit log");
    t.step("first_read");
    // The first statement that needs the schema: reads and parses it.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    t.step("schema");
    let mut log_id = String::new();
    if !combined {
        log_id = conn.query_row("SELECT value FROM meta WHERE key = 'log_id'", [], |r| {
            r.get(0)
        })?;
        t.step("log_id");
    }
    let _ = std::fs::canonicalize(db);
    t.step("canonicalize");
    let flags_read = conn
        .prepare_cached("SELECT key, value FROM session_flags WHERE session_id = ?1 ORDER BY key")?
        .query_map(["session-x"], |r| r.get::<_, String>(0))?
        .count();
    t.step("session_flags");
    let key = db.with_file_name("keys").join("audit-signing.key");
    let _ = std::fs::read_to_string(key);
    let _ = std::fs::metadata(db.with_extension("db-wal"));
    t.step("key_file");
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    t.step("begin");
    let seq: i64 = if combined {
        let (id, seq): (String, Option<i64>) = tx
            .prepare_cached(
                "SELECT m.value, e.seq FROM meta AS m LEFT JOIN \
                 (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) AS e \
                 WHERE m.key = 'log_id'",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        log_id = id;
        seq.unwrap_or(0)
    } else {
        tx.prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?
            .unwrap_or(0)
    };
    t.step("head");
    let mut insert = tx.prepare_cached(INSERT)?;
    t.step("prepare_insert");
    let hash = warden_audit::chain::sha256(log_id.as_bytes());
    insert.execute(rusqlite::params![
        seq + 1,
        1_i64,
        "session-x",
        "claude-code",
        "PreToolUse",
        "/home/dev/projects/service",
        "Bash",
        "toolu_01",
        r#"{"command":"cargo test -p service --lib tests::case_1","description":"Run the unit tests"}"#,
        "allow",
        "Bash(cargo test*) (warden.toml:12)",
        r#"["allow: matched rule Bash(cargo test*)"]"#,
        400_i64,
        None::<String>,
        None::<i64>,
        None::<Vec<u8>>,
        r#"{"permission_mode":"default","transcript_path":"/home/dev/.claude/projects/service/0b6f.jsonl"}"#,
        &hash[..],
        &hash[..],
    ])?;
    drop(insert);
    t.step("insert");
    tx.commit()?;
    t.step("commit");
    drop(conn);
    t.step("close");
    std::hint::black_box(flags_read);
    Ok(t.steps)
}

/// The staging-file alternative: one hash-chained line appended to a file.
fn staged_once(db: &Path) -> std::io::Result<Steps> {
    let mut t = Timer::new();
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(db.with_extension("staged"))?;
    t.step("open");
    // The lock a real design needs (`flock`) is left out: `File::lock` is
    // newer than the workspace's rust-version. Measured with it: about 1 µs.
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096)))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    let last: &[u8] = tail
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .unwrap_or(&[]);
    let (seq, prev) = if last.is_empty() {
        (0, String::new())
    } else {
        let head: serde_json::Value = serde_json::from_slice(last)?;
        (
            head["seq"].as_u64().unwrap_or(0),
            head["hash"].as_str().unwrap_or_default().to_owned(),
        )
    };
    t.step("read_head");
    let mut line = serde_json::to_vec(&serde_json::json!({
        "seq": seq + 1,
        "ts_us": 1,
        "session_id": "session-x",
        "agent": "claude-code",
        "kind": "PreToolUse",
        "cwd": "/home/dev/projects/service",
        "tool": "Bash",
        "input": {"command": "cargo test -p service --lib tests::case_1", "description": "Run the unit tests"},
        "decision": "allow",
        "rule": "Bash(cargo test*) (warden.toml:12)",
        "reasons": ["allow: matched rule Bash(cargo test*)"],
        "prev_hash": prev,
        "hash": hex::encode(warden_audit::chain::sha256(last)),
    }))?;
    line.push(b'\n');
    f.write_all(&line)?;
    t.step("write");
    drop(f);
    t.step("close");
    Ok(t.steps)
}

fn wal_len(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn series(db: &Path, runs: usize, variant: &str) -> Result<(), Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let mut steps: BTreeMap<usize, (&'static str, Vec<f64>)> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut totals = Vec::new();
    let mut by_wal: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for _ in 0..runs {
        if wal_len(db) > 512 * 1024 {
            let c = Connection::open(db)?;
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        let wal_kib = wal_len(db) / 1024;
        let out = Command::new(&exe)
            .arg("once")
            .arg(db)
            .arg(variant)
            .output()?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
        }
        let text = String::from_utf8(out.stdout)?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let mut total = 0.0;
        for (i, pair) in fields.chunks(2).enumerate() {
            let [name, v] = pair else { continue };
            let v: f64 = v.parse()?;
            if names.len() <= i {
                names.push((*name).to_owned());
            }
            steps.entry(i).or_insert(("", Vec::new())).1.push(v);
            if *name == "first_read" {
                by_wal.entry(wal_kib / 128).or_default().push(v);
            }
            total += v;
        }
        totals.push(total);
    }
    println!("{runs} fresh processes, {variant}: median µs per step");
    for (i, (_, v)) in steps.iter_mut() {
        println!("{:>16} {:7.1}", names[*i], median(v));
    }
    println!("{:>16} {:7.1}", "sum", median(&mut totals));
    for (bucket, v) in by_wal.iter_mut() {
        println!(
            "first read with a WAL of {}-{} KiB: median {:.1} µs ({} processes)",
            bucket * 128,
            bucket * 128 + 128,
            median(v),
            v.len()
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = Path::new(args.get(1).ok_or("missing DB")?);
    let variant = args.get(3).or(args.get(2)).map_or("sqlite", String::as_str);
    match args.first().map(String::as_str) {
        Some("once") => {
            let variant = args.get(2).map_or("sqlite", String::as_str);
            let steps = match variant {
                "staged" => staged_once(db)?,
                other => sqlite_once(db, other == "combined")?,
            };
            let line: Vec<String> = steps
                .iter()
                .map(|(name, us)| format!("{name} {us:.1}"))
                .collect();
            println!("{}", line.join(" "));
            Ok(())
        }
        Some("series") => {
            let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(300);
            let variant = if args.len() > 3 { variant } else { "sqlite" };
            series(db, runs, variant)
        }
        _ => Err("usage: open_phases (once DB [sqlite|combined|staged] | series DB [RUNS [sqlite|combined|staged]])".into()),
    }
}
