//! The logic of `warden approvals`, `warden approve` and `warden deny`.
//!
//! The binary owns dispatch; these functions take parsed arguments, a store
//! and a writer, so they are tested without a process. Every piece of
//! agent-controlled text is stripped of control characters before it
//! reaches the terminal.

use std::io::Write;

use chrono::Utc;
use clap::Args;

use crate::display::{human_duration, line, summarize};
use crate::model::{ApprovalRequest, Decided, Decision, Scope, Status};
use crate::store::ApprovalStore;
use crate::ApprovalError;

/// `warden approvals [--json]`: what waits for a person.
#[derive(Debug, Clone, Default, Args)]
pub struct ApprovalsArgs {
    /// Print a JSON array of the pending requests (each with its `id`).
    #[arg(long)]
    pub json: bool,
    /// Also list the latest decided requests.
    #[arg(long)]
    pub all: bool,
}

/// `warden approve ID [--reason TEXT] [--session-wide]`.
#[derive(Debug, Clone, Args)]
pub struct ApproveArgs {
    /// The request id (from `warden approvals`).
    pub id: String,
    /// Why it is approved (stored, shown to the agent).
    #[arg(long)]
    pub reason: Option<String>,
    /// Also allow the very same action (same tool and input) for the rest
    /// of this session, without asking again.
    #[arg(long)]
    pub session_wide: bool,
}

/// `warden deny ID --reason TEXT`.
#[derive(Debug, Clone, Args)]
pub struct DenyArgs {
    /// The request id (from `warden approvals`).
    pub id: String,
    /// Why it is denied: the agent is told.
    #[arg(long, required = true)]
    pub reason: String,
}

/// What a command did: the exit status, and for approve/deny the decision
/// (with the session rule to append to the audit log, if one was created).
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    pub exit_code: i32,
    pub decided: Option<Decided>,
}

/// Who decides from the command line: `$USER@cli` (or `cli`).
pub fn reviewer() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .map(|u| line(&u, 64))
        .filter(|u| !u.trim().is_empty())
        .map(|u| format!("{u}@cli"))
        .unwrap_or_else(|| "cli".into())
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn status(&self, s: &Status) -> String {
        match s {
            Status::Pending => self.wrap("33", "pending"),
            Status::Approved { .. } => self.wrap("32", "approved"),
            Status::Denied { .. } => self.wrap("31", "denied"),
            Status::TimedOut => self.wrap("31", "timed out"),
        }
    }
}

fn write_request(
    out: &mut dyn Write,
    r: &ApprovalRequest,
    paint: &Paint,
) -> Result<(), ApprovalError> {
    let age = human_duration((Utc::now() - r.created_at).num_seconds());
    writeln!(
        out,
        "{}  {}  {:>7} ago  session {}  {}: {}",
        paint.wrap("1", &r.id),
        paint.status(&r.status),
        age,
        line(&r.session_id, 40),
        line(&r.tool, 40),
        summarize(&r.tool, &r.action, 100),
    )?;
    writeln!(out, "    why: {}", line(&r.reason, 200))?;
    if let Some(task) = &r.task {
        writeln!(out, "    task: {}", line(task, 200))?;
    }
    match &r.status {
        Status::Pending => {
            let left = (r.expires_at - Utc::now()).num_seconds();
            writeln!(out, "    expires in {}", human_duration(left))?;
        }
        Status::Approved { by, reason, scope } => {
            let scope = match scope {
                Scope::ThisAction => "this action",
                Scope::SameForSession => "same action for the session",
            };
            let reason = reason.as_deref().map(|x| line(x, 200)).unwrap_or_default();
            writeln!(out, "    approved by {} ({scope}) {reason}", line(by, 64))?;
        }
        Status::Denied { by, reason } => {
            writeln!(out, "    denied by {}: {}", line(by, 64), line(reason, 200))?;
        }
        Status::TimedOut => {}
    }
    Ok(())
}

/// `warden approvals`.
pub fn run_approvals(
    args: &ApprovalsArgs,
    store: &dyn ApprovalStore,
    out: &mut dyn Write,
    color: bool,
) -> Result<CommandOutcome, ApprovalError> {
    let mut list = store.pending()?;
    if args.all {
        let pending_ids: Vec<String> = list.iter().map(|r| r.id.clone()).collect();
        list.extend(
            store
                .recent(50)?
                .into_iter()
                .filter(|r| !pending_ids.contains(&r.id)),
        );
    }
    if args.json {
        let text = serde_json::to_string_pretty(&list)
            .map_err(|e| ApprovalError::Invalid(format!("cannot serialize requests: {e}")))?;
        writeln!(out, "{text}")?;
    } else if list.is_empty() {
        writeln!(out, "no approval requests waiting")?;
    } else {
        let paint = Paint(color);
        for r in &list {
            write_request(out, r, &paint)?;
        }
        if list.iter().any(|r| r.status.is_pending()) {
            writeln!(
                out,
                "\napprove: warden approve ID [--reason TEXT] [--session-wide]   deny: warden deny ID --reason TEXT"
            )?;
        }
    }
    Ok(CommandOutcome {
        exit_code: 0,
        decided: None,
    })
}

/// `warden approve`.
pub fn run_approve(
    args: &ApproveArgs,
    store: &dyn ApprovalStore,
    out: &mut dyn Write,
    color: bool,
) -> Result<CommandOutcome, ApprovalError> {
    let scope = if args.session_wide {
        Scope::SameForSession
    } else {
        Scope::ThisAction
    };
    let decided = store.decide(
        args.id.trim(),
        Decision::Approve {
            by: reviewer(),
            reason: args.reason.clone(),
            scope,
        },
    )?;
    let paint = Paint(color);
    write_request(out, &decided.request, &paint)?;
    if let Some(rule) = &decided.rule {
        writeln!(
            out,
            "session rule {} created: the same {} call is allowed for the rest of session {}",
            rule.id,
            line(&rule.tool, 40),
            line(&rule.session_id, 40)
        )?;
    }
    for other in &decided.also_approved {
        writeln!(out, "also approved by the rule: {other}")?;
    }
    Ok(CommandOutcome {
        exit_code: 0,
        decided: Some(decided),
    })
}

/// `warden deny`.
pub fn run_deny(
    args: &DenyArgs,
    store: &dyn ApprovalStore,
    out: &mut dyn Write,
    color: bool,
) -> Result<CommandOutcome, ApprovalError> {
    let decided = store.decide(
        args.id.trim(),
        Decision::Deny {
            by: reviewer(),
            reason: args.reason.clone(),
        },
    )?;
    write_request(out, &decided.request, &Paint(color))?;
    Ok(CommandOutcome {
        exit_code: 0,
        decided: Some(decided),
    })
}
