//! Session guards end to end with the real Claude Code CLI: taint from untrusted content,
//! drift halts, and human approval of an "ask" in an unattended session.
//!
//! Every hook event warden handles is installed (as `warden init` does), so the session's
//! prompt becomes its task and tool results reach PostToolUse.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use warden_testkit::serde_json::{self, json, Value};
use warden_testkit::{tool_use_id, Claude, Outcome, Scenario, Workspace};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

fn claude() -> Claude {
    let dir = Path::new(WARDEN)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Claude::locate()
        .unwrap_or_else(|e| panic!("{e}"))
        .path_prepend(dir)
}

/// warden on every event it handles, blocking on failure.
fn all_hooks() -> Value {
    let hook = json!([{ "type": "command", "command": "warden hook claude", "onFailure": "block", "timeout": 60 }]);
    json!({ "hooks": {
        "PreToolUse": [{ "matcher": "*", "hooks": hook }],
        "PostToolUse": [{ "matcher": "*", "hooks": hook }],
        "UserPromptSubmit": [{ "hooks": hook }],
        "SessionStart": [{ "hooks": hook }],
        "SessionEnd": [{ "hooks": hook }],
    }})
}

fn workspace() -> Workspace {
    let ws = Workspace::new().unwrap_or_else(|e| panic!("{e}"));
    ws.write_settings(&all_hooks())
        .unwrap_or_else(|e| panic!("{e}"));
    ws
}

fn play(name: &str, claude: Claude) -> (Workspace, Outcome) {
    let scenario = Scenario::named(name).unwrap_or_else(|e| panic!("{e}"));
    let ws = workspace();
    let outcome = claude.run(&ws, &scenario).unwrap_or_else(|e| panic!("{e}"));
    (ws, outcome)
}

fn result_text(outcome: &Outcome, turn: usize, block: usize) -> String {
    outcome
        .tool_result(&tool_use_id(turn, block))
        .unwrap_or_else(|| panic!("no tool_result\n{}", outcome.report(&[])))
        .text
}

fn warden(ws: &Workspace, args: &[&str]) -> std::process::Output {
    Command::new(WARDEN)
        .args(args)
        .current_dir(ws.repo())
        .env("HOME", ws.home())
        .env("NO_COLOR", "1")
        .output()
        .expect("warden runs")
}

#[test]
fn planted_readme_instruction_taints_and_exfiltration_is_denied() {
    let (ws, outcome) = play("warden-taint-readme-exfil", claude());
    outcome.assert_expectations();
    let text = result_text(&outcome, 1, 0);
    assert!(
        text.contains("vendor/lib/README.md") || text.contains("injected"),
        "the reason names the taint's source: {text}"
    );
    let log = warden(&ws, &["log", "tail", "--json", "-n", "50"]);
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains("\"taint\"") || log.contains("Taint"),
        "a taint event is in the audit log: {log}"
    );
}

#[test]
fn the_same_exfiltration_untainted_and_allowed_runs() {
    let (_ws, outcome) = play("warden-untainted-exfil-allowed", claude());
    outcome.assert_expectations();
}

#[test]
fn typo_task_reaching_for_env_is_halted() {
    let (ws, outcome) = play("warden-drift-typo-env", claude());
    assert!(
        outcome
            .tool_result(&tool_use_id(0, 0))
            .is_none_or(|r| !r.text.contains("not-a-real-token")),
        "the secret never reached the model"
    );
    assert_eq!(
        outcome.requests.len(),
        1,
        "the halted session made no further model request:\n{}",
        outcome.report(&[])
    );
    let sessions = warden(&ws, &["log", "sessions", "--json"]);
    let sessions: Value = serde_json::from_slice(&sessions.stdout).expect("sessions JSON");
    let session = sessions[0]["session_id"]
        .as_str()
        .expect("a session")
        .to_string();
    let shown = warden(&ws, &["log", "show", &session, "--json"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("session halted") && shown.contains("drift"),
        "an incident is recorded: {shown}"
    );
    assert!(
        shown.contains("Fix a typo in the README"),
        "the task is recorded: {shown}"
    );
}

/// Run the approval scenario; `decide` gets the waiting request's id and answers it.
fn approval_run(decide: impl Fn(&Workspace, &str) + Sync) -> (Workspace, Outcome) {
    let scenario = Scenario::named("warden-approval-infra-edit").unwrap_or_else(|e| panic!("{e}"));
    let ws = workspace();
    let claude = claude()
        .env("WARDEN_UNATTENDED", "1")
        .env("WARDEN_APPROVAL_POLL_MS", "50");
    let outcome = std::thread::scope(|s| {
        let run = s.spawn(|| claude.run(&ws, &scenario).unwrap_or_else(|e| panic!("{e}")));
        let started = Instant::now();
        let id = loop {
            assert!(
                started.elapsed() < Duration::from_secs(45),
                "no approval request appeared"
            );
            let out = warden(&ws, &["approvals", "--json"]);
            if let Ok(Value::Array(list)) = serde_json::from_slice::<Value>(&out.stdout) {
                if let Some(id) = list.first().and_then(|r| r["id"].as_str()) {
                    break id.to_string();
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        decide(&ws, &id);
        run.join().expect("claude thread")
    });
    (ws, outcome)
}

fn infra(ws: &Workspace) -> String {
    std::fs::read_to_string(PathBuf::from(ws.repo()).join("infra/main.tf")).unwrap_or_default()
}

#[test]
fn approved_infra_edit_goes_through() {
    let (ws, outcome) = approval_run(|ws, id| {
        let out = warden(ws, &["approve", id, "--reason", "planned change"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let text = result_text(&outcome, 1, 0);
    assert!(
        infra(&ws).contains("large"),
        "the approved edit ran: {text}"
    );
}

#[test]
fn denied_infra_edit_does_not_happen() {
    let (ws, outcome) = approval_run(|ws, id| {
        let out = warden(ws, &["deny", id, "--reason", "not during the freeze"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let text = result_text(&outcome, 1, 0);
    assert!(
        text.contains("not during the freeze"),
        "the reviewer's reason reaches the agent: {text}"
    );
    assert!(infra(&ws).contains("small"), "the denied edit did not run");
}
