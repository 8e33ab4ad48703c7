//! `warden run` end to end with real git: a bare remote, and a small HTTP server on loopback
//! standing in for the GitHub API and the alert webhook (no forge is reachable from tests).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use warden_testkit::{git, HttpRecorder};

struct Fixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
    repo: PathBuf,
    bare: PathBuf,
    server: HttpRecorder,
}

const TOKEN: &str = "test-forge-token-123";

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let repo = dir.path().join("greeter");
    let bare = dir.path().join("remote.git");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::create_dir_all(repo.join("infra")).unwrap();
    let server = HttpRecorder::start().unwrap();
    let policy = format!(
        "[scope]\nwrite = [\"./src/**\", \"./infra/**\"]\n\n[run]\ntest_command = \"sh ./test.sh\"\n\
         sensitive_paths = [\"infra/**\"]\nforge = \"github\"\nforge_api = \"{base}\"\n\
         forge_token_env = \"WARDEN_RUN_TEST_TOKEN\"\nalert_webhook = \"{base}/alert\"\n",
        base = server.base()
    );
    let files = [
        ("warden.toml", policy.as_str()),
        ("src/lib.txt", "one\n"),
        ("infra/main.tf", "# infra\n"),
        (
            "test.sh",
            "#!/bin/sh\ngrep -q one src/lib.txt || { echo 'FAIL: one is gone'; exit 1; }\n",
        ),
        (".gitignore", ".warden/\n"),
    ];
    for (name, text) in files {
        std::fs::write(repo.join(name), text).unwrap();
    }
    git(dir.path(), &["init", "-q", "--bare", "remote.git"]);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    // The fetch URL names the forge's repository (owner/name for the API); pushes go to the
    // bare repository.
    git(
        &repo,
        &[
            "remote",
            "add",
            "origin",
            "https://forge.example/acme/greeter.git",
        ],
    );
    git(
        &repo,
        &[
            "remote",
            "set-url",
            "--push",
            "origin",
            bare.to_str().unwrap(),
        ],
    );
    Fixture {
        _dir: dir,
        home,
        repo,
        bare,
        server,
    }
}

fn warden(f: &Fixture, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(&f.repo)
        .env("HOME", &f.home)
        .env("XDG_CONFIG_HOME", f.home.join(".config"))
        .env_remove("XDG_STATE_HOME")
        .env_remove("WARDEN_HOOK_SOCKET")
        .env_remove("WARDEN_RUN_ID")
        .env("WARDEN_RUN_TEST_TOKEN", TOKEN)
        .env_remove("WARDEN_PROJECT_ROOT")
        .env_remove("WARDEN_POLICY")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    eprintln!(
        "warden {args:?} -> {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn runs(f: &Fixture) -> Vec<Value> {
    let out = warden(f, &["runs", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["runs"].as_array().unwrap().clone()
}

fn run_id(f: &Fixture) -> String {
    let all = runs(f);
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn in_scope_run_reaches_the_remote_and_opens_a_pull_request() {
    let f = fixture();
    let out = warden(
        &f,
        &[
            "run",
            "--no-sandbox",
            "--task",
            "add a second line",
            "--scope",
            "src",
            "--",
            "sh",
            "-c",
            "echo two >> src/lib.txt && test \"$WARDEN_SCOPE\" = src && test -n \"$WARDEN_RUN_ID\"",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let id = run_id(&f);
    let branch = format!("refs/heads/warden/{id}");
    // The branch is on the bare remote, with the agent's change.
    let shown = git(&f.bare, &["show", &format!("{branch}:src/lib.txt")]);
    assert_eq!(shown, "one\ntwo\n");
    // The user's checkout is untouched.
    assert_eq!(
        std::fs::read_to_string(f.repo.join("src/lib.txt")).unwrap(),
        "one\n"
    );
    let seen = f.server.requests();
    let pr = seen
        .iter()
        .find(|r| r.path.ends_with("/pulls"))
        .expect("a pull request request");
    assert_eq!(pr.method, "POST");
    assert_eq!(pr.path, "/repos/acme/greeter/pulls");
    assert_eq!(
        pr.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(pr.body["head"], format!("warden/{id}"));
    assert_eq!(pr.body["base"], "main");
    assert_eq!(pr.body["draft"], false);
    assert!(pr.body["body"]
        .as_str()
        .unwrap()
        .contains("add a second line"));
    assert!(
        !seen.iter().any(|r| r.path == "/alert"),
        "no alert for a pass"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("forge.example/acme/greeter/pull/7"));
    let all = runs(&f);
    assert_eq!(all[0]["outcome"]["state"], "passed");
}

#[test]
fn a_run_that_breaks_the_tests_is_discarded_and_alerts() {
    let f = fixture();
    let out = warden(
        &f,
        &[
            "run",
            "--no-sandbox",
            "--task",
            "rewrite lib",
            "--scope",
            "src",
            "--",
            "sh",
            "-c",
            "echo zero > src/lib.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let id = run_id(&f);
    let kept = format!("refs/warden/discarded/{id}");
    assert_eq!(
        git(&f.repo, &["show", &format!("{kept}:src/lib.txt")]),
        "zero\n"
    );
    // No branch left behind, nothing pushed.
    assert!(git(&f.repo, &["branch", "--list", "warden/*"])
        .trim()
        .is_empty());
    assert!(git(&f.bare, &["for-each-ref"]).trim().is_empty());
    let seen = f.server.requests();
    let alert = seen
        .iter()
        .find(|r| r.path == "/alert")
        .expect("the webhook got the alert");
    assert_eq!(alert.method, "POST");
    assert_eq!(alert.body["event"], "warden.run.discarded");
    assert_eq!(alert.body["run_id"], id.as_str());
    assert_eq!(alert.body["kept_ref"], kept.as_str());
    assert!(alert.body["failed_gates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["gate"] == "tests"));
    assert!(!seen.iter().any(|r| r.path.ends_with("/pulls")));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ALERT"));

    // `warden discard` removes what the run left.
    let out = warden(&f, &["discard", &id]);
    assert_eq!(out.status.code(), Some(0));
    assert!(git(&f.repo, &["for-each-ref", "refs/warden/"])
        .trim()
        .is_empty());
}

#[test]
fn a_run_touching_infra_needs_approval() {
    let f = fixture();
    let out = warden(
        &f,
        &[
            "run",
            "--no-sandbox",
            "--task",
            "scale up",
            "--scope",
            "infra",
            "--",
            "sh",
            "-c",
            "echo 'replicas = 3' >> infra/main.tf",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("NEEDS APPROVAL"), "{stdout}");
    let id = run_id(&f);
    // The branch is kept (locally and on the remote) and the pull request is a draft.
    git(
        &f.repo,
        &["rev-parse", "--verify", &format!("refs/heads/warden/{id}")],
    );
    let seen = f.server.requests();
    let pr = seen
        .iter()
        .find(|r| r.path.ends_with("/pulls"))
        .expect("PR");
    assert_eq!(pr.body["draft"], true);
    assert_eq!(runs(&f)[0]["outcome"]["state"], "needs-approval");
}

#[test]
fn an_agent_that_fails_gives_its_own_exit_status() {
    let f = fixture();
    let out = warden(
        &f,
        &[
            "run",
            "--no-sandbox",
            "--scope",
            "src",
            "--",
            "sh",
            "-c",
            "echo two >> src/lib.txt; exit 7",
        ],
    );
    assert_eq!(out.status.code(), Some(7));
    let all = runs(&f);
    assert_eq!(all[0]["outcome"]["state"], "discarded");
    assert!(all[0]["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("status 7"));
    assert!(f
        .server
        .requests()
        .iter()
        .all(|r| !r.path.ends_with("/pulls")));
}

#[test]
fn a_change_outside_the_declared_scope_fails_the_overreach_gate() {
    let f = fixture();
    let out = warden(
        &f,
        &[
            "run",
            "--no-sandbox",
            "--scope",
            "src",
            "--",
            "sh",
            "-c",
            "echo two >> src/lib.txt; echo note >> test.sh",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let all = runs(&f);
    assert_eq!(all[0]["outcome"]["state"], "discarded");
    let gates = all[0]["gates"].as_array().unwrap();
    let overreach = gates.iter().find(|g| g["gate"] == "overreach").unwrap();
    assert_eq!(overreach["status"], "failed", "{all:#?}");
}

/// For Claude Code, warden passes its own settings file (hooks only) with `--settings`, and
/// leaves the project's `.claude/` alone. The program named `claude` here is a stand-in script
/// that records its arguments: the real CLI needs a model server.
#[test]
fn claude_gets_a_generated_settings_file_with_the_hooks() {
    let f = fixture();
    let bin = f.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = f.home.join("claude-args.txt");
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > '{}'\necho \"$WARDEN_PROJECT_ROOT\" >> '{}'\necho two >> src/lib.txt\n",
        record.display(),
        record.display()
    );
    std::fs::write(bin.join("claude"), script).unwrap();
    let chmod = Command::new("chmod")
        .args(["+x", bin.join("claude").to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chmod.success());
    let claude = bin.join("claude");
    let out = warden(
        &f,
        &[
            "run",
            "--no-sandbox",
            "--scope",
            "src",
            "--",
            claude.to_str().unwrap(),
            "-p",
            "hi",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let args = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = args.lines().collect();
    assert_eq!(lines[0], "--settings");
    assert_eq!(&lines[2..4], ["-p", "hi"]);
    // Worktrees live in the user's state directory, not under `.git` (where Claude Code
    // refuses to edit) nor in the checkout.
    let worktrees = f.home.join(".local/state/warden/worktrees/greeter");
    assert!(Path::new(lines[4]).starts_with(&worktrees), "{args}");
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(lines[1]).unwrap()).unwrap();
    let command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap();
    assert!(command.ends_with("hook claude"), "{command}");
    assert_eq!(settings["disableAllHooks"], false);
    assert!(!f.repo.join(".claude").exists());
}

/// In the sandbox the agent writes its worktree and nothing else; on a kernel that cannot
/// sandbox, warden refuses instead of pretending.
#[test]
fn sandboxed_run_confines_the_agent_or_refuses() {
    let f = fixture();
    // The user's own checkout: writable outside the sandbox, never inside.
    let outside = f.repo.join("escaped.txt");
    let script = format!(
        "echo two >> src/lib.txt; echo x > {} 2>/dev/null; true",
        outside.display()
    );
    let out = warden(
        &f,
        &["run", "--scope", "src", "--", "sh", "-c", script.as_str()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) {
        assert!(stderr.contains("cannot sandbox"), "{stderr}");
        assert!(stderr.contains("--allow-degraded"), "{stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!outside.exists(), "the agent wrote outside its worktree");
    let id = run_id(&f);
    assert_eq!(
        git(
            &f.bare,
            &["show", &format!("refs/heads/warden/{id}:src/lib.txt")]
        ),
        "one\ntwo\n"
    );
}
