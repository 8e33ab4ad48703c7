//! `warden hook claude`: the command Claude Code's hooks run.
//!
//! Fail closed: every path out of here either gives the policy's answer or denies. Malformed
//! JSON, an unknown event, a missing or broken policy, a store that cannot be written and a
//! panic all end in a deny with a reason that names the problem — in the JSON form for a
//! PreToolUse, as a session halt for other events, and as exit status 2 with the reason on
//! stderr when the payload could not even be read (Claude Code treats that as blocking).

use crate::claude::{self, HookEvent, HookInput};
use serde_json::Value;
use std::io::{Read, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Instant;
use warden_policy::{Decision, EvalContext, Verdict};

/// Largest payload read from stdin; a tool call bigger than this is denied, not truncated.
pub(crate) const MAX_PAYLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// What the hook prints and how it exits. Serializable: the run's hook broker sends it back
/// to the hook process inside the sandbox, which prints it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct HookAnswer {
    pub stdout: Option<Value>,
    pub stderr: Option<String>,
    pub exit_code: i32,
}

impl HookAnswer {
    pub(crate) fn json(value: Value) -> HookAnswer {
        HookAnswer {
            stdout: Some(value),
            stderr: None,
            exit_code: 0,
        }
    }

    /// The blocking form when nothing better is possible.
    fn blocking(reason: String) -> HookAnswer {
        HookAnswer {
            stdout: None,
            stderr: Some(reason),
            exit_code: 2,
        }
    }
}

/// A failure, with what is known of the event it happened in.
pub(crate) struct Failure {
    event: Option<HookEvent>,
    message: String,
}

impl Failure {
    pub(crate) fn new(event: Option<HookEvent>, message: impl Into<String>) -> Failure {
        Failure {
            event,
            message: message.into(),
        }
    }

    pub(crate) fn answer(self) -> HookAnswer {
        let reason = format!("warden: {} (failing closed)", self.message);
        match self.event {
            Some(HookEvent::PreToolUse) => {
                HookAnswer::json(claude::pre_tool_use_answer(Decision::Deny, &reason, None))
            }
            Some(HookEvent::PostToolUse) => HookAnswer::json(serde_json::json!({
                "decision": "block",
                "reason": reason,
            })),
            Some(_) => HookAnswer::json(claude::halt_answer(&reason)),
            None => HookAnswer::blocking(reason),
        }
    }
}

/// Run the hook over stdin and stdout; returns the exit status.
pub fn run(stdin: impl Read, mut stdout: impl Write) -> i32 {
    let started = Instant::now();
    // The hook's stderr is shown to people; a panic must not spill a stack trace there.
    std::panic::set_hook(Box::new(|_| {}));
    let answer = match read_payload(stdin) {
        Err(failure) => failure.answer(),
        Ok(raw) => match crate::broker::socket_from_env() {
            // Inside `warden run`'s sandbox the audit log is out of reach: the broker outside
            // answers, and a broker that cannot be reached is a deny like any other failure.
            Some(socket) => crate::broker::relay(&socket, &raw).unwrap_or_else(|e| {
                Failure::new(
                    sniff_event(&raw),
                    format!(
                        "the run's hook broker at {} cannot be reached: {e:#}",
                        socket.display()
                    ),
                )
                .answer()
            }),
            None => answer_payload(&raw, started),
        },
    };
    if let Some(value) = &answer.stdout {
        let text = value.to_string();
        if writeln!(stdout, "{text}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            // Nobody can read the JSON answer: fall back to the blocking exit status.
            eprintln!("warden: cannot write the hook answer to stdout (failing closed)");
            return 2;
        }
    }
    if let Some(message) = &answer.stderr {
        eprintln!("{message}");
    }
    answer.exit_code
}

/// The answer to one hook payload, whatever happens inside (a panic is a deny).
pub(crate) fn answer_payload(raw: &str, started: Instant) -> HookAnswer {
    let event_hint = sniff_event(raw);
    match std::panic::catch_unwind(AssertUnwindSafe(|| handle(raw, started))) {
        Ok(Ok(answer)) => answer,
        Ok(Err(failure)) => failure.answer(),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Failure::new(event_hint, format!("internal error: {what}")).answer()
        }
    }
}

fn read_payload(stdin: impl Read) -> Result<String, Failure> {
    let mut raw = String::new();
    let read = stdin.take(MAX_PAYLOAD_BYTES + 1).read_to_string(&mut raw);
    match read {
        Err(e) => Err(Failure::new(
            None,
            format!("cannot read the hook payload on stdin: {e}"),
        )),
        Ok(n) if n as u64 > MAX_PAYLOAD_BYTES => Err(Failure::new(
            sniff_event(&raw),
            format!("the hook payload is larger than {MAX_PAYLOAD_BYTES} bytes"),
        )),
        Ok(_) => Ok(raw),
    }
}

/// The event name of a payload too broken to parse whole, so the failure can take its form.
pub(crate) fn sniff_event(raw: &str) -> Option<HookEvent> {
    let at = raw.find("\"hook_event_name\"")?;
    let rest = &raw[at + "\"hook_event_name\"".len()..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    HookEvent::parse(&rest[start..end])
}

/// Everything a hook call knows about where it runs.
pub struct HookContext {
    pub input: HookInput,
    pub event: HookEvent,
    pub cwd: PathBuf,
    pub root: PathBuf,
    pub started: Instant,
}

fn handle(raw: &str, started: Instant) -> Result<HookAnswer, Failure> {
    let input: HookInput = serde_json::from_str(raw).map_err(|e| {
        Failure::new(
            sniff_event(raw),
            format!("the hook payload is not valid JSON: {e}"),
        )
    })?;
    let name = input.hook_event_name.clone().unwrap_or_default();
    let event = HookEvent::parse(&name).ok_or_else(|| {
        Failure::new(
            None,
            format!("unknown hook event {name:?}; warden only answers the events it knows"),
        )
    })?;
    let cwd = match &input.cwd {
        Some(cwd) if !cwd.is_empty() => PathBuf::from(cwd),
        _ => std::env::current_dir().map_err(|e| {
            Failure::new(
                Some(event),
                format!("no cwd in the payload and none readable: {e}"),
            )
        })?,
    };
    let root = crate::project::project_root(&cwd);
    let ctx = HookContext {
        input,
        event,
        cwd,
        root,
        started,
    };
    let result = match event {
        HookEvent::PreToolUse => pre_tool_use(&ctx),
        HookEvent::PostToolUse => post_tool_use(&ctx),
        _ => other_event(&ctx),
    };
    if let Err(failure) = &result {
        record_failure(&ctx, &failure.message);
    }
    result
}

/// Best effort: a failure before the policy's own store could be used still goes into the
/// default store, so the person reading the log sees why the agent was stopped.
fn record_failure(ctx: &HookContext, message: &str) {
    let settings = warden_policy::config::AuditSettings::default();
    let Ok(store) = crate::record::open_for_append(
        &ctx.root,
        &settings,
        std::sync::Arc::new(warden_audit::PassThrough),
    ) else {
        return;
    };
    let mut ev = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
    ev.decision = Some(warden_audit::Decision::Deny);
    ev.reasons = vec![format!("warden failed closed: {message}")];
    ev.latency_us = Some(ctx.started.elapsed().as_micros() as u64);
    let _ = warden_audit::AuditStore::append(&store, ev);
}

/// The one policy file `$WARDEN_POLICY` names, which replaces the project's layers; `warden
/// check` reads it too, so that it explains the decision the hook makes.
pub(crate) fn explicit_policy() -> Option<PathBuf> {
    std::env::var_os("WARDEN_POLICY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

fn load_policy(ctx: &HookContext) -> Result<warden_policy::Policy, Failure> {
    let explicit = explicit_policy();
    if explicit.is_none() && !has_any_warden_policy(&ctx.root) {
        return Err(Failure::new(
            Some(ctx.event),
            format!(
                "no warden policy found for {} (looked for warden.toml, .warden/policy.toml and the user policy); run `warden init`",
                ctx.root.display()
            ),
        ));
    }
    crate::project::load_policy(&ctx.root, explicit.as_deref())
        .map_err(|e| Failure::new(Some(ctx.event), format!("the policy cannot be used: {e:#}")))
}

fn has_any_warden_policy(root: &Path) -> bool {
    if warden_policy::config::has_warden_policy(root) {
        return true;
    }
    let home = crate::project::home_dir();
    warden_policy::config::user_config_dir(home.as_deref())
        .is_some_and(|dir| dir.join("policy.toml").is_file())
}

/// The policy and the audit store every event needs.
pub struct Session {
    pub policy: warden_policy::Policy,
    pub store: warden_audit::SqliteStore,
}

fn open_session(ctx: &HookContext) -> Result<Session, Failure> {
    let policy = load_policy(ctx)?;
    let redactor = crate::redact::redactor(&policy);
    let store = crate::record::open_for_append(&ctx.root, &policy.settings().audit, redactor)
        .map_err(|e| {
            Failure::new(
                Some(ctx.event),
                format!("the audit log cannot be written, so nothing may run unrecorded: {e:#}"),
            )
        })?;
    Ok(Session { policy, store })
}

fn append(
    ctx: &HookContext,
    session: &Session,
    ev: warden_audit::NewEvent,
) -> Result<warden_audit::StoredEvent, Failure> {
    warden_audit::AuditStore::append(&session.store, ev).map_err(|e| {
        Failure::new(
            Some(ctx.event),
            format!("the audit log cannot be written, so nothing may run unrecorded: {e}"),
        )
    })
}

fn session_id(ctx: &HookContext) -> String {
    crate::record::session_key(&ctx.input)
}

fn load_state(ctx: &HookContext, session: &Session) -> Result<warden_guard::SessionState, Failure> {
    crate::guard::load_state(&session.store, &session_id(ctx))
        .map_err(|e| Failure::new(Some(ctx.event), format!("{e:#}")))
}

fn save_state(
    ctx: &HookContext,
    session: &Session,
    state: &warden_guard::SessionState,
) -> Result<(), Failure> {
    crate::guard::save_state(&session.store, &session_id(ctx), state)
        .map_err(|e| Failure::new(Some(ctx.event), format!("{e:#}")))
}

fn pre_tool_use(ctx: &HookContext) -> Result<HookAnswer, Failure> {
    let event = Some(ctx.event);
    let tool = ctx
        .input
        .tool_name
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Failure::new(event, "the PreToolUse payload has no tool_name"))?;
    let empty = Value::Object(Default::default());
    let tool_input = ctx.input.tool_input.as_ref().unwrap_or(&empty);
    let action = claude::action_from_tool(tool, tool_input)
        .map_err(|e| Failure::new(event, e.to_string()))?;
    let session = open_session(ctx)?;
    let mut state = load_state(ctx, &session)?;
    let mut verdict = session.policy.evaluate(
        &action,
        &EvalContext {
            cwd: Some(ctx.cwd.clone()),
        },
    );
    if session.policy.settings().secrets.enabled {
        let scanner = crate::redact::scanner(&session.policy);
        for reason in crate::guard::secret_reasons(&scanner, &action, session.policy.root()) {
            verdict = verdict.with_reason(reason);
        }
    }
    let summary = crate::guard::summarize_action(
        &action,
        tool_input,
        &session.policy,
        &ctx.cwd,
        &state.scope,
    );
    let guard = crate::guard::check_action(&state, &summary);
    for reason in guard.reasons {
        verdict = verdict.with_reason(reason);
    }
    let mut reason = reason_text(&verdict);
    let halt = guard
        .halt
        .filter(|_| session.policy.settings().taint.drift_halt);
    let mut ev = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
    ev.decision = Some(crate::record::audit_decision(verdict.decision));
    ev.rule = verdict
        .decided_by
        .rule
        .as_ref()
        .map(|rule| match &verdict.decided_by.origin {
            Some(origin) => format!("{rule} ({origin})"),
            None => rule.to_string(),
        });
    ev.reasons = verdict
        .reasons
        .iter()
        .map(|r| format!("{}: {}", r.decision, r.describe()))
        .collect();
    ev.latency_us = Some(ctx.started.elapsed().as_micros() as u64);
    append(ctx, &session, ev)?;
    if let Some(why) = &halt {
        state.halt(why.clone());
        save_state(ctx, &session, &state)?;
        let mut incident = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
        incident.kind = warden_audit::EventKind::Incident;
        incident.decision = Some(warden_audit::Decision::Deny);
        incident.reasons = vec![format!("session halted: {why}")];
        append(ctx, &session, incident)?;
        reason = format!("{reason}. warden halted this session: {why}");
    }
    let decision = verdict.decision;
    if decision == Decision::Ask && crate::approve::unattended(&session.policy) {
        return crate::approve::wait_for_person(
            ctx,
            &session.store,
            &session.policy,
            &action,
            tool_input,
            &reason,
        )
        .map_err(|e| Failure::new(event, format!("{e:#}")));
    }
    let mut answer = claude::pre_tool_use_answer(decision, &reason, None);
    if halt.is_some() {
        answer["continue"] = Value::Bool(false);
        answer["stopReason"] = Value::String(reason.clone());
    }
    Ok(HookAnswer::json(answer))
}

fn post_tool_use(ctx: &HookContext) -> Result<HookAnswer, Failure> {
    let session = open_session(ctx)?;
    let mut state = load_state(ctx, &session)?;
    let tool = ctx.input.tool_name.clone().unwrap_or_default();
    let empty = Value::Object(Default::default());
    let tool_input = ctx.input.tool_input.as_ref().unwrap_or(&empty);
    let response = ctx.input.tool_response.clone().unwrap_or(Value::Null);
    let text = crate::record::tool_result_text(Some(&tool), &response);
    let scanner = crate::redact::scanner(&session.policy);
    let review = crate::guard::review_result(
        &scanner,
        &mut state,
        &tool,
        tool_input,
        &text,
        &ctx.root,
        ctx.input.tool_use_id.as_deref(),
        &session.policy,
    );
    let mut ev = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
    ev.result = Some(text);
    ev.reasons = review.notes.clone();
    if !review.secrets.is_empty() {
        ev.reasons.push(format!(
            "secrets redacted from the output: {}",
            review.secrets.join(", ")
        ));
    }
    ev.latency_us = Some(ctx.started.elapsed().as_micros() as u64);
    append(ctx, &session, ev)?;
    if !review.notes.is_empty() {
        let mut taint = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
        taint.kind = warden_audit::EventKind::Taint;
        taint.reasons = review.notes.clone();
        append(ctx, &session, taint)?;
    }
    save_state(ctx, &session, &state)?;
    let updated = review
        .redacted
        .as_deref()
        .and_then(|r| crate::guard::replace_output(&tool, &response, r));
    let context = (!review.context.is_empty()).then(|| review.context.join("\n"));
    Ok(HookAnswer::json(claude::post_tool_use_answer(
        context.as_deref(),
        updated,
    )))
}

fn other_event(ctx: &HookContext) -> Result<HookAnswer, Failure> {
    // Even events that decide nothing need a usable policy and log: a broken one halts the
    // session instead of letting it run unwatched.
    let session = open_session(ctx)?;
    let ev = crate::record::new_event(&ctx.input, ctx.event, &ctx.cwd);
    if ctx.event == HookEvent::UserPromptSubmit {
        let mut state = load_state(ctx, &session)?;
        if state.task.is_none() {
            if let Some(prompt) = &ctx.input.prompt {
                let scope = state.scope.clone();
                state.set_task(prompt, scope);
                save_state(ctx, &session, &state)?;
                let _ = warden_audit::AuditStore::set_session_flag(
                    &session.store,
                    &ev.session_id,
                    "task",
                    Value::String(prompt.clone()),
                );
            }
        }
    }
    append(ctx, &session, ev)?;
    Ok(HookAnswer::json(serde_json::json!({})))
}

/// The reason shown to the agent and the person: what decided, and where it is written.
pub fn reason_text(verdict: &Verdict) -> String {
    let head = format!(
        "warden {}: {}",
        verdict.decision,
        verdict.decided_by.describe()
    );
    let others: Vec<String> = verdict
        .reasons
        .iter()
        .filter(|r| r.decision == verdict.decision && **r != verdict.decided_by && !r.soft)
        .take(3)
        .map(|r| r.describe())
        .collect();
    if others.is_empty() {
        head
    } else {
        format!("{head}; also: {}", others.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(raw: &str) -> (i32, String) {
        let mut out = Vec::new();
        let code = run(raw.as_bytes(), &mut out);
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn malformed_json_blocks() {
        let (code, out) = answer("{not json");
        assert_eq!(code, 2);
        assert!(out.is_empty());
    }

    #[test]
    fn broken_pre_tool_use_denies_in_json() {
        let (code, out) = answer(
            r#"{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}, "cwd": "/nonexistent-x"}"#,
        );
        assert_eq!(code, 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
        assert!(v["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("command"));
    }

    #[test]
    fn unknown_event_blocks() {
        let (code, _) = answer(r#"{"hook_event_name": "Teleport"}"#);
        assert_eq!(code, 2);
    }

    #[test]
    fn sniffs_event_from_truncated_json() {
        assert_eq!(
            sniff_event(r#"{"hook_event_name": "PreToolUse", "tool_input": {"#),
            Some(HookEvent::PreToolUse)
        );
    }
}
