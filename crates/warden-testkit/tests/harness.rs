//! The harness proved against the real Claude Code CLI with hooks written in sh, so these
//! tests need no warden. They also pin what Claude Code does when a hook fails.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde_json::{json, Value};
use warden_testkit::{hook_settings, tool_use_id, Claude, RequestKind, Scenario, Workspace};

fn claude() -> Claude {
    Claude::locate().unwrap_or_else(|e| panic!("{e}"))
}

/// Write an executable sh script next to the repository (outside it, so the agent can't edit it).
fn script(ws: &Workspace, name: &str, body: &str) -> PathBuf {
    let path = ws.root().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write hook script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod hook");
    path
}

const DENY_RM_HOOK: &str = r#"in=$(cat)
printf '%s\n' "$in" >> "$(dirname "$0")/hook-input.jsonl"
case "$in" in
  *'"rm '*|*.env*) echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"test hook refuses it"}}' ;;
  *) echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","permissionDecisionReason":"test hook allows"}}' ;;
esac"#;

#[test]
fn shell_hook_deny_and_allow_decide() {
    let scenario = Scenario::named("harness-shell-hook").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    let hook = script(&ws, "hook.sh", DENY_RM_HOOK);
    ws.write_settings(&hook_settings(&hook.display().to_string()))
        .expect("settings");
    let outcome = claude().run(&ws, &scenario).expect("run");
    outcome.assert_expectations();
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.report(&[]));

    // The hook saw both calls, with the payload fields warden relies on.
    let log = std::fs::read_to_string(ws.root().join("hook-input.jsonl")).expect("hook log");
    let inputs: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("hook stdin is JSON"))
        .collect();
    assert_eq!(inputs.len(), 2, "{log}");
    assert_eq!(inputs[0]["hook_event_name"], "PreToolUse");
    assert_eq!(inputs[0]["tool_name"], "Bash");
    assert_eq!(inputs[0]["tool_input"]["command"], "rm -rf build");
    assert_eq!(inputs[0]["tool_use_id"], tool_use_id(0, 1));
    assert_eq!(inputs[0]["cwd"], ws.repo().display().to_string());
    assert_eq!(inputs[1]["tool_input"]["command"], "touch made.txt");
    assert!(inputs[0]["permission_mode"].is_string(), "{}", inputs[0]);
}

#[test]
fn without_a_hook_a_write_needing_approval_is_not_run() {
    let scenario = Scenario::named("harness-no-hook-write").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    let outcome = claude().run(&ws, &scenario).expect("run");
    outcome.assert_expectations();
}

#[test]
fn server_sees_only_main_requests_and_answers_each_turn_once() {
    let scenario = Scenario::named("harness-shell-hook").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    let hook = script(&ws, "hook.sh", DENY_RM_HOOK);
    ws.write_settings(&hook_settings(&hook.display().to_string()))
        .expect("settings");
    let outcome = claude().run(&ws, &scenario).expect("run");
    let main: Vec<_> = outcome
        .requests
        .iter()
        .filter(|r| r.kind == RequestKind::Main)
        .collect();
    let turns: Vec<_> = main.iter().map(|r| r.turn).collect();
    assert_eq!(turns, [Some(0), Some(1), None], "{}", outcome.report(&[]));
    // With nonessential traffic off, 2.1.328 sends nothing but the agent loop's requests.
    assert_eq!(
        main.len(),
        outcome.requests.len(),
        "{}",
        outcome.report(&[])
    );
    assert!(main.iter().all(|r| r.url.starts_with("/v1/messages")));
    assert!(main.iter().all(|r| r.streamed), "{}", outcome.report(&[]));
    assert!(main[0].tool_names().contains(&"Bash"));
    // The --output-format json result reflects the scripted closing reply.
    let result = outcome.result.as_ref().expect("stdout is the JSON result");
    assert_eq!(result["result"], scenario.final_text());
    assert_eq!(result["is_error"], json!(false));
}

/// Run `harness-read-only-ls` with `settings` and return the tool_result of the `ls` call.
fn ls_result_with(settings: Value) -> warden_testkit::ToolResult {
    let scenario = Scenario::named("harness-read-only-ls").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    ws.write_settings(&settings).expect("settings");
    let outcome = claude().run(&ws, &scenario).expect("run");
    outcome
        .tool_result(&tool_use_id(0, 0))
        .unwrap_or_else(|| panic!("no tool_result\n{}", outcome.report(&[])))
}

fn settings_for(command: &str, on_failure_block: bool) -> Value {
    let mut settings = hook_settings(command);
    if !on_failure_block {
        let entry = &mut settings["hooks"]["PreToolUse"][0]["hooks"][0];
        if let Some(map) = entry.as_object_mut() {
            map.remove("onFailure");
        }
    }
    settings
}

#[test]
fn hook_failure_without_on_failure_falls_back_and_runs_the_tool() {
    // The fail-open default that warden's hook entries must not rely on.
    let result = ls_result_with(settings_for("/nonexistent/warden-hook", false));
    assert!(!result.is_error, "{result:?}");
    assert!(result.text.contains("hello.txt"), "{result:?}");
}

#[test]
fn on_failure_block_blocks_when_the_hook_command_is_missing() {
    let result = ls_result_with(settings_for("/nonexistent/warden-hook", true));
    assert!(result.is_error, "{result:?}");
    assert!(
        result.text.contains("PreToolUse:Bash hook error"),
        "{result:?}"
    );
    assert!(
        result
            .text
            .contains("blocking because onFailure is \"block\""),
        "{result:?}"
    );
    assert!(!result.text.contains("hello.txt"), "{result:?}");
}

#[test]
fn on_failure_block_blocks_when_the_hook_exits_non_zero_with_garbage() {
    let ws = Workspace::new().expect("workspace");
    let hook = script(
        &ws,
        "garbage.sh",
        "cat >/dev/null\necho 'this is not JSON'\nexit 1",
    );
    let result = ls_result_with(settings_for(&hook.display().to_string(), true));
    assert!(result.is_error, "{result:?}");
    assert!(
        result
            .text
            .contains("blocking because onFailure is \"block\""),
        "{result:?}"
    );
    assert!(!result.text.contains("hello.txt"), "{result:?}");
}

#[test]
fn missing_cli_is_a_loud_error_naming_the_install_command() {
    let err = Claude::at("/nonexistent/claude").expect_err("must fail for a missing binary");
    let message = err.to_string();
    assert!(message.contains("/nonexistent/claude"), "{message}");
    assert!(message.contains("npm ci --prefix tests/e2e"), "{message}");
    assert!(
        message.contains(warden_testkit::CLAUDE_BIN_ENV),
        "{message}"
    );
}

#[test]
fn npm_placeholder_and_wrong_version_are_loud_errors() {
    let ws = Workspace::new().expect("workspace");
    // What npm leaves when the package's postinstall did not run.
    let placeholder = script(
        &ws,
        "placeholder-claude",
        "echo 'Error: claude native binary not installed.' >&2\nexit 1",
    );
    let message = Claude::at(&placeholder)
        .expect_err("placeholder")
        .to_string();
    assert!(message.contains("native binary not installed"), "{message}");
    assert!(message.contains("npm ci --prefix tests/e2e"), "{message}");

    let other = script(&ws, "other-claude", "echo '9.9.9 (Claude Code)'");
    let message = Claude::at(&other).expect_err("wrong version").to_string();
    assert!(message.contains("9.9.9"), "{message}");
    assert!(
        message.contains(warden_testkit::PINNED_VERSION),
        "{message}"
    );
}

#[test]
fn unmet_expectations_are_reported() {
    // The shell-hook scenario run with no hook at all: the rm is refused for want of
    // approval (not by the hook), the touch is refused too, so three checks must fail.
    let scenario = Scenario::named("harness-shell-hook").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    let outcome = claude().run(&ws, &scenario).expect("run");
    let failures = outcome.failures();
    let all = failures.join("\n");
    assert!(all.contains("lacks \"test hook refuses it\""), "{all}");
    assert!(all.contains("is_error is true, expected false"), "{all}");
    assert!(all.contains("made.txt should exist"), "{all}");
    assert!(!all.contains("build/out.o"), "{all}");
    let report = outcome.report(&failures);
    assert!(report.contains("kind=Main"), "{report}");
}

#[test]
fn every_scenario_file_parses() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(warden_testkit::scenario_dir()).expect("scenario dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scenario::from_path(&path).unwrap_or_else(|e| panic!("{e}"));
            names.push(path);
        }
    }
    assert!(names.len() >= 3, "{names:?}");
}

#[test]
fn on_failure_block_does_not_cover_garbage_with_exit_zero() {
    // Pinned because a hook must never rely on it: stdout that is not JSON, with exit 0,
    // is not a hook failure, so the call falls back to Claude Code's own check (ls runs).
    let ws = Workspace::new().expect("workspace");
    let hook = script(&ws, "hello.sh", "cat >/dev/null\necho 'Hello, world!'");
    let result = ls_result_with(settings_for(&hook.display().to_string(), true));
    assert!(!result.is_error, "{result:?}");
    assert!(result.text.contains("hello.txt"), "{result:?}");
}

#[test]
fn exit_two_with_a_reason_on_stderr_blocks() {
    // The other blocking form: exit 2, the reason on stderr, no JSON needed.
    let ws = Workspace::new().expect("workspace");
    let hook = script(
        &ws,
        "exit2.sh",
        "cat >/dev/null\necho 'policy unreadable: test reason' >&2\nexit 2",
    );
    let result = ls_result_with(settings_for(&hook.display().to_string(), false));
    assert!(result.is_error, "{result:?}");
    assert!(
        result.text.contains("policy unreadable: test reason"),
        "{result:?}"
    );
    assert!(!result.text.contains("hello.txt"), "{result:?}");
}

#[test]
fn ask_from_a_hook_does_not_run_the_tool_in_print_mode() {
    // Nobody can answer a prompt in -p mode: a hook's "ask" must leave the write undone.
    let scenario = Scenario::named("harness-no-hook-write").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    let hook = script(
        &ws,
        "ask.sh",
        r#"cat >/dev/null
echo '{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"ask","permissionDecisionReason":"test hook asks"}}'"#,
    );
    ws.write_settings(&hook_settings(&hook.display().to_string()))
        .expect("settings");
    let outcome = claude().run(&ws, &scenario).expect("run");
    outcome.assert_expectations();
    let result = outcome.tool_result(&tool_use_id(0, 0)).expect("result");
    // Unlike a deny, the reason comes back bare, without the "PreToolUse:Bash hook error" prefix.
    assert!(result.text.contains("test hook asks"), "{result:?}");
    assert!(!result.text.contains("hook error"), "{result:?}");
}

/// Settings with one failing (missing) hook command on `event`, marked to block on failure.
fn failing_hook_on(event: &str) -> Value {
    json!({"hooks": {event: [{"matcher": "*", "hooks": [
        {"type": "command", "command": "/nonexistent/warden-hook", "onFailure": "block"}
    ]}]}})
}

#[test]
fn failing_user_prompt_submit_hook_stops_the_session_before_any_request() {
    let scenario = Scenario::named("harness-read-only-ls").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    ws.write_settings(&failing_hook_on("UserPromptSubmit"))
        .expect("settings");
    let outcome = claude().run(&ws, &scenario).expect("run");
    assert!(outcome.requests.is_empty(), "{}", outcome.report(&[]));
    let result = outcome.result.as_ref().expect("JSON result");
    let text = result["result"].as_str().unwrap_or_default();
    assert!(
        text.contains("UserPromptSubmit operation blocked by hook"),
        "{result}"
    );
    assert_eq!(result["num_turns"], 0, "{result}");
}

#[test]
fn failing_session_start_and_post_tool_use_hooks_do_not_stop_the_session() {
    // onFailure "block" only blocks where there is something to block; warden cannot use a
    // failing SessionStart or PostToolUse hook to stop a session.
    for event in ["SessionStart", "PostToolUse"] {
        let result = ls_result_with(failing_hook_on(event));
        assert!(!result.is_error, "{event}: {result:?}");
        assert!(result.text.contains("hello.txt"), "{event}: {result:?}");
    }
}

#[test]
fn package_json_pins_the_version_the_harness_checks() {
    let path = warden_testkit::repo_root().join("tests/e2e/package.json");
    let text = std::fs::read_to_string(&path).expect("package.json");
    let pkg: Value = serde_json::from_str(&text).expect("package.json is JSON");
    assert_eq!(
        pkg["dependencies"]["@anthropic-ai/claude-code"],
        warden_testkit::PINNED_VERSION,
        "an exact pin, equal to PINNED_VERSION"
    );
}

#[test]
fn readme_example_scenario_parses() {
    let readme = std::fs::read_to_string(warden_testkit::repo_root().join("tests/e2e/README.md"))
        .expect("README");
    let start = readme.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let len = readme[start..].find("```").expect("end of example");
    let scenario =
        Scenario::from_toml_str(&readme[start..start + len], "README example").expect("parses");
    assert_eq!(scenario.calls().len(), 2);
    assert_eq!(scenario.max_turns(), 4);
}

#[test]
fn read_path_is_normalised_before_the_hook_sees_it() {
    let scenario = Scenario::named("harness-read-dotdot").expect("scenario");
    let ws = Workspace::new().expect("workspace");
    let hook = script(&ws, "hook.sh", DENY_RM_HOOK);
    ws.write_settings(&hook_settings(&hook.display().to_string()))
        .expect("settings");
    let outcome = claude().run(&ws, &scenario).expect("run");
    outcome.assert_expectations();
    let log = std::fs::read_to_string(ws.root().join("hook-input.jsonl")).expect("hook log");
    let input: Value = serde_json::from_str(log.lines().next().expect("one call")).expect("JSON");
    let want = ws.repo().join(".env").display().to_string();
    assert_eq!(input["tool_input"]["file_path"], want.as_str(), "{input}");
}
