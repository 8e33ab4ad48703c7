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

/// A minimal HTTP/1.1 exchange with `warden serve` on loopback: the page's own login link,
/// the request page (for its CSRF value), and the form POST a browser would send.
fn http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to warden serve");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

#[test]
fn infra_edit_approved_through_the_web_page_goes_through() {
    use std::io::BufRead;
    let ws = workspace();
    // The store exists once `warden serve` opens it; start the server first.
    std::fs::create_dir_all(ws.repo().join(".warden")).unwrap();
    let token = "e2e0123456789abcdef0123456789abcdef0123456789abcdef";
    let mut server = Command::new(WARDEN)
        .args(["serve", "--bind", "127.0.0.1:0", "--token", token])
        .current_dir(ws.repo())
        .env("HOME", ws.home())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("warden serve starts");
    let mut lines = std::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("a banner line")
            .expect("readable banner");
        if let Some(url) = line.split("listening on ").nth(1) {
            break url.trim().to_string();
        }
    };
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let (ws, outcome) = {
        let scenario =
            Scenario::named("warden-approval-infra-edit").unwrap_or_else(|e| panic!("{e}"));
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
            let login = http(&addr, &format!("GET /login?token={token} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"));
            let cookie = login
                .lines()
                .find_map(|l| {
                    l.strip_prefix("set-cookie: ")
                        .or_else(|| l.strip_prefix("Set-Cookie: "))
                })
                .and_then(|c| c.split(';').next())
                .unwrap_or_else(|| panic!("login sets a cookie: {login}"))
                .to_string();
            let page = http(&addr, &format!("GET /requests/{id} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"));
            assert!(
                page.contains("infra/main.tf"),
                "the page shows the waiting action"
            );
            let csrf = page
                .split("name=\"csrf\" value=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("the page carries a CSRF value"))
                .to_string();
            let forged = http(&addr, &format!("POST /requests/{id}/approve HTTP/1.1\r\nHost: {addr}\r\nOrigin: {base}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\nConnection: close\r\n\r\nreason"));
            assert!(
                forged.starts_with("HTTP/1.1 403"),
                "a POST without the CSRF value is refused: {forged}"
            );
            let body = format!("csrf={csrf}&reason=looks+right");
            let approved = http(&addr, &format!("POST /requests/{id}/approve HTTP/1.1\r\nHost: {addr}\r\nOrigin: {base}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
            assert!(
                approved.starts_with("HTTP/1.1 303"),
                "the page's approve form is accepted: {approved}"
            );
            run.join().expect("claude thread")
        });
        (ws, outcome)
    };
    let _ = server.kill();
    let _ = server.wait();
    let text = result_text(&outcome, 1, 0);
    assert!(
        infra(&ws).contains("large"),
        "the edit approved on the page ran: {text}"
    );
}
