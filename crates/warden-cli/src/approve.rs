//! Human approval: the hook's wait in unattended sessions, and the `approvals`, `approve`,
//! `deny` and `serve` commands.

use crate::hook::{HookAnswer, HookContext};
use anyhow::{Context, Result};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use warden_approvals::{request_and_wait, NewRequest, Outcome, SqliteApprovals, WaitOptions};
use warden_audit::{AuditStore, EventKind};
use warden_policy::{Action, Decision, Policy};

/// Whether nobody sits at the agent's terminal: the policy says so, `warden run --unattended`
/// set it, or the hook's environment has `WARDEN_UNATTENDED=1`.
pub fn unattended(policy: &Policy) -> bool {
    policy.settings().approvals.unattended
        || std::env::var("WARDEN_UNATTENDED")
            .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn wait_options(policy: &Policy) -> WaitOptions {
    let settings = &policy.settings().approvals;
    let mut opts = WaitOptions {
        timeout: Duration::from_secs(settings.timeout_secs),
        base_url: settings.base_url.clone(),
        ..WaitOptions::default()
    };
    if let Some(url) = &settings.webhook {
        let format = if settings.webhook_slack {
            warden_approvals::notify::WebhookFormat::Slack
        } else {
            warden_approvals::notify::WebhookFormat::Json
        };
        opts.webhook = Some(warden_approvals::notify::WebhookConfig::new(
            url.clone(),
            format,
        ));
    }
    if let Some(ms) = std::env::var("WARDEN_APPROVAL_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        opts.poll_interval = Duration::from_millis(ms.max(10));
    }
    opts
}

/// An "ask" with nobody at the terminal: store a request bound to this exact action, wait for
/// a person, and answer allow only if approved.
pub fn wait_for_person(
    ctx: &HookContext,
    store: &warden_audit::SqliteStore,
    policy: &Policy,
    action: &Action,
    tool_input: &Value,
    reason: &str,
) -> Result<HookAnswer> {
    let session = crate::record::session_key(&ctx.input);
    let approvals =
        SqliteApprovals::open(store.path()).context("cannot open the approval store")?;
    let mut req = NewRequest::new(
        session.clone(),
        action.tool_name(),
        tool_input.clone(),
        reason,
    );
    req.task = store
        .session_flags(&session)
        .ok()
        .and_then(|f| f.get("task").and_then(Value::as_str).map(str::to_string));
    req.diff_preview =
        warden_approvals::diff::preview(action.tool_name(), tool_input, Some(&ctx.cwd));
    let outcome = request_and_wait(&approvals, req, &wait_options(policy))
        .context("waiting for approval failed")?;
    let approved = outcome.is_approved();
    let message = outcome.message();
    let mut ev = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
    ev.kind = EventKind::Approval;
    ev.decision = Some(if approved {
        warden_audit::Decision::Allow
    } else {
        warden_audit::Decision::Deny
    });
    ev.reasons = vec![message.clone()];
    if let Outcome::Approved {
        rule: Some(rule), ..
    } = &outcome
    {
        ev.extra =
            serde_json::json!({ "scoped_rule": serde_json::to_value(rule).unwrap_or(Value::Null) });
    }
    if let Some(id) = outcome.request_id() {
        ev.rule = Some(format!("approval {id}"));
    }
    store
        .append(ev)
        .context("cannot record the approval in the audit log")?;
    let decision = if approved {
        Decision::Allow
    } else {
        Decision::Deny
    };
    Ok(HookAnswer::json(crate::claude::pre_tool_use_answer(
        decision,
        &format!("warden {decision}: {message}"),
        None,
    )))
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8642")]
    pub bind: SocketAddr,
    /// Allow listening beyond loopback (the app then reaches your network: put TLS in front).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// The login token (default: the policy's [approvals] token, else a random one).
    #[arg(long)]
    pub token: Option<String>,
}

fn approvals_store() -> Result<(SqliteApprovals, std::path::PathBuf, Policy)> {
    let root = crate::project::project_root(&crate::project::current_dir()?);
    let policy = crate::project::load_policy(&root, None)?;
    let path = crate::record::store_path(&root, &policy.settings().audit);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let store =
        SqliteApprovals::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok((store, path, policy))
}

pub fn run_list(
    args: &warden_approvals::cli::ApprovalsArgs,
    out: &mut dyn std::io::Write,
) -> Result<i32> {
    let (store, _, _) = approvals_store()?;
    Ok(
        warden_approvals::cli::run_approvals(args, &store, out, crate::term::stdout_color())?
            .exit_code,
    )
}

pub fn run_approve(
    args: &warden_approvals::cli::ApproveArgs,
    out: &mut dyn std::io::Write,
) -> Result<i32> {
    let (store, _, _) = approvals_store()?;
    Ok(
        warden_approvals::cli::run_approve(args, &store, out, crate::term::stdout_color())?
            .exit_code,
    )
}

pub fn run_deny(
    args: &warden_approvals::cli::DenyArgs,
    out: &mut dyn std::io::Write,
) -> Result<i32> {
    let (store, _, _) = approvals_store()?;
    Ok(warden_approvals::cli::run_deny(args, &store, out, crate::term::stdout_color())?.exit_code)
}

pub fn run_serve(args: &ServeArgs, out: &mut dyn std::io::Write) -> Result<i32> {
    let (_, path, policy) = approvals_store()?;
    let mut opts = warden_approvals::web::ServeOptions::new(path);
    opts.bind = args.bind;
    opts.allow_non_loopback = args.allow_non_loopback;
    opts.token = args
        .token
        .clone()
        .or_else(|| policy.settings().approvals.token.clone());
    opts.public_url = policy.settings().approvals.base_url.clone();
    warden_approvals::web::serve(opts, out)?;
    Ok(0)
}
