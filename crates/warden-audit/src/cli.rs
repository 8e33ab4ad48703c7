//! The `warden log ...` commands: argument types (clap derive) and a runner
//! that reads through any [`AuditStore`] and writes to any writer.
//!
//! The binary owns opening the store (it knows the project's log path) and
//! printing errors; this module owns what each command shows.
//!
//! ```text
//! warden log sessions [--since 7d] [--decision deny] [--tool Bash] [--limit N] [--json]
//! warden log show SESSION [filters] [--json]
//! warden log tail [-f] [-n 20] [--session S] [filters] [--json]
//! warden log verify [--json]
//! warden log export --format jsonl|otlp [--session S] [filters]
//! ```
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success; for `verify`, the log verified |
//! | 1 | `verify` found tampering: a broken link, a bad or untrusted checkpoint, a cut-off tail |
//! | 2 | usage error (clap's own code for bad arguments) |
//! | 3 | the database file is damaged (integrity check failed, or not a database) |
//! | 4 | any other error (no log, locked, I/O); see [`exit_code_for`] |

use std::io::{self, Write};
use std::time::Duration;

use owo_colors::{OwoColorize, Style};
use serde_json::{json, Value};

use crate::error::AuditError;
use crate::event::{Decision, EventKind, StoredEvent};
use crate::store::{
    AuditStore, BreakKind, CheckpointProblemKind, CheckpointSource, EventFilter, Integrity,
    SessionFilter, SessionSummary, VerifyReport, WitnessStatus,
};
use crate::time_fmt::{now_us, parse_rfc3339_us, rfc3339_us};

/// Success; for `verify`, the log verified.
pub const EXIT_OK: i32 = 0;
/// `verify` found tampering or a cut-off tail.
pub const EXIT_TAMPERED: i32 = 1;
/// Bad arguments (clap's convention).
pub const EXIT_USAGE: i32 = 2;
/// The database file is damaged.
pub const EXIT_DAMAGED: i32 = 3;
/// Any other error.
pub const EXIT_ERROR: i32 = 4;

/// The exit code a binary should use when [`run`] (or opening the store) fails.
pub fn exit_code_for(err: &AuditError) -> i32 {
    if err.is_corruption() {
        EXIT_DAMAGED
    } else if matches!(err, AuditError::InvalidArgument(_)) {
        EXIT_USAGE
    } else {
        EXIT_ERROR
    }
}

/// `warden log`: read, verify and export the audit log.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    #[command(subcommand)]
    pub command: LogCommand,
}

/// The `warden log` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LogCommand {
    /// List sessions: when they started, their task, tool calls, denied and asked.
    Sessions(SessionsArgs),
    /// Show one session as a timeline.
    Show(ShowArgs),
    /// Print the latest events; with -f, keep printing new ones.
    Tail(TailArgs),
    /// Check the hash chain, the signed checkpoints and the file itself.
    ///
    /// Exit status: 0 verified, 1 tampering or a cut-off tail found,
    /// 3 the database file is damaged, 4 the log could not be read.
    Verify(VerifyArgs),
    /// Write events as JSON Lines or as OTLP/JSON logs.
    Export(ExportArgs),
}

/// Filters shared by the reading commands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only events with this decision (allow, ask, deny).
    #[arg(long, value_name = "DECISION")]
    pub decision: Option<Decision>,
    /// Only events of this tool (e.g. Bash, Read, Edit).
    #[arg(long, value_name = "TOOL")]
    pub tool: Option<String>,
    /// Only events since a duration ago (30m, 12h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<Since>,
}

/// A `--since` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// This long before the command runs.
    Ago(Duration),
    /// This time, in microseconds since the epoch.
    At(i64),
}

impl Since {
    /// The bound in microseconds since the epoch, given the current time.
    pub fn to_us(self, now_us: i64) -> i64 {
        match self {
            Since::Ago(d) => {
                now_us.saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            }
            Since::At(t) => t,
        }
    }
}

/// Parses `30m`, `12h`, `7d`, `1w 2d`, or an RFC 3339 time.
pub fn parse_since(s: &str) -> Result<Since, String> {
    let s = s.trim();
    if let Some(t) = parse_rfc3339_us(s) {
        return Ok(Since::At(t));
    }
    humantime::parse_duration(s).map(Since::Ago).map_err(|e| {
        format!("{s:?} is neither a duration (30m, 12h, 7d) nor an RFC 3339 time: {e}")
    })
}

/// `warden log sessions`.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// At most this many sessions (most recent first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `warden log show SESSION`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The session id (as listed by `warden log sessions`).
    pub session: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print the events as a JSON array instead of a timeline.
    #[arg(long)]
    pub json: bool,
}

/// `warden log tail`.
#[derive(Debug, Clone, clap::Args)]
pub struct TailArgs {
    /// Keep running and print events as they are appended.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// How many of the latest events to print first.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub lines: usize,
    /// Only this session.
    #[arg(long)]
    pub session: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How often `-f` polls the log, in milliseconds.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    pub interval_ms: u64,
    /// Print one JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// `warden log verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One event per line, as stored (hashes included).
    Jsonl,
    /// OTLP/JSON logs: one ExportLogsServiceRequest per line, up to 512 records each.
    Otlp,
}

/// `warden log export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Only this session.
    #[arg(long)]
    pub session: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
}

fn out_err(e: io::Error) -> AuditError {
    AuditError::Output(e)
}

/// Runs one `warden log` command and returns the process exit code.
///
/// `color` switches ANSI colours on in the human output (the binary passes
/// true only when stdout is a terminal). `tail -f` returns only when the
/// writer fails (a closed pipe ends it with 0) or on a store error.
pub fn run(
    args: &LogArgs,
    store: &dyn AuditStore,
    out: &mut dyn Write,
    color: bool,
) -> Result<i32, AuditError> {
    let r = match &args.command {
        LogCommand::Sessions(a) => sessions(a, store, out),
        LogCommand::Show(a) => show(a, store, out, color),
        LogCommand::Tail(a) => tail(a, store, out, color, &|| false),
        LogCommand::Verify(a) => verify(a, store, out, color),
        LogCommand::Export(a) => export(a, store, out),
    };
    match r {
        // The reader went away (`warden log tail -f | head`): not a failure.
        Err(AuditError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        other => other,
    }
}

fn event_filter(f: &FilterArgs, session: Option<&str>, now: i64) -> EventFilter {
    EventFilter {
        session: session.map(str::to_owned),
        decision: f.decision,
        tool: f.tool.clone(),
        since_us: f.since.map(|s| s.to_us(now)),
        ..EventFilter::default()
    }
}

fn sessions(
    a: &SessionsArgs,
    store: &dyn AuditStore,
    out: &mut dyn Write,
) -> Result<i32, AuditError> {
    let list = store.sessions(&SessionFilter {
        since_us: a.filter.since.map(|s| s.to_us(now_us())),
        decision: a.filter.decision,
        tool: a.filter.tool.clone(),
        limit: Some(a.limit),
    })?;
    if a.json {
        let v: Vec<Value> = list.iter().map(session_json).collect();
        writeln!(out, "{}", Value::Array(v)).map_err(out_err)?;
        return Ok(EXIT_OK);
    }
    write_sessions_table(out, &list).map_err(out_err)?;
    Ok(EXIT_OK)
}

fn session_json(s: &SessionSummary) -> Value {
    json!({
        "session_id": s.session_id,
        "agent": s.agent,
        "started": rfc3339_us(s.started_us),
        "last": rfc3339_us(s.last_us),
        "task": s.task,
        "events": s.events,
        "tool_calls": s.tool_calls,
        "denied": s.denied,
        "asked": s.asked,
    })
}

fn one_line(s: &str, max_chars: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= max_chars {
        flat
    } else {
        let mut cut: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn short_time(ts_us: i64) -> String {
    // "2026-11-25T09:01:25.123456Z" -> "2026-11-25 09:01:25"
    let t = rfc3339_us(ts_us);
    t.get(..19).map(|s| s.replace('T', " ")).unwrap_or(t)
}

fn write_sessions_table(out: &mut dyn Write, list: &[SessionSummary]) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(out, "no sessions");
    }
    let sid_w = list
        .iter()
        .map(|s| s.session_id.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    writeln!(
        out,
        "{:<sid_w$}  {:<19}  {:>10}  {:>6}  {:>5}  TASK",
        "SESSION", "STARTED", "TOOL CALLS", "DENIED", "ASKED"
    )?;
    for s in list {
        writeln!(
            out,
            "{:<sid_w$}  {:<19}  {:>10}  {:>6}  {:>5}  {}",
            s.session_id,
            short_time(s.started_us),
            s.tool_calls,
            s.denied,
            s.asked,
            one_line(s.task.as_deref().unwrap_or("-"), 60)
        )?;
    }
    Ok(())
}

/// The one-line gist of an event's input.
fn gist(ev: &StoredEvent) -> String {
    const KEYS: [&str; 8] = [
        "command",
        "file_path",
        "path",
        "url",
        "pattern",
        "prompt",
        "query",
        "notebook_path",
    ];
    match &ev.input {
        Value::Null => String::new(),
        Value::String(s) => one_line(s, 100),
        Value::Object(m) => {
            for k in KEYS {
                if let Some(Value::String(s)) = m.get(k) {
                    return one_line(s, 100);
                }
            }
            if m.is_empty() {
                String::new()
            } else {
                one_line(&crate::chain::canonical_json(&ev.input), 100)
            }
        }
        other => one_line(&other.to_string(), 100),
    }
}

fn human_bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

fn decision_style(d: Decision) -> Style {
    match d {
        Decision::Allow => Style::new().green(),
        Decision::Ask => Style::new().yellow().bold(),
        Decision::Deny => Style::new().red().bold(),
    }
}

fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        text.style(style).to_string()
    } else {
        text.to_owned()
    }
}

fn show(
    a: &ShowArgs,
    store: &dyn AuditStore,
    out: &mut dyn Write,
    color: bool,
) -> Result<i32, AuditError> {
    let events = store.events(&event_filter(&a.filter, Some(&a.session), now_us()))?;
    if a.json {
        let v: Vec<Value> = events.iter().map(event_json).collect();
        writeln!(out, "{}", Value::Array(v)).map_err(out_err)?;
        return Ok(EXIT_OK);
    }
    if events.is_empty() {
        writeln!(out, "no events for session {}", a.session).map_err(out_err)?;
        return Ok(EXIT_ERROR);
    }
    write_timeline(out, &a.session, &events, color).map_err(out_err)?;
    Ok(EXIT_OK)
}

/// Writes the human timeline of one session's events.
fn write_timeline(
    out: &mut dyn Write,
    session: &str,
    events: &[StoredEvent],
    color: bool,
) -> io::Result<()> {
    let dim = Style::new().dimmed();
    let bold = Style::new().bold();
    let first = &events[0];
    let tool_calls = events
        .iter()
        .filter(|e| e.kind == EventKind::PreToolUse)
        .count();
    let count = |d| events.iter().filter(|e| e.decision == Some(d)).count();
    writeln!(
        out,
        "{} {}  {}  {}",
        paint("session", bold, color),
        paint(session, bold, color),
        first.agent,
        first.cwd
    )?;
    writeln!(
        out,
        "{}",
        paint(
            &format!(
                "{} events, {} tool calls, {} denied, {} asked",
                events.len(),
                tool_calls,
                count(Decision::Deny),
                count(Decision::Ask)
            ),
            dim,
            color
        )
    )?;
    let mut day = String::new();
    for ev in events {
        let t = rfc3339_us(ev.ts_us);
        let (d, clock) = (t.get(..10).unwrap_or(""), t.get(11..23).unwrap_or(""));
        if d != day {
            day = d.to_owned();
            writeln!(out, "{}", paint(&format!("── {day}"), dim, color))?;
        }
        let decision = match ev.decision {
            Some(dec) => paint(
                &format!("{:<5}", dec.as_str().to_uppercase()),
                decision_style(dec),
                color,
            ),
            None => "     ".to_owned(),
        };
        let line = format!(
            "{:>6}  {}  {:<13} {:<10} {} {}",
            format!("#{}", ev.seq),
            paint(clock, dim, color),
            ev.kind.as_str(),
            ev.tool.as_deref().unwrap_or(""),
            decision,
            gist(ev)
        );
        writeln!(out, "{}", line.trim_end())?;
        let pad = " ".repeat(22);
        let mut detail = Vec::new();
        if let Some(rule) = &ev.rule {
            detail.push(format!("rule {rule}"));
        }
        if let Some(l) = ev.latency_us {
            detail.push(format!("decided in {:.2} ms", l as f64 / 1000.0));
        }
        if !detail.is_empty() {
            writeln!(out, "{pad}{}", paint(&detail.join(" · "), dim, color))?;
        }
        for r in &ev.reasons {
            writeln!(out, "{pad}reason: {}", one_line(r, 160))?;
        }
        if let (Some(len), Some(sha)) = (ev.result_len, &ev.result_sha256) {
            let kept = if ev.result_truncated() {
                format!(
                    " (first {} kept)",
                    human_bytes(ev.result.as_ref().map_or(0, |r| r.len() as u64))
                )
            } else {
                String::new()
            };
            writeln!(
                out,
                "{pad}{}",
                paint(
                    &format!(
                        "result {}{kept}, sha256 {}",
                        human_bytes(len),
                        sha.get(..12).unwrap_or(sha)
                    ),
                    dim,
                    color
                )
            )?;
        }
    }
    Ok(())
}

fn event_json(ev: &StoredEvent) -> Value {
    let mut v = serde_json::to_value(ev).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("time".into(), Value::String(rfc3339_us(ev.ts_us)));
    }
    v
}

fn tail_line(ev: &StoredEvent, color: bool) -> String {
    let decision = match ev.decision {
        Some(d) => paint(d.as_str(), decision_style(d), color),
        None => String::new(),
    };
    let line = format!(
        "#{} {} {} {} {} {} {}",
        ev.seq,
        rfc3339_us(ev.ts_us),
        ev.session_id,
        ev.kind,
        ev.tool.as_deref().unwrap_or("-"),
        decision,
        gist(ev)
    );
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_events(
    out: &mut dyn Write,
    evs: &[StoredEvent],
    json: bool,
    color: bool,
) -> io::Result<()> {
    for ev in evs {
        if json {
            writeln!(out, "{}", event_json(ev))?;
        } else {
            writeln!(out, "{}", tail_line(ev, color))?;
        }
    }
    out.flush()
}

/// `tail`; with `follow`, polls until `stop()` returns true or writing fails.
pub(crate) fn tail(
    a: &TailArgs,
    store: &dyn AuditStore,
    out: &mut dyn Write,
    color: bool,
    stop: &dyn Fn() -> bool,
) -> Result<i32, AuditError> {
    let mut filter = event_filter(&a.filter, a.session.as_deref(), now_us());
    filter.limit = Some(a.lines);
    filter.from_end = true;
    let first = store.events(&filter)?;
    write_events(out, &first, a.json, color).map_err(out_err)?;
    if !a.follow {
        return Ok(EXIT_OK);
    }
    // Follow from the head of the whole log, not of the filtered view, so
    // filtered-out events are never re-read.
    let mut after = first.last().map(|e| e.seq);
    if after.is_none() {
        let newest = store.events(&EventFilter {
            limit: Some(1),
            from_end: true,
            ..EventFilter::default()
        })?;
        after = Some(newest.last().map_or(0, |e| e.seq));
    }
    filter.limit = None;
    filter.from_end = false;
    let interval = Duration::from_millis(a.interval_ms.max(10));
    while !stop() {
        std::thread::sleep(interval);
        filter.after_seq = after;
        let new = store.events(&filter)?;
        if let Some(last) = new.last() {
            after = Some(last.seq);
        }
        write_events(out, &new, a.json, color).map_err(out_err)?;
    }
    Ok(EXIT_OK)
}

fn verify(
    a: &VerifyArgs,
    store: &dyn AuditStore,
    out: &mut dyn Write,
    color: bool,
) -> Result<i32, AuditError> {
    let report = store.verify()?;
    let code = verify_exit_code(&report);
    if a.json {
        let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("ok".into(), Value::Bool(report.is_ok()));
            m.insert("exit_code".into(), json!(code));
        }
        writeln!(out, "{v}").map_err(out_err)?;
    } else {
        write_verify(out, &report, color).map_err(out_err)?;
    }
    Ok(code)
}

/// The exit code of `verify` for a report (see the module doc).
pub fn verify_exit_code(r: &VerifyReport) -> i32 {
    if matches!(r.integrity, Integrity::Damaged(_)) {
        EXIT_DAMAGED
    } else if r.is_ok() {
        EXIT_OK
    } else {
        EXIT_TAMPERED
    }
}

fn describe_break(k: &BreakKind) -> String {
    match k {
        BreakKind::HashMismatch { stored, recomputed } => format!(
            "its content does not match its hash (stored {}…, recomputed {}…): the event was edited",
            &stored[..12.min(stored.len())],
            &recomputed[..12.min(recomputed.len())]
        ),
        BreakKind::PrevLinkMismatch { expected, found } => format!(
            "it does not point at the event before it (expected {}…, found {}…): events were removed, reordered or rewritten",
            &expected[..12.min(expected.len())],
            &found[..12.min(found.len())]
        ),
        BreakKind::SeqGap { expected, found } => format!(
            "seq {found} follows where {expected} was expected: events were deleted or inserted"
        ),
        BreakKind::Malformed { detail } => format!("the record is malformed: {detail}"),
    }
}

fn describe_checkpoint(k: &CheckpointProblemKind) -> String {
    match k {
        CheckpointProblemKind::BadSignature => {
            "signature does not verify: forged or altered".into()
        }
        CheckpointProblemKind::UntrustedKey { key_id } => {
            format!("signed by key {key_id}, which is not trusted: forged")
        }
        CheckpointProblemKind::WrongLog { log_id } => format!("belongs to another log ({log_id})"),
        CheckpointProblemKind::Truncated {
            signed_seq,
            last_seq,
        } => format!(
            "signed seq {signed_seq} but the log ends at seq {last_seq}: the tail was cut off"
        ),
        CheckpointProblemKind::HeadMismatch { signed, actual } => format!(
            "signed head {}… but the event there hashes to {}…: history was rewritten",
            &signed[..12.min(signed.len())],
            if actual.is_empty() {
                "(missing)"
            } else {
                &actual[..12.min(actual.len())]
            }
        ),
        CheckpointProblemKind::Malformed { detail } => format!("malformed: {detail}"),
    }
}

fn write_verify(out: &mut dyn Write, r: &VerifyReport, color: bool) -> io::Result<()> {
    let good = Style::new().green().bold();
    let bad = Style::new().red().bold();
    let warn = Style::new().yellow();
    writeln!(
        out,
        "audit log {}: {} events, last seq {}, head {}…",
        r.log_id,
        r.events,
        r.last_seq,
        &r.head_hash[..16.min(r.head_hash.len())]
    )?;
    match &r.integrity {
        Integrity::Ok => writeln!(out, "file:        {}", paint("ok", good, color))?,
        Integrity::Skipped => writeln!(out, "file:        not checked")?,
        Integrity::Damaged(lines) => {
            writeln!(out, "file:        {}", paint("DAMAGED", bad, color))?;
            for l in lines {
                writeln!(out, "             {}", one_line(l, 160))?;
            }
        }
    }
    match &r.first_break {
        None => writeln!(out, "chain:       {}", paint("ok", good, color))?,
        Some(b) => writeln!(
            out,
            "chain:       {} at seq {}: {} ({} broken link{} in all)",
            paint("BROKEN", bad, color),
            b.seq,
            describe_break(&b.kind),
            r.broken_links,
            if r.broken_links == 1 { "" } else { "s" }
        )?,
    }
    let log_problems = r
        .checkpoint_problems
        .iter()
        .filter(|p| p.source == CheckpointSource::Log)
        .count();
    writeln!(
        out,
        "checkpoints: {} in the log, {}",
        r.checkpoints,
        if log_problems == 0 {
            paint("all hold", good, color)
        } else {
            paint(&format!("{log_problems} FAILED"), bad, color)
        }
    )?;
    for p in &r.checkpoint_problems {
        let src = match p.source {
            CheckpointSource::Log => "checkpoint",
            CheckpointSource::Witness => "witness",
        };
        writeln!(
            out,
            "             {src} at seq {}: {}",
            p.seq,
            describe_checkpoint(&p.kind)
        )?;
    }
    let witness = match &r.witness {
        WitnessStatus::Disabled => paint(
            "checkpoints disabled: a cut-off tail cannot be detected",
            warn,
            color,
        ),
        WitnessStatus::Missing => paint(
            "none for this log file (no checkpoint written from this path yet)",
            warn,
            color,
        ),
        WitnessStatus::Ok { seq } => paint(&format!("ok at seq {seq}"), good, color),
        WitnessStatus::Failed { seq } => paint(&format!("FAILED at seq {seq}"), bad, color),
    };
    writeln!(out, "witness:     {witness}")?;
    if r.signatures_unchecked {
        writeln!(
            out,
            "             {}",
            paint(
                "no trusted key available: signatures checked only against their own key",
                warn,
                color
            )
        )?;
    }
    writeln!(
        out,
        "unanchored:  {} event{} after the last checkpoint (could be cut off unnoticed)",
        r.unanchored_events(),
        if r.unanchored_events() == 1 { "" } else { "s" }
    )?;
    let verdict = match verify_exit_code(r) {
        EXIT_OK => paint("VERIFIED", good, color),
        EXIT_DAMAGED => paint("DAMAGED FILE", bad, color),
        _ => paint("TAMPERING DETECTED", bad, color),
    };
    writeln!(out, "{verdict}")
}

fn export(a: &ExportArgs, store: &dyn AuditStore, out: &mut dyn Write) -> Result<i32, AuditError> {
    let filter = event_filter(&a.filter, a.session.as_deref(), now_us());
    let events = store.events(&filter)?;
    match a.format {
        ExportFormat::Jsonl => {
            for ev in &events {
                writeln!(out, "{}", event_json(ev)).map_err(out_err)?;
            }
        }
        ExportFormat::Otlp => {
            for chunk in events.chunks(512) {
                writeln!(out, "{}", otlp_request(chunk)).map_err(out_err)?;
            }
        }
    }
    out.flush().map_err(out_err)?;
    Ok(EXIT_OK)
}

fn otlp_str(key: &str, v: &str) -> Value {
    json!({"key": key, "value": {"stringValue": v}})
}

fn otlp_int(key: &str, v: u64) -> Value {
    // OTLP/JSON writes 64-bit integers as decimal strings.
    json!({"key": key, "value": {"intValue": v.to_string()}})
}

/// One OTLP/JSON `ExportLogsServiceRequest` holding these events.
pub fn otlp_request(events: &[StoredEvent]) -> Value {
    let records: Vec<Value> = events.iter().map(otlp_record).collect();
    json!({
        "resourceLogs": [{
            "resource": {"attributes": [otlp_str("service.name", "warden")]},
            "scopeLogs": [{
                "scope": {"name": "warden-audit", "version": env!("CARGO_PKG_VERSION")},
                "logRecords": records,
            }],
        }],
    })
}

fn otlp_record(ev: &StoredEvent) -> Value {
    let (sev_num, sev_text) = match ev.decision {
        Some(Decision::Deny) => (13, "WARN"),
        Some(Decision::Ask) => (10, "INFO2"),
        _ => (9, "INFO"),
    };
    let nanos = (i128::from(ev.ts_us) * 1000).max(0).to_string();
    let mut attrs = vec![
        otlp_int("warden.seq", ev.seq),
        otlp_str("session.id", &ev.session_id),
        otlp_str("warden.agent", &ev.agent),
        otlp_str("warden.event", ev.kind.as_str()),
        otlp_str("warden.cwd", &ev.cwd),
        otlp_str("warden.input", &crate::chain::canonical_json(&ev.input)),
        otlp_str("warden.hash", &ev.hash),
        otlp_str("warden.prev_hash", &ev.prev_hash),
    ];
    if let Some(t) = &ev.tool {
        attrs.push(otlp_str("warden.tool", t));
    }
    if let Some(t) = &ev.tool_use_id {
        attrs.push(otlp_str("warden.tool_use_id", t));
    }
    if let Some(d) = ev.decision {
        attrs.push(otlp_str("warden.decision", d.as_str()));
    }
    if let Some(r) = &ev.rule {
        attrs.push(otlp_str("warden.rule", r));
    }
    if !ev.reasons.is_empty() {
        let vals: Vec<Value> = ev
            .reasons
            .iter()
            .map(|r| json!({"stringValue": r}))
            .collect();
        attrs.push(json!({"key": "warden.reasons", "value": {"arrayValue": {"values": vals}}}));
    }
    if let Some(l) = ev.latency_us {
        attrs.push(otlp_int("warden.latency_us", l));
    }
    if let Some(l) = ev.result_len {
        attrs.push(otlp_int("warden.result.length", l));
    }
    if let Some(h) = &ev.result_sha256 {
        attrs.push(otlp_str("warden.result.sha256", h));
    }
    if let Some(r) = &ev.result {
        attrs.push(otlp_str("warden.result", r));
    }
    if !ev.extra.is_null() {
        attrs.push(otlp_str(
            "warden.extra",
            &crate::chain::canonical_json(&ev.extra),
        ));
    }
    let body = [
        Some(ev.kind.as_str().to_owned()),
        ev.tool.clone(),
        ev.decision.map(|d| d.as_str().to_owned()),
        Some(gist(ev)).filter(|g| !g.is_empty()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    json!({
        "timeUnixNano": nanos,
        "observedTimeUnixNano": nanos,
        "severityNumber": sev_num,
        "severityText": sev_text,
        "body": {"stringValue": body},
        "attributes": attrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_parses_durations_and_times() {
        assert_eq!(
            parse_since("7d"),
            Ok(Since::Ago(Duration::from_secs(7 * 86400)))
        );
        assert_eq!(
            parse_since("30m"),
            Ok(Since::Ago(Duration::from_secs(1800)))
        );
        assert_eq!(
            parse_since("12h"),
            Ok(Since::Ago(Duration::from_secs(43200)))
        );
        assert_eq!(
            parse_since("2026-11-25T09:00:00Z"),
            Ok(Since::At(1_795_597_200_000_000))
        );
        assert!(parse_since("yesterday-ish").is_err());
        assert!(parse_since("").is_err());
        assert_eq!(
            Since::Ago(Duration::from_secs(1)).to_us(5_000_000),
            4_000_000
        );
    }

    fn ev(seq: u64, ts: i64, kind: EventKind) -> StoredEvent {
        StoredEvent {
            seq,
            ts_us: ts,
            session_id: "s-1".into(),
            agent: "claude-code".into(),
            kind,
            cwd: "/home/dev/project".into(),
            tool: None,
            tool_use_id: None,
            input: Value::Null,
            decision: None,
            rule: None,
            reasons: vec![],
            latency_us: None,
            result: None,
            result_len: None,
            result_sha256: None,
            extra: Value::Null,
            prev_hash: "00".repeat(32),
            hash: "11".repeat(32),
        }
    }

    fn sample() -> Vec<StoredEvent> {
        let t0 = 1_795_597_200_000_000;
        let mut v = vec![ev(1, t0, EventKind::SessionStart)];
        let mut p = ev(2, t0 + 150_000, EventKind::UserPrompt);
        p.input = json!({"prompt": "clean the build\nand run the tests"});
        v.push(p);
        let mut d = ev(3, t0 + 2_000_000, EventKind::PreToolUse);
        d.tool = Some("Bash".into());
        d.input = json!({"command": "rm -rf /", "description": "wipe"});
        d.decision = Some(Decision::Deny);
        d.rule = Some("Bash(rm -rf*) at warden.toml:3".into());
        d.reasons = vec!["destructive command".into()];
        d.latency_us = Some(210);
        v.push(d);
        let mut a = ev(4, t0 + 3_000_000, EventKind::PreToolUse);
        a.tool = Some("Read".into());
        a.input = json!({"file_path": "src/main.rs"});
        a.decision = Some(Decision::Allow);
        a.latency_us = Some(95);
        v.push(a);
        let mut r = ev(5, t0 + 3_100_000, EventKind::PostToolUse);
        r.tool = Some("Read".into());
        r.result = Some("fn main() {}".into());
        r.result_len = Some(70_000);
        r.result_sha256 = Some("ab".repeat(32));
        v.push(r);
        let mut k = ev(6, t0 + 4_000_000, EventKind::PreToolUse);
        k.tool = Some("Edit".into());
        k.input = json!({"file_path": "infra/main.tf"});
        k.decision = Some(Decision::Ask);
        k.rule = Some("Edit(./infra/**)".into());
        v.push(k);
        v.push(ev(7, t0 + 5_000_000, EventKind::SessionEnd));
        v
    }

    #[test]
    fn timeline_snapshot() {
        let mut out = Vec::new();
        write_timeline(&mut out, "s-1", &sample(), false).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[test]
    fn timeline_colours_only_when_asked() {
        let mut plain = Vec::new();
        write_timeline(&mut plain, "s-1", &sample(), false).unwrap();
        assert!(!plain.contains(&0x1b));
        let mut coloured = Vec::new();
        write_timeline(&mut coloured, "s-1", &sample(), true).unwrap();
        let text = String::from_utf8(coloured).unwrap();
        assert!(
            text.contains("\u{1b}[1;31mDENY") || text.contains("\u{1b}[31;1mDENY"),
            "{text}"
        );
    }

    #[test]
    fn otlp_shape() {
        let v = otlp_request(&sample());
        let recs = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        assert_eq!(recs.as_array().map(Vec::len), Some(7));
        assert_eq!(recs[2]["severityText"], "WARN");
        assert_eq!(recs[2]["timeUnixNano"], "1795597202000000000");
        assert_eq!(
            recs[2]["body"]["stringValue"],
            "PreToolUse Bash deny rm -rf /"
        );
        let attrs = recs[2]["attributes"].as_array().unwrap();
        assert!(attrs.contains(&json!({"key": "warden.seq", "value": {"intValue": "3"}})));
        assert!(
            attrs.contains(&json!({"key": "warden.decision", "value": {"stringValue": "deny"}}))
        );
    }
}
