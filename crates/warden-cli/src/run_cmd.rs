//! `warden run`, `warden runs` and `warden discard`: an agent on a disposable branch, the gates
//! its work must pass, and what happens next (discard and alert, or commit, push and PR).
//!
//! The git and gate machinery is warden-session's; this module starts the agent (in the
//! sandbox), records the run in the audit log, and prints. [`start`] and [`conclude`] are
//! shared with `warden demo`, so the demo goes through exactly the path of a real run.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use warden_audit::{AuditStore, EventKind, NewEvent};
use warden_policy::Policy;
use warden_session::forge::{ForgeConfig, ForgeKind};
use warden_session::runs::{RunOutcome, RunRecord, RunStore};
use warden_session::{
    ActionNote, GateConfig, GateFinding, GateReport, GateStatus, PrOutcome, PublishConfig,
    PushOutcome, RunId, RunSummary, Workspace, WorkspaceOptions,
};

/// Exit status of `warden run`.
pub const RUN_EXIT_CODES: &str = "\
Exit status of `warden run`:
  the agent's own status when the agent failed (non-zero), else
  0  gates passed: the work is committed on warden/<id> (pushed and a PR opened when configured)
  1  a gate failed: the work is discarded, kept under refs/warden/discarded/<id>, alert sent
  2  warden itself could not run (not a git repository, broken policy, no sandbox)
  3  needs approval: a sensitive path changed; the branch is kept and a person must approve";

/// The agent name recorded in the audit log for run-level events.
const RUN_AGENT: &str = "warden-run";

#[derive(Debug, clap::Args)]
#[command(after_long_help = RUN_EXIT_CODES)]
pub struct RunArgs {
    /// What the agent is asked to do (recorded in the audit log and the pull request).
    #[arg(long)]
    pub task: Option<String>,
    /// Paths the agent may change (files or directories, globs allowed); the overreach gate
    /// fails on anything else.
    #[arg(long, num_args = 1..)]
    pub scope: Vec<String>,
    /// No person is watching: an "ask" waits for approval instead of prompting.
    #[arg(long)]
    pub unattended: bool,
    /// Run the agent without the sandbox (the hooks and gates still apply).
    #[arg(long)]
    pub no_sandbox: bool,
    /// Run in the sandbox even when the kernel lacks some of its mechanisms.
    #[arg(long)]
    pub allow_degraded: bool,
    /// The agent and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1..)]
    pub agent: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct DiscardArgs {
    /// The run id (from `warden runs`).
    pub run: String,
    /// Discard even a run still marked running.
    #[arg(long)]
    pub force: bool,
}

/// A run that has its workspace and is recorded; the agent works in `ws.worktree`.
pub struct RunContext {
    pub repo_root: PathBuf,
    pub policy: Policy,
    pub ws: Workspace,
    pub task: Option<String>,
    pub scope: Vec<String>,
    pub agent: String,
    /// The audit database, in the user's checkout (never in the worktree).
    pub audit_path: PathBuf,
    record: RunRecord,
}

impl RunContext {
    pub fn id(&self) -> &str {
        self.ws.run_id.as_str()
    }

    fn append(&self, ev: NewEvent) -> Result<()> {
        let redactor = crate::redact::redactor(&self.policy);
        let store = crate::record::open_for_append(
            &self.repo_root,
            &self.policy.settings().audit,
            redactor,
        )?;
        store.append(ev).context("cannot append to the audit log")?;
        Ok(())
    }

    fn event(&self, kind: EventKind) -> NewEvent {
        let mut ev = NewEvent::new(self.id(), RUN_AGENT, kind);
        ev.cwd = self.ws.worktree.to_string_lossy().into_owned();
        ev
    }
}

/// Creates the workspace for a run, saves its record and writes the start event.
///
/// `worktrees` overrides where the worktree goes (the demo keeps everything in its own
/// throwaway directory); otherwise `[run] worktrees_dir` or [`default_worktrees_dir`].
pub fn start(
    repo: &Path,
    task: Option<String>,
    scope: Vec<String>,
    agent: &str,
    worktrees: Option<PathBuf>,
) -> Result<RunContext> {
    let repo_root = crate::project::project_root(repo);
    let policy = crate::project::load_policy(&repo_root, None)?;
    let id = RunId::generate()?;
    let options = WorkspaceOptions {
        worktrees_dir: worktrees.or_else(|| worktrees_dir(&repo_root, &policy)),
        ..WorkspaceOptions::default()
    };
    let ws = warden_session::create_workspace(&repo_root, &id, &options)
        .context("cannot create the run's worktree")?;
    let record = RunRecord::start(&ws, task.clone(), scope.clone());
    RunStore::for_workspace(&ws).save(&record)?;
    let audit_path = crate::record::store_path(&repo_root, &policy.settings().audit);
    let ctx = RunContext {
        repo_root,
        policy,
        ws,
        task,
        scope,
        agent: agent.to_string(),
        audit_path,
        record,
    };
    let mut ev = ctx.event(EventKind::Other("RunStart".into()));
    ev.input = json!({
        "task": ctx.task,
        "scope": ctx.scope,
        "agent": ctx.agent,
        "branch": ctx.ws.branch,
        "base_commit": ctx.ws.base_commit,
        "worktree": ctx.ws.worktree,
    });
    ctx.append(ev)?;
    Ok(ctx)
}

/// Where run worktrees go when the policy does not say: `$XDG_STATE_HOME/warden/worktrees/
/// <repo>/` (`~/.local/state/...`). Not inside `.git`: Claude Code treats everything there as
/// sensitive and refuses to edit it, whatever the hooks answer.
pub fn default_worktrees_dir(repo_root: &Path) -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| crate::project::home_dir().map(|h| h.join(".local").join("state")))?;
    let name = repo_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    Some(state.join("warden").join("worktrees").join(name))
}

fn worktrees_dir(repo_root: &Path, policy: &Policy) -> Option<PathBuf> {
    match policy.settings().run.worktrees_dir.as_deref() {
        Some(dir) => Some(match dir.strip_prefix("~/") {
            Some(rest) => crate::project::home_dir()?.join(rest),
            None => repo_root.join(dir),
        }),
        // A HOME inside the checkout (a container's workdir) would put the worktree inside it:
        // fall back to the repository's `.git`, which works for agents other than Claude Code.
        None => default_worktrees_dir(repo_root).filter(|d| !d.starts_with(repo_root)),
    }
}

/// What happened after the agent exited.
pub struct Concluded {
    pub report: GateReport,
    pub outcome: RunOutcome,
    /// 0 passed, 1 failed, 3 needs approval.
    pub exit_code: i32,
    /// Lines for a person: where the work is and what to do next.
    pub lines: Vec<String>,
    /// Alert delivery problems (the alert also goes to stderr).
    pub alert_error: Option<String>,
}

fn gate_config(ctx: &RunContext) -> GateConfig {
    let s = ctx.policy.settings();
    let mut cfg = GateConfig {
        scope: ctx.scope.clone(),
        write_allowlist: s.scope.write.iter().map(|p| policy_glob(p)).collect(),
        max_files_changed: s.run.max_files_changed,
        max_lines_changed: s.run.max_lines_changed.map(|n| n as u64),
        ..GateConfig::default()
    };
    if !s.run.sensitive_paths.is_empty() {
        cfg.sensitive_paths = s.run.sensitive_paths.clone();
    }
    if let Some(secs) = s.run.test_timeout_secs {
        cfg.test_timeout = Duration::from_secs(secs);
    }
    if let Some(line) = s
        .run
        .test_command
        .as_deref()
        .filter(|l| !l.trim().is_empty())
    {
        cfg = cfg.shell_test_command(line);
    }
    cfg
}

/// The policy writes paths in the rule syntax (`./src/**`); the gates want repo-relative globs.
fn policy_glob(p: &str) -> String {
    p.trim_start_matches("./").to_string()
}

fn secrets_scanner() -> impl Fn(&str, &str) -> Vec<GateFinding> {
    let scanner = warden_secrets::Scanner::builtin();
    move |_path: &str, added: &str| {
        scanner
            .scan(added)
            .into_iter()
            .map(|f| GateFinding {
                line: Some(f.line),
                rule: f.rule_id.clone(),
                message: format!("{} ({})", f.rule_id, f.preview),
            })
            .collect()
    }
}

fn publish_config(ctx: &RunContext) -> Result<PublishConfig> {
    let s = &ctx.policy.settings().run;
    let mut cfg = PublishConfig::default();
    let remote = match &s.remote {
        Some(r) => Some(r.clone()),
        None => has_remote(&ctx.repo_root, "origin").then(|| "origin".to_string()),
    };
    cfg.remote = remote;
    if cfg.remote.is_some() && (s.forge.is_some() || s.forge_api.is_some()) {
        let kind = match s.forge.as_deref().unwrap_or("github") {
            "github" => ForgeKind::GitHub,
            "gitlab" => ForgeKind::GitLab,
            "gitea" | "forgejo" => ForgeKind::Gitea,
            other => bail!("[run] forge = {other:?} is not one of github, gitlab, gitea"),
        };
        let mut forge = ForgeConfig::new(kind);
        forge.api_base = s.forge_api.clone();
        forge.token_env = s.forge_token_env.clone();
        forge.repo = s.forge_repo.clone();
        cfg.forge = Some(forge);
    }
    Ok(cfg)
}

fn has_remote(repo: &Path, name: &str) -> bool {
    std::process::Command::new("git")
        .args(["remote", "get-url", name])
        .current_dir(repo)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs the gates, records each, then discards or publishes.
///
/// `agent_failure` (the agent's own non-zero exit) discards the work even when every gate
/// passes: a half-finished change is not offered for merge.
pub fn conclude(
    ctx: &mut RunContext,
    summary: &RunSummary,
    agent_failure: Option<i32>,
) -> Result<Concluded> {
    let cfg = gate_config(ctx);
    let scanner = secrets_scanner();
    let report = warden_session::run_gates(&ctx.ws, &cfg, &scanner)?;
    for r in &report.results {
        let mut ev = ctx.event(EventKind::Gate);
        ev.tool = Some(r.gate.name().to_string());
        ev.decision = Some(match r.status {
            GateStatus::Passed | GateStatus::Skipped => warden_audit::Decision::Allow,
            GateStatus::NeedsApproval => warden_audit::Decision::Ask,
            GateStatus::Failed => warden_audit::Decision::Deny,
        });
        ev.reasons = std::iter::once(r.summary.clone())
            .chain(r.details.iter().cloned())
            .collect();
        ev.latency_us = Some(r.duration_ms.saturating_mul(1000));
        ev.input = json!({ "gate": r.gate.name(), "status": r.status.label() });
        ctx.append(ev)?;
    }
    ctx.record.set_gates(&report);
    let mut lines = Vec::new();
    let mut alert_error = None;
    let status = match agent_failure {
        Some(_) => GateStatus::Failed,
        None => report.outcome(),
    };
    let unchanged = report.snapshot.files.is_empty() && report.snapshot.head == ctx.ws.base_commit;
    let (outcome, exit_code) = match status {
        _ if unchanged && agent_failure.is_none() => {
            // Nothing to review: remove the workspace, keep an (empty) ref for the record.
            let reason = "the agent changed nothing".to_string();
            let kept = warden_session::discard(&ctx.ws, &reason)?;
            lines.push(format!("{reason}; nothing to review or merge"));
            (
                RunOutcome::Discarded {
                    kept_ref: kept.kept_ref,
                    reason,
                },
                0,
            )
        }
        GateStatus::Failed => {
            let failed: Vec<&str> = report
                .blocking()
                .filter(|r| r.status == GateStatus::Failed)
                .map(|r| r.gate.name())
                .collect();
            let reason = match agent_failure {
                Some(code) if failed.is_empty() => {
                    format!("the agent exited with status {code}")
                }
                Some(code) => format!(
                    "the agent exited with status {code}; gates failed: {}",
                    failed.join(", ")
                ),
                None => format!("gates failed: {}", failed.join(", ")),
            };
            let kept = warden_session::discard(&ctx.ws, &reason)?;
            let alert =
                warden_session::alert::Alert::new(&ctx.ws, summary, &report, Some(&kept.kept_ref));
            eprintln!(
                "warden: ALERT: {}",
                alert.text.trim_start_matches("warden: ")
            );
            alert_error = send_alert(ctx, &alert);
            lines.push(format!("discarded: {reason}"));
            lines.push(format!(
                "the work is kept for forensics: git show {}",
                kept.kept_ref
            ));
            (
                RunOutcome::Discarded {
                    kept_ref: kept.kept_ref,
                    reason,
                },
                1,
            )
        }
        status => {
            let publish = publish_config(ctx)?;
            let published = warden_session::finalize(&ctx.ws, summary, &report, &publish)?;
            let pushed_to = match &published.push {
                PushOutcome::Pushed { remote, remote_ref } => {
                    Some(format!("{remote} {remote_ref}"))
                }
                PushOutcome::Failed { remote, error } => {
                    lines.push(format!("push to {remote} failed: {error}"));
                    None
                }
                PushOutcome::NoRemote => None,
            };
            let pr_url = match &published.pr {
                // The next steps below name it.
                PrOutcome::Opened(pr) => Some(pr.url.clone()),
                PrOutcome::Failed { error } => {
                    lines.push(format!("the pull request could not be opened: {error}"));
                    None
                }
                PrOutcome::NotRequested => None,
            };
            lines.push(format!(
                "committed {} on {}",
                short(&published.commit),
                published.branch
            ));
            lines.extend(published.next_steps.iter().cloned());
            if status == GateStatus::NeedsApproval {
                let gates: Vec<String> = report
                    .results
                    .iter()
                    .filter(|r| r.status == GateStatus::NeedsApproval)
                    .map(|r| r.gate.name().to_string())
                    .collect();
                lines.push(format!(
                    "NEEDS APPROVAL ({}): a person must approve before {} is merged",
                    gates.join(", "),
                    published.branch
                ));
                let alert = warden_session::alert::Alert::new(&ctx.ws, summary, &report, None);
                eprintln!("warden: {}", alert.text.trim_start_matches("warden: "));
                alert_error = send_alert(ctx, &alert);
                (
                    RunOutcome::NeedsApproval {
                        branch: published.branch.clone(),
                        commit: Some(published.commit.clone()),
                        gates,
                        pushed_to,
                        pr_url,
                    },
                    3,
                )
            } else {
                (
                    RunOutcome::Passed {
                        branch: published.branch.clone(),
                        commit: published.commit.clone(),
                        pushed_to,
                        pr_url,
                    },
                    0,
                )
            }
        }
    };
    let mut ev = ctx.event(EventKind::Other("RunEnd".into()));
    ev.input = serde_json::to_value(&outcome).unwrap_or(Value::Null);
    ctx.append(ev)?;
    ctx.record.finish(outcome.clone());
    RunStore::for_workspace(&ctx.ws).save(&ctx.record)?;
    Ok(Concluded {
        report,
        outcome,
        exit_code,
        lines,
        alert_error,
    })
}

/// Sends the alert to `[run] alert_webhook`, if any; returns what went wrong.
fn send_alert(ctx: &RunContext, alert: &warden_session::alert::Alert) -> Option<String> {
    let url = ctx.policy.settings().run.alert_webhook.as_ref()?;
    match warden_session::alert::send(url, alert, Duration::from_secs(10)) {
        Ok(()) => None,
        Err(e) => {
            eprintln!("warden: the alert webhook failed: {e}");
            Some(e.to_string())
        }
    }
}

/// Marks a run as errored (warden failed after the workspace existed).
fn record_error(ctx: &mut RunContext, error: &str) {
    ctx.record.finish(RunOutcome::Errored {
        error: error.to_string(),
    });
    let _ = RunStore::for_workspace(&ctx.ws).save(&ctx.record);
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn is_claude(program: &str) -> bool {
    Path::new(program)
        .file_name()
        .is_some_and(|n| n == "claude")
}

/// Writes the per-run Claude Code settings (warden's hooks only) outside the worktree.
fn claude_settings(ctx: &RunContext) -> Result<PathBuf> {
    // Flag settings outrank the project's and local settings files: an agent that writes
    // `"disableAllHooks": true` into `.claude/settings.local.json` in its worktree (Claude Code
    // reloads settings files while it runs) must not switch warden off.
    let mut settings = json!({ "disableAllHooks": false });
    crate::init::merge_hooks(&mut settings, &crate::init::hook_command()?)?;
    let dir = ctx.ws.git_common_dir.join("warden").join("agent-settings");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{}.json", ctx.id()));
    let text = serde_json::to_string_pretty(&settings)?;
    crate::init::write_atomically(&path, &text)?;
    Ok(path)
}

fn agent_env(ctx: &RunContext, unattended: bool) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "WARDEN_PROJECT_ROOT".to_string(),
            ctx.ws.worktree.to_string_lossy().into_owned(),
        ),
        ("WARDEN_RUN_ID".into(), ctx.id().to_string()),
        ("WARDEN_TASK".into(), ctx.task.clone().unwrap_or_default()),
        ("WARDEN_SCOPE".into(), ctx.scope.join(",")),
        (
            // The hook should log here rather than into the agent-writable worktree.
            "WARDEN_AUDIT_DB".into(),
            ctx.audit_path.to_string_lossy().into_owned(),
        ),
    ];
    if unattended {
        env.push(("WARDEN_UNATTENDED".into(), "1".into()));
    }
    env
}

/// Where the run's hook broker listens: beside the run records, in a directory the sandbox
/// keeps read-only.
fn hook_socket(ctx: &RunContext) -> PathBuf {
    ctx.ws
        .git_common_dir
        .join("warden")
        .join("hook")
        .join(format!("{}.sock", ctx.id()))
}

fn sandbox_spec(
    ctx: &RunContext,
    env: Vec<(String, String)>,
    degraded: bool,
) -> Result<warden_sandbox::SandboxSpec> {
    let program = ctx.agent.split_whitespace().next().map(Path::new);
    // One mapping from the policy to the sandbox, shared with `warden sandbox`; the run adds
    // what is its own.
    let mut spec = crate::sandbox_cmd::spec_from_policy(
        &ctx.policy,
        &ctx.ws.worktree,
        &ctx.ws.worktree,
        program,
    )?;
    // The agent commits in its worktree: git writes objects and refs in the common dir.
    spec.writable.push(ctx.ws.git_common_dir.clone());
    // ... but it must not edit its run's record, its settings, the hook socket, the audit
    // log, or git's hooks and config (which run code outside the sandbox later).
    let warden_dir = ctx.ws.git_common_dir.join("warden");
    for p in [
        warden_dir.join("runs"),
        warden_dir.join("agent-settings"),
        warden_dir.join("hook"),
        ctx.audit_path.clone(),
        crate::record::staging_path_for_protection(&ctx.audit_path),
        ctx.ws.git_common_dir.join("hooks"),
        ctx.ws.git_common_dir.join("config"),
    ] {
        if p.exists() {
            spec.protected.push(p);
        }
    }
    spec.protected.sort();
    spec.protected.dedup();
    spec.env.set = env;
    spec.allow_degraded = degraded;
    Ok(spec)
}

fn launch_agent(ctx: &RunContext, args: &RunArgs) -> Result<i32> {
    let (program, rest) = args
        .agent
        .split_first()
        .context("no agent command given after --")?;
    let mut argv: Vec<OsString> = rest.iter().map(OsString::from).collect();
    if is_claude(program) {
        let settings = claude_settings(ctx)?;
        argv.insert(0, settings.into_os_string());
        argv.insert(0, "--settings".into());
    }
    let env = agent_env(ctx, args.unattended);
    if args.no_sandbox {
        eprintln!(
            "warden: --no-sandbox: the agent runs without isolation (hooks and gates still apply)"
        );
        let status = std::process::Command::new(program)
            .args(&argv)
            .current_dir(&ctx.ws.worktree)
            .envs(env)
            .status()
            .with_context(|| format!("cannot start the agent {program:?}"))?;
        return Ok(status.code().unwrap_or(128));
    }
    // Hooks inside the sandbox cannot write the audit log: they relay to this broker.
    let broker = crate::broker::Broker::start(&hook_socket(ctx), &env)?;
    let mut env = env;
    env.push((
        crate::broker::SOCKET_ENV.to_string(),
        broker.socket().to_string_lossy().into_owned(),
    ));
    let spec = sandbox_spec(ctx, env, args.allow_degraded)?;
    let missing = warden_sandbox::missing_mechanisms(&spec, &warden_sandbox::probe());
    if !missing.is_empty() {
        if !args.allow_degraded {
            bail!(
                "this kernel cannot sandbox the agent fully:\n  {}\nrerun with --allow-degraded to accept less isolation, or --no-sandbox",
                missing.join("\n  ")
            );
        }
        eprintln!(
            "warden: sandbox DEGRADED (--allow-degraded):\n  {}",
            missing.join("\n  ")
        );
    }
    let observer =
        crate::sandbox_cmd::proxy_logger(&ctx.repo_root, &ctx.policy, ctx.id().to_string());
    let status = warden_sandbox::run_with_observer(
        &spec,
        &crate::sandbox_cmd::exec_path(std::ffi::OsStr::new(program)),
        &argv,
        observer,
    )
    .context("the sandbox could not run the agent");
    drop(broker);
    Ok(status?.shell_code())
}

/// `warden run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<i32> {
    let cwd = crate::project::current_dir()?;
    let agent = args.agent.first().cloned().unwrap_or_default();
    let mut ctx = start(&cwd, args.task.clone(), args.scope.clone(), &agent, None)?;
    let paint = crate::term::Paint {
        on: crate::term::stdout_color(),
    };
    writeln!(
        out,
        "{} run {} on branch {} in {}",
        paint.bold("warden:"),
        ctx.id(),
        ctx.ws.branch,
        ctx.ws.worktree.display()
    )?;
    out.flush()?;
    let agent_code = match launch_agent(&ctx, args) {
        Ok(code) => code,
        Err(e) => {
            record_error(&mut ctx, &format!("{e:#}"));
            let _ = warden_session::discard(&ctx.ws, "the agent could not be started");
            return Err(e);
        }
    };
    let recorded = recorded_by_hooks(&ctx);
    if ctx.task.is_none() {
        // No --task: the agent's first prompt, recorded by the UserPromptSubmit hook.
        ctx.task = recorded.task;
        ctx.record.task = ctx.task.clone();
    }
    let summary = RunSummary {
        task: ctx.task.clone(),
        scope: ctx.scope.clone(),
        agent: Some(agent),
        denied: recorded.denied,
        asked: recorded.asked,
        audit_session: Some(ctx.id().to_string()),
    };
    let failure = (agent_code != 0).then_some(agent_code);
    let spinner = crate::term::spinner(
        "warden: running the gates (tests, secret scan, overreach, sensitive paths)",
    );
    let concluded = conclude(&mut ctx, &summary, failure);
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let concluded = match concluded {
        Ok(c) => c,
        Err(e) => {
            record_error(&mut ctx, &format!("{e:#}"));
            return Err(e);
        }
    };
    print_gates(out, &concluded.report, paint)?;
    for line in &concluded.lines {
        writeln!(out, "  {line}")?;
    }
    if let Some(e) = &concluded.alert_error {
        writeln!(out, "  the alert webhook was not reached: {e}")?;
    }
    writeln!(out, "  audit trail: warden log show {}", ctx.id())?;
    if agent_code != 0 {
        writeln!(out, "the agent exited with status {agent_code}")?;
        return Ok(agent_code);
    }
    Ok(concluded.exit_code)
}

/// What the hooks recorded under the run's audit session.
#[derive(Default)]
struct Recorded {
    /// The actions denied and asked about, for the commit message and the pull request.
    denied: Vec<ActionNote>,
    asked: Vec<ActionNote>,
    /// The session's task (the agent's first prompt), if the hooks recorded one.
    task: Option<String>,
}

fn recorded_by_hooks(ctx: &RunContext) -> Recorded {
    let mut recorded = Recorded::default();
    let Ok(store) = crate::record::open_for_reading(&ctx.repo_root, &ctx.policy.settings().audit)
    else {
        return recorded;
    };
    let filter = warden_audit::EventFilter {
        session: Some(ctx.id().to_string()),
        kind: Some(EventKind::PreToolUse),
        ..Default::default()
    };
    for ev in warden_audit::AuditStore::events(&store, &filter).unwrap_or_default() {
        let list = match ev.decision {
            Some(warden_audit::Decision::Deny) => &mut recorded.denied,
            Some(warden_audit::Decision::Ask) => &mut recorded.asked,
            _ => continue,
        };
        let tool = ev.tool.as_deref().unwrap_or("?");
        list.push(ActionNote {
            action: format!(
                "{tool}: {}",
                warden_approvals::summarize(tool, &ev.input, 200)
            ),
            reason: ev.reasons.first().cloned().unwrap_or_default(),
        });
    }
    recorded.task = warden_audit::AuditStore::session_flags(&store, ctx.id())
        .ok()
        .and_then(|flags| {
            flags
                .get("task")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|t| !t.trim().is_empty());
    recorded
}

pub fn print_gates(
    out: &mut dyn Write,
    report: &GateReport,
    paint: crate::term::Paint,
) -> Result<()> {
    writeln!(out, "gates:")?;
    for r in &report.results {
        let label = match r.status {
            GateStatus::Passed => paint.green("passed"),
            GateStatus::Failed => paint.red("FAILED"),
            GateStatus::NeedsApproval => paint.yellow("needs approval"),
            GateStatus::Skipped => paint.dim("skipped"),
        };
        writeln!(out, "  {:<16} {label}: {}", r.gate.name(), r.summary)?;
        if r.status != GateStatus::Passed {
            for d in r.details.iter().take(8) {
                writeln!(out, "      {d}")?;
            }
        }
    }
    Ok(())
}

fn repo_for_runs() -> Result<RunStore> {
    let cwd = crate::project::current_dir()?;
    RunStore::open(&cwd).context("cannot open the run registry (is this a git repository?)")
}

/// `warden runs`.
pub fn runs(args: &RunsArgs, out: &mut dyn Write) -> Result<i32> {
    let store = repo_for_runs()?;
    let list = store.list()?;
    if args.json {
        let v = json!({
            "runs": list.records,
            "unreadable": list.unreadable.iter().map(|(p, e)| json!({"path": p, "error": e})).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(0);
    }
    if list.records.is_empty() {
        writeln!(out, "no runs yet")?;
    }
    for r in &list.records {
        let removed = if r.removed.is_some() {
            " (removed)"
        } else {
            ""
        };
        writeln!(
            out,
            "{}  {:<15} {}{}  {}",
            r.id,
            r.outcome.label(),
            r.started,
            removed,
            r.task.as_deref().unwrap_or("-")
        )?;
        match &r.outcome {
            RunOutcome::Discarded { kept_ref, reason } => {
                writeln!(out, "    {reason}; kept at {kept_ref}")?
            }
            RunOutcome::Passed { branch, pr_url, .. }
            | RunOutcome::NeedsApproval { branch, pr_url, .. } => writeln!(
                out,
                "    branch {branch}{}",
                pr_url
                    .as_deref()
                    .map(|u| format!(", PR {u}"))
                    .unwrap_or_default()
            )?,
            RunOutcome::Errored { error } => writeln!(out, "    error: {error}")?,
            RunOutcome::Running => {}
        }
    }
    for (p, e) in &list.unreadable {
        writeln!(out, "unreadable run record {}: {e}", p.display())?;
    }
    Ok(0)
}

/// `warden discard RUN`.
pub fn discard(args: &DiscardArgs, out: &mut dyn Write) -> Result<i32> {
    let store = repo_for_runs()?;
    let id = RunId::parse(&args.run)?;
    let removal = store.discard_run(&id, args.force)?;
    writeln!(out, "removed run {id}")?;
    if let Some(w) = &removal.worktree {
        writeln!(out, "  worktree {}", w.display())?;
    }
    for r in &removal.refs {
        writeln!(out, "  ref {r}")?;
    }
    if let Some(remote) = &removal.remote_branch_left {
        writeln!(
            out,
            "  still on the remote: {remote} (delete it there if you want)"
        )?;
    }
    Ok(0)
}
