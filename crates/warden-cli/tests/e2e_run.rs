//! `warden run -- claude ...` end to end: the real Claude Code CLI, driven by the scripted
//! model server, works in the run's worktree inside the sandbox; its hooks reach warden
//! through the run's hook broker; the gates decide; the branch reaches a bare remote and the
//! pull request (or the alert) reaches a loopback server standing in for the forge and the
//! webhook.
//!
//! Needs the pinned CLI (`npm ci --prefix tests/e2e`) and a kernel that can sandbox (namespaces,
//! Landlock, seccomp); without either the tests fail, they do not skip.

use std::path::{Path, PathBuf};

use warden_testkit::serde_json::{self, Value};
use warden_testkit::{git, tool_use_id, Claude, HttpRecorder, Outcome, Scenario, Workspace};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");
const TOKEN: &str = "e2e-forge-token-42";

struct Run {
    ws: Workspace,
    bare: PathBuf,
    forge: HttpRecorder,
    outcome: Outcome,
}

fn policy(forge: &HttpRecorder) -> String {
    format!(
        "[permissions]\ndeny = [\"Bash(rm -rf*)\"]\n\n\
         [scope]\nread = [\"./**\"]\nwrite = [\"./src/**\", \"./infra/**\"]\n\n\
         # The scripted model server listens on the host's loopback: the agent reaches it\n\
         # through warden's proxy, like any allowlisted API host.\n\
         [sandbox]\nallow_domains = [\"127.0.0.1\"]\n\n\
         [run]\ntest_command = \"sh ./test.sh\"\nsensitive_paths = [\"infra/**\"]\n\
         forge = \"github\"\nforge_api = \"{base}\"\nforge_repo = \"acme/greeter\"\n\
         forge_token_env = \"WARDEN_E2E_FORGE_TOKEN\"\nalert_webhook = \"{base}/alert\"\n",
        base = forge.base()
    )
}

/// Plays `scenario` as `warden run [--task TASK] --scope SCOPE -- claude -p ...` in a fresh
/// repository whose `origin` is a bare repository.
fn play_under_run(scenario: &str, task: Option<&str>, scope: &str) -> Run {
    let scenario = Scenario::named(scenario).unwrap_or_else(|e| panic!("{e}"));
    let ws = Workspace::new().unwrap_or_else(|e| panic!("{e}"));
    let forge = HttpRecorder::start().unwrap_or_else(|e| panic!("{e}"));
    ws.write("warden.toml", &policy(&forge)).unwrap();
    ws.write(".gitignore", ".warden/\n").unwrap();
    ws.apply(&scenario.setup).unwrap();
    ws.commit_all("init").unwrap();
    let bare = ws.root().join("remote.git");
    git(ws.root(), &["init", "-q", "--bare", "remote.git"]);
    git(
        ws.repo(),
        &["remote", "add", "origin", bare.to_str().unwrap()],
    );
    // Claude Code keeps state in ~/.claude and ~/.claude.json; the sandbox lets it write those
    // that exist and nothing else of HOME.
    std::fs::create_dir_all(ws.home().join(".claude")).unwrap();
    std::fs::write(ws.home().join(".claude.json"), "{}").unwrap();
    let warden_dir = Path::new(WARDEN).parent().unwrap().to_path_buf();
    let outcome = Claude::locate()
        .unwrap_or_else(|e| panic!("{e}"))
        .path_prepend(warden_dir)
        .timeout(std::time::Duration::from_secs(120))
        .env("WARDEN_E2E_FORGE_TOKEN", TOKEN)
        .wrapped_in(
            [WARDEN, "run"]
                .into_iter()
                .chain(task.map(|t| ["--task", t]).into_iter().flatten())
                .chain(["--scope", scope, "--"]),
        )
        .run(&ws, &scenario)
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "warden run -> {:?}\n--- stdout\n{}\n--- stderr\n{}",
        outcome.exit_code, outcome.stdout, outcome.stderr
    );
    let failures = outcome.failures();
    assert!(failures.is_empty(), "{}", outcome.report(&failures));
    Run {
        ws,
        bare,
        forge,
        outcome,
    }
}

fn runs(run: &Run) -> Vec<Value> {
    let out = run
        .ws
        .command(WARDEN, &[])
        .args(["runs", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["runs"].as_array().unwrap().clone()
}

fn only_run(run: &Run) -> (String, Value) {
    let all = runs(run);
    assert_eq!(all.len(), 1, "{all:#?}");
    (all[0]["id"].as_str().unwrap().to_string(), all[0].clone())
}

fn audit_session(run: &Run, id: &str) -> String {
    let out = run
        .ws
        .command(WARDEN, &[])
        .args(["log", "show", id, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_in_scope_run_reaches_the_remote_and_opens_a_pull_request() {
    let run = play_under_run("run-in-scope", Some("make the greeting friendlier"), "src");
    assert_eq!(run.outcome.exit_code, Some(0), "{}", run.outcome.stderr);
    let (id, record) = only_run(&run);
    assert_eq!(record["outcome"]["state"], "passed");
    // The work reached the bare remote on the run's branch; the user's checkout is untouched.
    let pushed = git(
        &run.bare,
        &["show", &format!("refs/heads/warden/{id}:src/greeting.txt")],
    );
    assert_eq!(pushed, "hello there, friend\n");
    assert_eq!(run.ws.read("src/greeting.txt").unwrap(), "hello\n");
    // The denied rm -fr left src/ in the worktree, hence on the branch.
    let denied = run
        .outcome
        .tool_result(&tool_use_id(2, 0))
        .expect("a result for rm -fr");
    assert!(denied.is_error, "{denied:?}");
    // The pull request reached the stand-in forge with the token, the task, the gates and the
    // denied action.
    let requests = run.forge.requests();
    let pr = requests
        .iter()
        .find(|r| r.method == "POST" && r.path == "/repos/acme/greeter/pulls")
        .unwrap_or_else(|| panic!("no pull request among {requests:#?}"));
    assert_eq!(
        pr.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(pr.body["head"], format!("warden/{id}"));
    assert_eq!(pr.body["draft"], false);
    let body = pr.body["body"].as_str().unwrap();
    assert!(body.contains("make the greeting friendlier"), "{body}");
    assert!(
        body.contains("rm -fr src"),
        "the denied action is listed: {body}"
    );
    assert!(body.contains(&format!("warden log show {id}")), "{body}");
    assert!(!requests.iter().any(|r| r.path == "/alert"));
    // The hooks ran inside the sandbox and were recorded, through the broker, under the run.
    let log = audit_session(&run, &id);
    assert!(log.contains("PreToolUse"), "{log}");
    assert!(log.contains("rm -fr src"), "{log}");
    assert!(log.contains("RunEnd"), "{log}");
}

#[test]
fn a_run_that_breaks_the_tests_is_discarded_and_the_alert_reaches_the_webhook() {
    // No --task: the run takes the agent's prompt, recorded by the UserPromptSubmit hook.
    let run = play_under_run("run-breaks-tests", None, "src");
    assert_eq!(run.outcome.exit_code, Some(1), "{}", run.outcome.stderr);
    let (id, record) = only_run(&run);
    assert_eq!(record["outcome"]["state"], "discarded");
    // Kept for forensics, not pushed anywhere.
    let kept = format!("refs/warden/discarded/{id}");
    assert_eq!(
        git(
            run.ws.repo(),
            &["show", &format!("{kept}:src/greeting.txt")]
        ),
        "hi\n"
    );
    assert!(git(&run.bare, &["for-each-ref"]).trim().is_empty());
    let requests = run.forge.requests();
    assert!(!requests.iter().any(|r| r.path.ends_with("/pulls")));
    let alert = requests
        .iter()
        .find(|r| r.path == "/alert")
        .unwrap_or_else(|| panic!("no alert among {requests:#?}"));
    assert_eq!(alert.body["event"], "warden.run.discarded");
    assert_eq!(alert.body["run_id"], id.as_str());
    assert_eq!(alert.body["failed_gates"][0]["gate"], "tests");
    assert_eq!(alert.body["task"], "Make the greeting shorter.");
    assert_eq!(record["task"], "Make the greeting shorter.");
}

#[test]
fn a_run_that_touches_infra_needs_approval_before_merge() {
    let run = play_under_run(
        "run-touches-infra",
        Some("use a larger instance in the terraform config"),
        "infra",
    );
    assert_eq!(run.outcome.exit_code, Some(3), "{}", run.outcome.stderr);
    assert!(run.outcome.stdout.contains("NEEDS APPROVAL"));
    let (id, record) = only_run(&run);
    assert_eq!(record["outcome"]["state"], "needs-approval");
    let pushed = git(
        &run.bare,
        &["show", &format!("refs/heads/warden/{id}:infra/main.tf")],
    );
    assert!(pushed.contains("t3.large"), "{pushed}");
    let requests = run.forge.requests();
    let pr = requests
        .iter()
        .find(|r| r.path.ends_with("/pulls"))
        .unwrap_or_else(|| panic!("no pull request among {requests:#?}"));
    assert_eq!(pr.body["draft"], true, "a sensitive change opens a draft");
    let alert = requests
        .iter()
        .find(|r| r.path == "/alert")
        .unwrap_or_else(|| panic!("no alert among {requests:#?}"));
    assert_eq!(alert.body["event"], "warden.run.needs-approval");
}

#[test]
fn an_agent_cannot_switch_its_hooks_off_from_inside_a_run() {
    let run = play_under_run("run-hooks-off", Some("make the greeting friendlier"), "src");
    assert_eq!(run.outcome.exit_code, Some(0), "{}", run.outcome.stderr);
    let (id, record) = only_run(&run);
    assert_eq!(record["outcome"]["state"], "passed");
    // The branch carries the edit and no local settings file: neither write took place.
    let branch = format!("refs/heads/warden/{id}");
    assert_eq!(
        git(&run.bare, &["show", &format!("{branch}:src/greeting.txt")]),
        "hello there\n"
    );
    let files = git(&run.bare, &["ls-tree", "-r", "--name-only", &branch]);
    assert!(!files.contains("settings.local.json"), "{files}");
    // Both attempts and the rm -fr after them were answered by warden and recorded.
    let log = audit_session(&run, &id);
    assert!(log.contains("disableAllHooks"), "{log}");
    assert!(log.contains("rm -fr src"), "{log}");
}
