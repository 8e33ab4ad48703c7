//! The `warden` commands as a person runs them: init, check, policy lint, exit codes.

use std::path::Path;
use std::process::{Command, Output};

const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

fn warden(dir: &Path, args: &[&str]) -> Output {
    Command::new(WARDEN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .env_remove("XDG_CONFIG_HOME")
        .env("NO_COLOR", "1")
        .output()
        .expect("warden runs")
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ok = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::create_dir_all(dir.path().join("home")).unwrap();
    dir
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn init_writes_policy_and_hooks_once() {
    let dir = repo();
    let first = warden(dir.path(), &["init"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let settings = std::fs::read_to_string(dir.path().join(".claude/settings.json")).unwrap();
    let before = std::fs::read_to_string(dir.path().join("warden.toml")).unwrap();
    for event in [
        "PreToolUse",
        "PostToolUse",
        "UserPromptSubmit",
        "SessionStart",
        "SessionEnd",
    ] {
        assert!(settings.contains(event), "{event} hook installed");
    }
    assert!(settings.contains("\"onFailure\": \"block\""));
    let second = warden(dir.path(), &["init"]);
    assert!(second.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".claude/settings.json")).unwrap(),
        settings
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("warden.toml")).unwrap(),
        before
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains("nothing changed"));
}

#[test]
fn init_dry_run_writes_nothing() {
    let dir = repo();
    let out = warden(dir.path(), &["init", "--dry-run"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("+++"));
    assert!(!dir.path().join("warden.toml").exists());
    assert!(!dir.path().join(".claude").exists());
}

#[test]
fn init_outside_git_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = warden(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a git repository"));
}

#[test]
fn check_exit_codes_and_json() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let deny = warden(dir.path(), &["check", "--json", "Bash(sudo rm -fr /tmp/x)"]);
    assert_eq!(deny.status.code(), Some(1));
    assert_eq!(json(&deny)["decision"], "deny");
    assert_eq!(json(&deny)["decided_by"]["rule"], "Bash(rm -rf*)");
    let allow = warden(dir.path(), &["check", "--json", "Bash(ls -la)"]);
    assert_eq!(allow.status.code(), Some(0));
    assert_eq!(json(&allow)["decision"], "allow");
    let ask = warden(dir.path(), &["check", "--json", "Edit(infra/main.tf)"]);
    assert_eq!(ask.status.code(), Some(3));
    assert_eq!(json(&ask)["decision"], "ask");
}

#[test]
fn check_tainted_shows_the_narrowed_decision() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let plain = warden(
        dir.path(),
        &["check", "--json", "Bash(curl https://example.com)"],
    );
    assert_eq!(json(&plain)["decision"], "ask");
    let tainted = warden(
        dir.path(),
        &[
            "check",
            "--json",
            "--tainted",
            "Bash(curl https://example.com)",
        ],
    );
    assert_eq!(json(&tainted)["decision"], "deny");
    assert!(json(&tainted)["decided_by"]["message"]
        .as_str()
        .unwrap()
        .contains("tainted"));
}

/// Writes `policy` as the project's warden.toml; `policy lint` must exit 1 and `check ACTION`
/// must exit 2 (an error, never a decision). Returns what lint printed.
fn refused_by_lint_and_check(policy: &str, action: &str) -> String {
    let dir = repo();
    std::fs::write(dir.path().join("warden.toml"), policy).unwrap();
    let lint = warden(dir.path(), &["policy", "lint"]);
    let text = String::from_utf8_lossy(&lint.stdout).into_owned();
    assert_eq!(lint.status.code(), Some(1), "{text}");
    let check = warden(dir.path(), &["check", action]);
    assert_eq!(
        check.status.code(),
        Some(2),
        "a policy that fails to load is an error, never a decision"
    );
    text
}

#[test]
fn broken_policy_is_reported_with_line_and_caret() {
    let text = refused_by_lint_and_check(
        "[permissions]\ndeny = [\"Bash(rm -rf*)\",\n  \"Bash(\",\n]\n",
        "Bash(ls)",
    );
    assert!(text.contains("warden.toml:3"), "{text}");
    assert!(text.contains('^'), "{text}");
}

#[test]
fn a_malformed_glob_fails_lint_as_it_fails_loading() {
    let text = refused_by_lint_and_check(
        "[permissions]\nallow = [\n  \"Read(./src/**)\",\n  \"Read(./src/[x/**)\",\n]\n",
        "Read(src/lib.rs)",
    );
    assert!(text.contains("error: rule \"Read(./src/[x/**)\""), "{text}");
    assert!(text.contains("warden.toml:4:"), "{text}");
    // The caret points at the specifier, under `./src/[x/**`.
    assert!(
        text.contains("   |   \"Read(./src/[x/**)\",\n   |         ^"),
        "{text}"
    );
    assert!(!text.contains("ok:"), "{text}");
}

#[test]
fn wrong_flag_is_a_usage_error() {
    let dir = repo();
    let out = warden(dir.path(), &["check", "--frobnicate", "Bash(ls)"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A hook payload for a tool call, as Claude Code sends it.
fn pre_tool_use(dir: &Path, command: &str) -> String {
    serde_json::json!({
        "session_id": "s-broker",
        "hook_event_name": "PreToolUse",
        "cwd": dir,
        "tool_name": "Bash",
        "tool_input": { "command": command },
        "tool_use_id": "toolu_1",
    })
    .to_string()
}

fn hook_with_stdin(dir: &Path, payload: &str, socket: Option<&Path>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(WARDEN);
    cmd.args(["hook", "claude"])
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .env_remove("WARDEN_RUN_ID")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    match socket {
        Some(s) => cmd.env("WARDEN_HOOK_SOCKET", s),
        None => cmd.env_remove("WARDEN_HOOK_SOCKET"),
    };
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `warden sandbox` keeps the audit log read-only inside, so a hook there can only work
/// through the broker `warden sandbox` starts outside: an allowed call comes back allowed and
/// is recorded (a hook that could not record would deny).
#[test]
fn hooks_inside_warden_sandbox_answer_through_its_broker() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    // Not under /tmp: the sandbox gives its program a private /tmp.
    let project = tempfile::Builder::new()
        .prefix("warden-cli-sandbox-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let root = project.path().canonicalize().unwrap();
    for name in ["warden.toml", ".claude/settings.json"] {
        let to = root.join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(dir.path().join(name), to).unwrap();
    }
    std::fs::create_dir_all(root.join("home")).unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(git.success());
    std::fs::write(root.join("payload.json"), pre_tool_use(&root, "ls")).unwrap();
    let out = Command::new(WARDEN)
        .args(["sandbox", "--", "/bin/sh", "-c"])
        .arg(format!("{WARDEN} hook claude < payload.json"))
        .current_dir(&root)
        .env("HOME", root.join("home"))
        .env_remove("WARDEN_RUN_ID")
        .env_remove("WARDEN_HOOK_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v = json(&out);
    assert_eq!(
        v["hookSpecificOutput"]["permissionDecision"], "allow",
        "{v} {stderr}"
    );
    let log = Command::new(WARDEN)
        .args(["log", "show", "s-broker", "--json"])
        .current_dir(&root)
        .env("HOME", root.join("home"))
        .output()
        .unwrap();
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    assert!(String::from_utf8_lossy(&log.stdout).contains("\"ls\""));
    // The broker went away with the sandbox, and took its socket.
    let hook_dir = root.join(".git/warden/hook");
    let left: Vec<_> = std::fs::read_dir(&hook_dir).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn hook_denies_when_the_run_broker_cannot_be_reached() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let payload = pre_tool_use(dir.path(), "ls");
    let out = hook_with_stdin(
        dir.path(),
        &payload,
        Some(&dir.path().join("no-broker.sock")),
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    let reason = v["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("broker"), "{reason}");
}

#[test]
fn the_hook_broker_answers_relayed_calls() {
    use std::io::{BufRead, BufReader};
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let socket = dir.path().join(".git/warden/hook/test.sock");
    let mut broker = Command::new(WARDEN)
        .args(["hook", "serve", "--socket"])
        .arg(&socket)
        .current_dir(dir.path())
        .env("HOME", dir.path().join("home"))
        .env_remove("WARDEN_RUN_ID")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(broker.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    // The same answers as a hook process: the starter policy denies `rm -rf`, allows reads.
    let denied = hook_with_stdin(
        dir.path(),
        &pre_tool_use(dir.path(), "rm -fr src"),
        Some(&socket),
    );
    let v = json(&denied);
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    let direct = hook_with_stdin(dir.path(), &pre_tool_use(dir.path(), "rm -fr src"), None);
    assert_eq!(
        json(&direct)["hookSpecificOutput"]["permissionDecision"],
        "deny"
    );
    // A payload the broker cannot parse fails closed through the relay too.
    let broken = hook_with_stdin(dir.path(), "{not json", Some(&socket));
    assert_eq!(broken.status.code(), Some(2));
    // Both calls were recorded by the broker (outside any sandbox) in the project's log.
    let log = warden(dir.path(), &["log", "show", "s-broker", "--json"]);
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(text.matches("rm -fr src").count() >= 2, "{text}");
    // Closing its stdin stops the broker and removes the socket.
    drop(broker.stdin.take());
    assert!(broker.wait().unwrap().success());
    assert!(!socket.exists());
}

/// Every hook call is recorded in the project's log, chained, and with the policy's secret
/// redaction applied before it is written: the token never reaches the database or its WAL.
#[test]
fn hook_calls_are_recorded_chained_and_redacted_at_rest() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let token = "ghp_Zq7Lw2Xv9Rt4Yp6Nm3Kb8Hc5Jd1Fg0Se2Ua4";
    for i in 0..4 {
        let out = hook_with_stdin(
            dir.path(),
            &pre_tool_use(dir.path(), &format!("printenv HOME # run {i} {token}")),
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json(&out);
        assert!(
            v["hookSpecificOutput"]["permissionDecision"].is_string(),
            "{v}"
        );
    }
    // Before any reader folds them, the hooks' events sit in the staging file beside the log,
    // redacted too.
    let db = dir.path().join(".warden/audit.db");
    let staged = std::fs::read(dir.path().join(".warden/audit.db-staged")).unwrap();
    assert!(contains(&staged, "run 3"), "the events were not staged");
    assert!(!contains(&log_bytes(&db), token), "the token was staged");
    let log = warden(dir.path(), &["log", "show", "s-broker", "--json"]);
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    let text = String::from_utf8_lossy(&log.stdout);
    for i in 0..4 {
        assert!(
            text.contains(&format!("run {i}")),
            "call {i} missing: {text}"
        );
    }
    assert!(!text.contains(token), "{text}");
    assert!(
        !contains(&log_bytes(&db), token),
        "the token reached the log file"
    );
    let verify = warden(dir.path(), &["log", "verify"]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Every file the audit log at `db` is made of, as bytes (the database, its WAL and the
/// staging file of events not yet folded into it).
fn log_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    for suffix in ["-wal", "-staged"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        bytes.extend(std::fs::read(&p).unwrap_or_default());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Runs warden in `dir` with a HOME of its own and `$WARDEN_POLICY` set to `policy` (unset
/// when `None`).
fn warden_with_policy_env(dir: &Path, args: &[&str], policy: Option<&Path>) -> Output {
    let mut cmd = Command::new(WARDEN);
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir.join("home"))
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("WARDEN_POLICY");
    if let Some(p) = policy {
        cmd.env("WARDEN_POLICY", p);
    }
    cmd.output().unwrap()
}

/// `warden check` explains the hook's decision, so it decides with the file `$WARDEN_POLICY`
/// names, as the hook does, unless `--policy` names another.
#[test]
fn check_decides_with_the_policy_file_the_hook_would_use() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let only = dir.path().join("only.toml");
    std::fs::write(&only, "[permissions]\ndeny = [\"Read(./src/**)\"]\n").unwrap();
    let decide = |env_policy: Option<&Path>, args: &[&str]| {
        let mut all = vec!["check", "--json", "Read(src/lib.rs)"];
        all.extend_from_slice(args);
        let out = warden_with_policy_env(dir.path(), &all, env_policy);
        json(&out)["decision"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(decide(None, &[]), "allow");
    assert_eq!(decide(Some(&only), &[]), "deny");
    let starter = dir.path().join("warden.toml");
    assert_eq!(
        decide(Some(&only), &["--policy", starter.to_str().unwrap()]),
        "allow"
    );
}

/// With no file named, `warden policy lint` lints what the hook would load: the file
/// `$WARDEN_POLICY` names when it is set, else the project's layers.
#[test]
fn lint_reads_the_policy_file_the_hook_would_use() {
    let dir = repo();
    assert!(warden(dir.path(), &["init"]).status.success());
    let broken = dir.path().join("ci-policy.toml");
    std::fs::write(&broken, "[permissions]\ndeny = [\"Bash(\"]\n").unwrap();
    let lint = |env_policy: Option<&Path>| {
        warden_with_policy_env(dir.path(), &["policy", "lint"], env_policy)
    };
    assert_eq!(lint(None).status.code(), Some(0));
    let out = lint(Some(&broken));
    assert_eq!(out.status.code(), Some(1));
    assert!(contains(&out.stdout, "ci-policy.toml:2"), "{out:?}");
    // A file that cannot be read is named, without a made-up position.
    let out = lint(Some(&dir.path().join("missing.toml")));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot read policy file"), "{text}");
    assert!(!text.contains("missing.toml:0"), "{text}");
}

/// `warden scan` lists findings of medium confidence and up by default; the rest are counted
/// and listed with `--confidence low`. The exit status follows what is listed.
#[test]
fn scan_lists_by_confidence() {
    let dir = repo();
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("settings.py"),
        "GITHUB_TOKEN = \"ghp_4kT9zQ2mW8rL1xV7bN3cF6hJ0pS5dG2aY8eU\"\n\
         api_token = \"k8Xq2pLm9Zr4Tw7YbN3c\"\n",
    )
    .unwrap();
    std::fs::write(
        src.join("db.py"),
        "DB_URL = \"mysql://nova:nova@localhost/nova\"\n",
    )
    .unwrap();

    let out = warden(dir.path(), &["scan", "src", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let listed: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["confidence"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [("github-pat", "high"), ("generic-token", "medium")]
    );
    assert_eq!(report["min_confidence"], "medium");
    assert_eq!(report["below_min_confidence"], 1);

    let all = json(&warden(
        dir.path(),
        &["scan", "src", "--json", "--confidence", "low"],
    ));
    assert_eq!(all["findings"].as_array().unwrap().len(), 3);
    assert_eq!(all["below_min_confidence"], 0);

    let high = warden(dir.path(), &["scan", "src", "--confidence", "high"]);
    let text = String::from_utf8_lossy(&high.stdout);
    assert_eq!(high.status.code(), Some(1));
    assert!(text.contains("github-pat"), "{text}");
    assert!(!text.contains("generic-token"), "{text}");
    assert!(
        text.contains("2 more below high confidence not listed (--confidence medium lists them)"),
        "{text}"
    );

    // Only a low-confidence finding: nothing listed, exit 0, and the summary says why.
    let db_only = warden(dir.path(), &["scan", "src/db.py"]);
    let text = String::from_utf8_lossy(&db_only.stdout);
    assert_eq!(db_only.status.code(), Some(0), "{text}");
    assert!(text.contains("no secrets found"), "{text}");
    assert!(
        text.contains("1 more below medium confidence not listed (--confidence low lists them)"),
        "{text}"
    );

    // SARIF: the level says the confidence.
    let sarif = json(&warden(
        dir.path(),
        &["scan", "src", "--format", "sarif", "--confidence", "low"],
    ));
    let levels: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["note", "error", "warning"]);

    // A value found by its name in a test is most often made up: low. Only the path inside
    // the scanned tree counts, not the directories above it.
    let fixture = dir.path().join("tests/app/tests");
    std::fs::create_dir_all(&fixture).unwrap();
    std::fs::copy(src.join("settings.py"), fixture.join("settings.py")).unwrap();
    std::fs::copy(
        src.join("settings.py"),
        dir.path().join("tests/app/settings.py"),
    )
    .unwrap();
    let tree = json(&warden(
        dir.path(),
        &["scan", "tests/app", "--json", "--confidence", "low"],
    ));
    let rated: Vec<(&str, &str, &str)> = tree["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["rule_id"].as_str().unwrap(),
                f["confidence"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rated,
        [
            ("tests/app/settings.py", "github-pat", "high"),
            ("tests/app/settings.py", "generic-token", "medium"),
            ("tests/app/tests/settings.py", "github-pat", "high"),
            ("tests/app/tests/settings.py", "generic-token", "low"),
        ]
    );

    let bad = warden(dir.path(), &["scan", "src", "--confidence", "sure"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values"));
}

/// The hook acts on every finding, whatever `warden scan` would list: a chosen password
/// (low confidence) in an outgoing Write is denied like a provider key.
#[test]
fn hook_denies_outgoing_secrets_of_any_confidence() {
    // The project sits under a directory named `tests`: only paths inside it count.
    let outer = tempfile::tempdir().unwrap();
    let project = outer.path().join("tests/app");
    std::fs::create_dir_all(project.join("home")).unwrap();
    assert!(Command::new("git")
        .args(["init", "-q"])
        .current_dir(&project)
        .status()
        .unwrap()
        .success());
    assert!(warden(&project, &["init"]).status.success());
    let token = "api_token = \"k8Xq2pLm9Zr4Tw7YbN3c\"\n";
    for (file, content, confidence) in [
        (
            "db.py",
            "DB_URL = \"mysql://nova:nova@localhost/nova\"\n",
            "low",
        ),
        ("src/client.py", token, "medium"),
        ("tests/test_client.py", token, "low"),
    ] {
        let payload = serde_json::json!({
            "session_id": "s1",
            "transcript_path": project.join("t.jsonl"),
            "cwd": project,
            "hook_event_name": "PreToolUse",
            "tool_name": "Write",
            "tool_input": {"file_path": project.join(file), "content": content},
        });
        let out = hook_with_stdin(&project, &payload.to_string(), None);
        let answer = json(&out);
        let hook = &answer["hookSpecificOutput"];
        assert_eq!(hook["permissionDecision"], "deny", "{file}: {answer}");
        let reason = hook["permissionDecisionReason"].as_str().unwrap();
        assert!(
            reason.contains(&format!("{confidence} confidence")),
            "{file}: {reason}"
        );
        assert!(!reason.contains("k8Xq2pLm"), "never the value: {reason}");
    }
}
