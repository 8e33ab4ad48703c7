//! `warden replay`: re-decide a recorded session under the current or another policy.

use crate::term::Paint;
use anyhow::Result;
use serde_json::{json, Value};
use std::path::PathBuf;
use warden_audit::{AuditStore, EventFilter, EventKind};
use warden_policy::{Decision, EvalContext};

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The session id (see `warden log sessions`).
    pub session: String,
    /// Decide with this policy file instead of the project's current layers.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// List every tool call, not only the ones whose decision would change.
    #[arg(long)]
    pub all: bool,
    /// Report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn decision_of(d: warden_audit::Decision) -> Decision {
    match d {
        warden_audit::Decision::Allow => Decision::Allow,
        warden_audit::Decision::Ask => Decision::Ask,
        warden_audit::Decision::Deny => Decision::Deny,
    }
}

pub fn run(args: &ReplayArgs, out: &mut dyn std::io::Write) -> Result<i32> {
    let root = crate::project::project_root(&crate::project::current_dir()?);
    let current = crate::project::load_policy(&root, None)?;
    let store = crate::record::open_for_reading(&root, &current.settings().audit)?;
    let policy = match &args.policy {
        Some(file) => crate::project::load_policy(&root, Some(file))?,
        None => current,
    };
    let filter = EventFilter {
        session: Some(args.session.clone()),
        kind: Some(EventKind::PreToolUse),
        ..EventFilter::default()
    };
    let events = store.events(&filter)?;
    if events.is_empty() {
        anyhow::bail!(
            "no tool calls recorded for session {:?}; `warden log sessions` lists the sessions",
            args.session
        );
    }
    let mut rows = Vec::new();
    for ev in &events {
        let tool = ev.tool.clone().unwrap_or_default();
        let before = ev.decision.map(decision_of);
        let (after, reason) = match crate::claude::action_from_tool(&tool, &ev.input) {
            Ok(action) => {
                let verdict = policy.evaluate(
                    &action,
                    &EvalContext {
                        cwd: Some(PathBuf::from(&ev.cwd)),
                    },
                );
                (verdict.decision, crate::hook::reason_text(&verdict))
            }
            Err(e) => (Decision::Deny, format!("cannot be re-decided: {e}")),
        };
        let changed = before != Some(after);
        if changed || args.all {
            rows.push(json!({
                "seq": ev.seq,
                "time": ev.time_rfc3339(),
                "tool": tool,
                "input": summarize(&ev.input),
                "recorded": before,
                "replayed": after,
                "changed": changed,
                "reason": reason,
            }));
        }
    }
    let changed = rows
        .iter()
        .filter(|r| r["changed"] == Value::Bool(true))
        .count();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(
                &json!({ "session": args.session, "tool_calls": events.len(), "changed": changed, "decisions": rows })
            )?
        )?;
        return Ok(0);
    }
    let paint = Paint {
        on: crate::term::stdout_color(),
    };
    for r in &rows {
        let word = |v: &Value| match v.as_str() {
            Some("allow") => paint.decision(Decision::Allow),
            Some("ask") => paint.decision(Decision::Ask),
            Some("deny") => paint.decision(Decision::Deny),
            _ => "-".into(),
        };
        writeln!(
            out,
            "#{} {} {}  {} -> {}",
            r["seq"],
            r["tool"].as_str().unwrap_or(""),
            r["input"].as_str().unwrap_or(""),
            word(&r["recorded"]),
            word(&r["replayed"])
        )?;
        writeln!(out, "    {}", paint.dim(r["reason"].as_str().unwrap_or("")))?;
    }
    writeln!(
        out,
        "{} tool calls replayed, {} would be decided differently",
        events.len(),
        changed
    )?;
    Ok(0)
}

fn summarize(input: &Value) -> String {
    let text = input
        .get("command")
        .or_else(|| input.get("file_path"))
        .or_else(|| input.get("url"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| input.to_string());
    let mut short: String = text.chars().take(100).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
