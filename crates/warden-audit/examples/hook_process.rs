//! What the audit log costs one fresh hook process, measured as a whole
//! process: open the log, read the session's state, append one
//! PreToolUse-sized event, drop the store, exit.
//!
//! ```text
//! cargo build --release -p warden-audit --example hook_process
//! B=target/release/examples/hook_process
//! $B fill DIR 5000               # a log that already holds 5,000 events
//! cp -a DIR DIR2                 # the same log for a second build
//! $B spawn DIR 3000              # 3,000 fresh processes, one after the other
//! $B spawn DIR 3000 OLD/hook_process DIR2   # and another build's, in turn
//! hyperfine -N --warmup 50 --runs 3000 "$B once DIR" "$B noop"
//! ```
//!
//! `DIR/audit.db` is the log; the signing key and the witness live under
//! `DIR/keys/`. `once` is one hook-like process (what hyperfine should run);
//! `noop` is the same binary doing nothing, for the process's own start-up;
//! `phases` is `once` printing its phase times in µs. `spawn` reports, per
//! build, the mean and percentiles of each phase (in-process timers), of
//! their sum (`store`) and of the whole process as its parent sees it
//! (`process`, spawning included); with other builds it runs one process of each in
//! turn, so that a shared machine's changing load falls on all alike. Read
//! the *mean* over a long series: the WAL merges that some processes pay
//! (milliseconds of flushes) are part of the cost, and a median alone hides
//! them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use warden_audit::{AuditStore, Decision, EventKind, NewEvent, SqliteStore, StoreOptions};

fn opts(dir: &Path) -> StoreOptions {
    // Staged, as `warden hook` opens its store; HOOK_PROCESS_SQLITE=1 appends to SQLite
    // directly, as hooks did before the staging file.
    let mut o = StoreOptions {
        create_dirs: true,
        staged: std::env::var_os("HOOK_PROCESS_SQLITE").is_none(),
        ..StoreOptions::default()
    };
    o.checkpoints.key_path = Some(dir.join("keys/audit-signing.key"));
    o
}

/// About what the hook records for a Bash PreToolUse call.
fn event(n: u64) -> NewEvent {
    let mut e = NewEvent::new(
        format!("session-{}", n / 200),
        "claude-code",
        EventKind::PreToolUse,
    );
    e.cwd = "/home/dev/projects/service".into();
    e.tool = Some("Bash".into());
    e.tool_use_id = Some(format!("toolu_01{n:016}"));
    e.input = serde_json::json!({
        "command": format!("cargo test -p service --lib tests::case_{n}"),
        "description": "Run the unit tests",
    });
    e.decision = Some(Decision::Allow);
    e.rule = Some("Bash(cargo test*) (warden.toml:12)".into());
    e.reasons = vec!["allow: matched rule Bash(cargo test*)".into()];
    e.latency_us = Some(400 + n % 300);
    e.extra = serde_json::json!({"permission_mode": "default", "transcript_path": "/home/dev/.claude/projects/service/0b6f.jsonl"});
    e
}

/// One hook-like process; returns the time of each phase.
fn once(dir: &Path) -> Result<[Duration; 4], Box<dyn std::error::Error>> {
    let n = std::process::id() as u64;
    let t0 = Instant::now();
    let store = SqliteStore::open(&dir.join("audit.db"), opts(dir))?;
    let t1 = Instant::now();
    let state = store.session_flags(&format!("session-{}", n / 200))?;
    std::hint::black_box(state);
    let t2 = Instant::now();
    store.append(event(n))?;
    let t3 = Instant::now();
    drop(store);
    let t4 = Instant::now();
    Ok([t1 - t0, t2 - t1, t3 - t2, t4 - t3])
}

fn fill(dir: &Path, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    let mut o = opts(dir);
    o.staged = false;
    let store = SqliteStore::open(&dir.join("audit.db"), o)?;
    for i in 0..n {
        store.append(event(i))?;
    }
    store.close()?;
    Ok(())
}

fn stats(name: &str, v: &mut [f64]) {
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
    println!(
        "{name:>8}: mean {mean:7.1} µs  median {:7.1}  p90 {:7.1}  p99 {:7.1}  max {:8.1}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}

/// One build under test: its binary, its own copy of the log, its figures.
struct Build {
    exe: PathBuf,
    dir: PathBuf,
    /// open, state, append, drop, store (their sum), process (wall, as the parent sees it).
    figures: Vec<Vec<f64>>,
}

const FIGURES: [&str; 6] = ["open", "state", "append", "drop", "store", "process"];

fn run_once(b: &mut Build) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let out = Command::new(&b.exe).arg("phases").arg(&b.dir).output()?;
    let wall = t.elapsed().as_secs_f64() * 1e6;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let text = String::from_utf8(out.stdout)?;
    let f: Vec<f64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if f.len() != 4 {
        return Err(format!("unexpected output {text:?}").into());
    }
    for (i, v) in f[..4].iter().enumerate() {
        b.figures[i].push(*v);
    }
    b.figures[4].push(f.iter().sum());
    b.figures[5].push(wall);
    Ok(())
}

/// Runs `runs` fresh processes of this build (and, process by process in
/// turn, of each `other` build on its own copy of the log, so that a
/// machine's changing load falls on all alike).
fn spawn(
    dir: &Path,
    runs: usize,
    others: &[(PathBuf, PathBuf)],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut builds = vec![Build {
        exe: std::env::current_exe()?,
        dir: dir.to_owned(),
        figures: Vec::new(),
    }];
    for (exe, dir) in others {
        builds.push(Build {
            exe: exe.clone(),
            dir: dir.clone(),
            figures: Vec::new(),
        });
    }
    for b in &mut builds {
        b.figures = (0..FIGURES.len())
            .map(|_| Vec::with_capacity(runs))
            .collect();
    }
    for r in 0..runs {
        let n = builds.len();
        for k in 0..n {
            // Alternate who goes first.
            run_once(&mut builds[(k + r) % n])?;
        }
    }
    for b in &mut builds {
        println!(
            "{} on {}: {runs} fresh processes",
            b.exe.display(),
            b.dir.display()
        );
        for (name, v) in FIGURES.iter().zip(&mut b.figures) {
            stats(name, v);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = |i: usize| -> Result<PathBuf, Box<dyn std::error::Error>> {
        Ok(PathBuf::from(args.get(i).ok_or("missing DIR")?))
    };
    let num = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    match args.first().map(String::as_str) {
        Some("noop") => Ok(()),
        Some("once") => once(&dir(1)?).map(|_| ()),
        Some("phases") => {
            let p = once(&dir(1)?)?;
            println!(
                "{} {} {} {}",
                p[0].as_secs_f64() * 1e6,
                p[1].as_secs_f64() * 1e6,
                p[2].as_secs_f64() * 1e6,
                p[3].as_secs_f64() * 1e6
            );
            Ok(())
        }
        Some("fill") => fill(&dir(1)?, num(2, 5000)),
        Some("spawn") => {
            let others: Vec<(PathBuf, PathBuf)> = args[3.min(args.len())..]
                .chunks(2)
                .map(|c| match c {
                    [exe, dir] => Ok((PathBuf::from(exe), PathBuf::from(dir))),
                    _ => Err("OTHER_BINARY needs its DIR"),
                })
                .collect::<Result<_, _>>()?;
            spawn(&dir(1)?, num(2, 1000) as usize, &others)
        }
        _ => Err(
            "usage: hook_process (noop | once DIR | phases DIR | fill DIR [N] | spawn DIR [RUNS [OTHER_BINARY OTHER_DIR]...])"
                .into(),
        ),
    }
}
