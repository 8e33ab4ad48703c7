//! `warden check`: explain a decision without an agent.

use crate::term::Paint;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use warden_policy::rule::RuleSyntax;
use warden_policy::{Action, Decision, EvalContext, Verdict};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The action, in rule syntax: 'Bash(git push --force origin main)', 'Edit(infra/main.tf)',
    /// 'Read(.env)', 'WebFetch(https://example.com)', 'mcp__github__create_issue'.
    pub action: String,
    /// Raw tool_input JSON for the tool, instead of the text in parentheses.
    #[arg(long)]
    pub input: Option<String>,
    /// Decide with this policy file only, instead of the project's layers (default:
    /// $WARDEN_POLICY when set, as the hook does).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Working directory the action comes from (default: the current one).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Decide as in a session that has taken in untrusted content (shows the narrowed decision).
    #[arg(long)]
    pub tainted: bool,
    /// Decide as in a session with this task (drift from it is checked).
    #[arg(long, value_name = "TEXT")]
    pub task: Option<String>,
    /// One JSON object with a top-level "decision".
    #[arg(long)]
    pub json: bool,
}

/// Turn `Tool(text)` into the tool_input Claude Code would send.
pub fn tool_input_for(tool: &str, text: &str) -> Value {
    match tool {
        "Bash" => json!({ "command": text }),
        "Read" | "Write" | "Edit" | "MultiEdit" => {
            json!({ "file_path": text, "content": "", "new_string": "" })
        }
        "NotebookEdit" => json!({ "notebook_path": text, "new_source": "" }),
        "Glob" | "Grep" | "LS" => json!({ "path": text, "pattern": "*" }),
        "WebFetch" => json!({ "url": text, "prompt": "" }),
        "WebSearch" => json!({ "query": text }),
        _ => json!({}),
    }
}

/// The exit status for a decision: 0 allow, 1 deny, 3 ask.
pub fn exit_code(d: Decision) -> i32 {
    match d {
        Decision::Allow => 0,
        Decision::Deny => 1,
        Decision::Ask => 3,
    }
}

pub fn run(args: &CheckArgs, out: &mut dyn std::io::Write) -> Result<i32> {
    let syntax = RuleSyntax::parse(&args.action).map_err(|e| {
        anyhow::anyhow!("cannot read the action {:?}: {e}. Write it like a rule: 'Bash(ls -la)', 'Edit(src/main.rs)'", args.action)
    })?;
    let input = match &args.input {
        Some(raw) => serde_json::from_str(raw).context("--input is not valid JSON")?,
        None => tool_input_for(&syntax.tool, syntax.specifier.as_deref().unwrap_or("")),
    };
    if syntax.specifier.is_none() && args.input.is_none() && syntax.tool == "Bash" {
        bail!("say which command: warden check 'Bash(git status)'");
    }
    let action = crate::claude::action_from_tool(&syntax.tool, &input)?;
    let cwd = match &args.cwd {
        Some(c) => c.clone(),
        None => crate::project::current_dir()?,
    };
    let root = crate::project::project_root(&cwd);
    let explicit = args.policy.clone().or_else(crate::hook::explicit_policy);
    let policy = crate::project::load_policy(&root, explicit.as_deref())?;
    let mut verdict = policy.evaluate(
        &action,
        &EvalContext {
            cwd: Some(cwd.clone()),
        },
    );
    if policy.settings().secrets.enabled {
        let scanner = crate::redact::scanner(&policy);
        for reason in crate::guard::secret_reasons(&scanner, &action, policy.root()) {
            verdict = verdict.with_reason(reason);
        }
    }
    if args.tainted || args.task.is_some() {
        let mut state = warden_guard::SessionState::default();
        if args.tainted {
            let source = warden_guard::TaintSource::Tool {
                name: "WebFetch".into(),
            };
            state.taint(source, 0, Some("warden-check".into()));
        }
        if let Some(task) = &args.task {
            state.set_task(task, Vec::new());
        }
        let summary = crate::guard::summarize_action(&action, &input, &policy, &cwd, &state.scope);
        for reason in crate::guard::check_action(&state, &summary).reasons {
            verdict = verdict.with_reason(reason);
        }
    }
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&verdict_json(&action, &verdict))?
        )?;
    } else {
        print_human(
            out,
            &args.action,
            &verdict,
            Paint {
                on: crate::term::stdout_color(),
            },
        )?;
    }
    Ok(exit_code(verdict.decision))
}

pub fn verdict_json(action: &Action, verdict: &Verdict) -> Value {
    json!({
        "decision": verdict.decision,
        "action": action,
        "decided_by": verdict.decided_by,
        "reasons": verdict.reasons,
        "analysis": verdict.analysis,
    })
}

fn print_human(
    out: &mut dyn std::io::Write,
    what: &str,
    verdict: &Verdict,
    paint: Paint,
) -> Result<()> {
    writeln!(
        out,
        "{}  {}",
        paint.decision(verdict.decision),
        paint.bold(what)
    )?;
    let by = &verdict.decided_by;
    let kind = serde_json::to_value(by.kind)?
        .as_str()
        .unwrap_or("")
        .to_string();
    writeln!(
        out,
        "  decided by: {kind}{}",
        by.rule
            .as_ref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default()
    )?;
    if let Some(origin) = &by.origin {
        writeln!(out, "  written at: {origin}")?;
    }
    writeln!(out, "  how:        {}", by.message)?;
    let others: Vec<_> = verdict.reasons.iter().filter(|r| *r != by).collect();
    if !others.is_empty() {
        writeln!(out, "  also considered:")?;
        for r in others {
            writeln!(
                out,
                "    {} {}",
                paint.decision(r.decision),
                paint.dim(&r.describe())
            )?;
        }
    }
    if let Some(analysis) = &verdict.analysis {
        writeln!(out, "  command analysis:")?;
        for line in serde_json::to_string_pretty(analysis)?.lines() {
            writeln!(out, "    {}", paint.dim(line))?;
        }
    }
    Ok(())
}
