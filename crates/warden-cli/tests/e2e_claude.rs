//! warden as the hook of the real Claude Code CLI, end to end.
//!
//! Each test plays a scenario from `tests/e2e/scenarios/` (the policy it needs is among the
//! scenario's setup files) with `warden hook claude` installed as Claude Code's PreToolUse
//! hook, and checks the tool results Claude Code sends back and the files left behind.
//! Needs the pinned CLI: `npm ci --prefix tests/e2e` (the tests fail, not skip, without it).

use std::path::{Path, PathBuf};

use warden_testkit::serde_json::{self, Value};
use warden_testkit::{hook_settings, tool_use_id, Claude, Outcome, Scenario, Workspace};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

fn warden_dir() -> PathBuf {
    Path::new(WARDEN)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn claude() -> Claude {
    // Hooks call `warden` by name, as `warden init` installs them.
    Claude::locate()
        .unwrap_or_else(|e| panic!("{e}"))
        .path_prepend(warden_dir())
}

/// The hook entry as warden installs it: `warden hook claude`, blocking on failure.
fn install_hooks(ws: &Workspace) {
    ws.write_settings(&hook_settings("warden hook claude"))
        .unwrap_or_else(|e| panic!("{e}"));
}

fn play(name: &str) -> (Workspace, Outcome) {
    let scenario = Scenario::named(name).unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::new().unwrap_or_else(|e| panic!("{e}"));
    install_hooks(&ws);
    let outcome = claude()
        .run(&ws, &scenario)
        .unwrap_or_else(|e| panic!("{e}"));
    outcome.assert_expectations();
    (ws, outcome)
}

fn result_text(outcome: &Outcome, turn: usize, block: usize) -> String {
    outcome
        .tool_result(&tool_use_id(turn, block))
        .unwrap_or_else(|| panic!("no tool_result\n{}", outcome.report(&[])))
        .text
}

#[test]
fn denied_rm_rf_leaves_build_in_place() {
    let (ws, outcome) = play("warden-deny-rm-rf");
    assert!(ws.repo().join("build").is_dir());
    let text = result_text(&outcome, 0, 1);
    assert!(text.to_lowercase().contains("warden"), "{text}");
}

#[test]
fn rm_spelled_differently_is_denied_too() {
    play("warden-deny-rm-spellings");
}

#[test]
fn allowed_ls_runs() {
    play("warden-allow-ls");
}

#[test]
fn read_of_env_is_denied() {
    let (_ws, outcome) = play("warden-deny-read-env");
    let text = result_text(&outcome, 0, 0);
    assert!(
        text.contains(".env"),
        "the reason should name the file: {text}"
    );
}

#[test]
fn edit_inside_write_allowlist_goes_through() {
    play("warden-edit-allowlist");
}

#[test]
fn broken_policy_blocks_instead_of_allowing() {
    let (_ws, outcome) = play("warden-broken-policy");
    let text = result_text(&outcome, 0, 0);
    assert!(
        text.contains("warden.toml"),
        "the reason should name the policy file: {text}"
    );
}

/// `warden init` installs hooks that Claude Code runs, marked to block on failure, and they
/// enforce the project's policy.
#[test]
fn warden_init_installs_working_blocking_hooks() {
    let scenario = Scenario::named("warden-deny-rm-rf").unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::new().unwrap_or_else(|e| panic!("{e}"));
    let out = ws
        .command(WARDEN, &[warden_dir()])
        .arg("init")
        .output()
        .unwrap_or_else(|e| panic!("running warden init: {e}"));
    assert!(
        out.status.success(),
        "warden init failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let settings: Value = serde_json::from_str(
        &ws.read(".claude/settings.json")
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("settings.json is not JSON: {e}"));
    let pre = settings["hooks"]["PreToolUse"]
        .as_array()
        .unwrap_or_else(|| panic!("no PreToolUse hooks: {settings}"));
    let entries: Vec<&Value> = pre
        .iter()
        .filter_map(|m| m["hooks"].as_array())
        .flatten()
        .filter(|h| h["command"].as_str().is_some_and(|c| c.contains("warden")))
        .collect();
    assert!(!entries.is_empty(), "no warden PreToolUse hook: {settings}");
    for entry in &entries {
        assert_eq!(entry["onFailure"], "block", "{settings}");
    }
    // The scenario's own warden.toml replaces the starter policy.
    let outcome = claude()
        .run(&ws, &scenario)
        .unwrap_or_else(|e| panic!("{e}"));
    outcome.assert_expectations();
    assert!(ws.repo().join("build/out.o").is_file());
}

#[test]
fn policy_and_hook_settings_are_protected_from_the_agent() {
    play("warden-protected-files");
}

/// The scenario brings its own `.claude/settings.json` (the risk model's permissions plus
/// warden's hook), so nothing is installed here.
#[test]
fn risk_model_settings_json_is_enforced() {
    let scenario = Scenario::named("warden-risk-model-settings").unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::new().unwrap_or_else(|e| panic!("{e}"));
    let outcome = claude()
        .run(&ws, &scenario)
        .unwrap_or_else(|e| panic!("{e}"));
    outcome.assert_expectations();
}
