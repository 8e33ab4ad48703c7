//! The four gates on real worktrees: pass, fail and needs-approval cases.

mod common;

use std::time::Duration;

use common::{aws_scanner, git, write, Repo};
use warden_session::{run_gates, run_gates_with, GateConfig, GateKind, GateStatus, TestLauncher};

fn cfg() -> GateConfig {
    GateConfig {
        scope: vec!["src".into()],
        ..GateConfig::default()
    }
    .shell_test_command("sh test.sh")
}

fn status(report: &warden_session::GateReport, gate: GateKind) -> GateStatus {
    report.get(gate).unwrap().status
}

#[test]
fn in_scope_work_that_keeps_tests_green_passes_every_gate() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\npub fn twice() -> u32 { 84 }\n",
    );
    write(&ws.worktree, "src/util.rs", "pub fn util() {}\n");

    let report = run_gates(&ws, &cfg(), &aws_scanner).unwrap();
    assert_eq!(report.outcome(), GateStatus::Passed, "{report:#?}");
    let names: Vec<&str> = report.results.iter().map(|r| r.gate.name()).collect();
    assert_eq!(names, ["secrets", "overreach", "sensitive-paths", "tests"]);
    assert!(report
        .results
        .iter()
        .all(|r| r.status == GateStatus::Passed));
    assert_eq!(report.snapshot.files.len(), 2);
    assert!(report
        .get(GateKind::Tests)
        .unwrap()
        .summary
        .contains("passed"));
}

#[test]
fn a_key_in_added_lines_fails_with_file_line_numbers_but_a_removed_key_does_not() {
    let repo = Repo::new();
    write(
        repo.root(),
        "src/old.rs",
        "const K: &str = \"AKIAABCDEFGHIJKLMNOP\";\n",
    );
    git(repo.root(), &["add", "-A"]);
    git(repo.root(), &["commit", "-q", "-m", "old key"]);

    // Removing a key that was already there is not a new leak.
    let ws = repo.workspace();
    std::fs::remove_file(ws.worktree.join("src/old.rs")).unwrap();
    let report = run_gates(&ws, &cfg(), &aws_scanner).unwrap();
    assert_eq!(
        status(&report, GateKind::Secrets),
        GateStatus::Passed,
        "{report:#?}"
    );

    // Adding one is.
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// fine\nconst KEY: &str = \"AKIAQWERTYUIOPASDFGH\";\n",
    );
    let report = run_gates(&ws, &cfg(), &aws_scanner).unwrap();
    let secrets = report.get(GateKind::Secrets).unwrap();
    assert_eq!(secrets.status, GateStatus::Failed);
    assert_eq!(
        secrets.details,
        ["src/lib.rs:3: AWS access key id (aws-access-key-id)"]
    );
    assert!(
        !secrets.details.concat().contains("QWERTY"),
        "the secret itself must not be reported"
    );
    assert_eq!(report.outcome(), GateStatus::Failed);
}

#[test]
fn changes_outside_scope_or_allowlist_or_over_limits_are_overreach() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// a\n// b\n",
    );
    write(&ws.worktree, "scripts/deploy.sh", "echo deploy\n");

    let report = run_gates(&ws, &cfg(), &aws_scanner).unwrap();
    let over = report.get(GateKind::Overreach).unwrap();
    assert_eq!(over.status, GateStatus::Failed);
    assert_eq!(
        over.details,
        ["scripts/deploy.sh: outside the declared scope"]
    );

    let tight = GateConfig {
        scope: Vec::new(),
        write_allowlist: vec!["src/**".into()],
        max_files_changed: Some(1),
        max_lines_changed: Some(2),
        ..cfg()
    };
    let report = run_gates(&ws, &tight, &aws_scanner).unwrap();
    let over = report.get(GateKind::Overreach).unwrap();
    assert_eq!(
        over.details,
        [
            "scripts/deploy.sh: outside the write allowlist",
            "2 files changed, over the limit of 1",
            "3 lines changed, over the limit of 2",
        ]
    );

    let roomy = GateConfig {
        scope: vec!["src".into(), "scripts/*.sh".into()],
        max_files_changed: Some(2),
        max_lines_changed: Some(3),
        ..cfg()
    };
    let report = run_gates(&ws, &roomy, &aws_scanner).unwrap();
    assert_eq!(
        status(&report, GateKind::Overreach),
        GateStatus::Passed,
        "{report:#?}"
    );
}

#[test]
fn a_rename_out_of_scope_counts_both_paths() {
    let repo = Repo::new();
    let ws = repo.workspace();
    std::fs::rename(
        ws.worktree.join("README.md"),
        ws.worktree.join("src/README.md"),
    )
    .unwrap();
    let report = run_gates(&ws, &cfg(), &aws_scanner).unwrap();
    let over = report.get(GateKind::Overreach).unwrap();
    assert_eq!(over.details, ["README.md: outside the declared scope"]);
}

#[test]
fn sensitive_paths_need_approval_not_failure() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(&ws.worktree, "infra/main.tf", "resource \"x\" \"z\" {}\n");
    let cfg = GateConfig {
        scope: vec!["infra".into()],
        ..cfg()
    };
    let report = run_gates(&ws, &cfg, &aws_scanner).unwrap();
    let sensitive = report.get(GateKind::SensitivePaths).unwrap();
    assert_eq!(sensitive.status, GateStatus::NeedsApproval);
    assert_eq!(sensitive.details, ["infra/main.tf (matches infra/**)"]);
    assert_eq!(report.outcome(), GateStatus::NeedsApproval);
    assert_eq!(report.blocking().count(), 1);
}

#[test]
fn a_failing_test_command_fails_with_the_tail_of_its_output() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 41 }\n",
    );
    let cfg = GateConfig { scope: vec!["src".into()], ..GateConfig::default() }
        .shell_test_command("for i in $(seq 1 100); do echo progress $i; done; echo 'assertion failed: answer == 42' >&2; sh test.sh");
    let report = run_gates(&ws, &cfg, &aws_scanner).unwrap();
    let tests = report.get(GateKind::Tests).unwrap();
    assert_eq!(tests.status, GateStatus::Failed, "{tests:#?}");
    assert!(tests.summary.contains("exit code 1"), "{}", tests.summary);
    assert!(
        tests
            .details
            .contains(&"assertion failed: answer == 42".to_string()),
        "{:?}",
        tests.details
    );
    assert!(tests.details.contains(&"progress 100".to_string()));
    assert!(
        !tests.details.contains(&"progress 1".to_string()),
        "only the tail is kept"
    );
    assert_eq!(report.outcome(), GateStatus::Failed);
}

#[test]
fn a_hanging_test_command_is_stopped_at_the_timeout() {
    let repo = Repo::new();
    let ws = repo.workspace();
    let cfg = GateConfig {
        test_timeout: Duration::from_millis(500),
        ..GateConfig::default()
    }
    .shell_test_command("echo started; sleep 60");
    let start = std::time::Instant::now();
    let report = run_gates(&ws, &cfg, &aws_scanner).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    let tests = report.get(GateKind::Tests).unwrap();
    assert_eq!(tests.status, GateStatus::Failed);
    assert!(tests.summary.contains("timed out"), "{}", tests.summary);
    assert!(tests.details.contains(&"started".to_string()));
}

#[test]
fn no_test_command_is_reported_as_skipped() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// x\n",
    );
    let cfg = GateConfig {
        test_command: None,
        ..cfg()
    };
    let report = run_gates(&ws, &cfg, &aws_scanner).unwrap();
    let tests = report.get(GateKind::Tests).unwrap();
    assert_eq!(tests.status, GateStatus::Skipped);
    assert_eq!(report.outcome(), GateStatus::Passed);
}

#[test]
fn the_launcher_builds_the_test_process() {
    let repo = Repo::new();
    let ws = repo.workspace();
    let seen = std::sync::Mutex::new(Vec::new());
    let launcher =
        |argv: &[String], dir: &std::path::Path| -> std::io::Result<std::process::Command> {
            seen.lock()
                .unwrap()
                .push((argv.to_vec(), dir.to_path_buf()));
            // A wrapper (the sandbox, in warden) decides what actually runs.
            let mut cmd = std::process::Command::new("sh");
            cmd.args(["-c", "echo wrapped; exit 3"]).current_dir(dir);
            Ok(cmd)
        };
    let report = run_gates_with(&ws, &cfg(), &aws_scanner, &launcher as &dyn TestLauncher).unwrap();
    let tests = report.get(GateKind::Tests).unwrap();
    assert_eq!(tests.status, GateStatus::Failed);
    assert!(tests.summary.contains("exit code 3"));
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, ["sh", "-c", "sh test.sh"]);
    assert_eq!(seen[0].1, ws.worktree);
}

#[test]
fn files_the_test_command_writes_are_not_part_of_the_gated_snapshot() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// edit\n",
    );
    let cfg = cfg().shell_test_command("echo generated > src/generated.rs");
    let report = run_gates(&ws, &cfg, &aws_scanner).unwrap();
    let paths: Vec<&str> = report
        .snapshot
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["src/lib.rs"]);
    assert!(ws.worktree.join("src/generated.rs").exists());
}

#[test]
fn a_bad_pattern_is_an_error_not_a_pass() {
    let repo = Repo::new();
    let ws = repo.workspace();
    let cfg = GateConfig {
        scope: vec!["src/[".into()],
        ..cfg()
    };
    let err = run_gates(&ws, &cfg, &aws_scanner).unwrap_err();
    assert!(err.to_string().contains("src/["), "{err}");
    let cfg = GateConfig {
        scope: vec!["".into()],
        ..GateConfig::default()
    };
    assert!(run_gates(&ws, &cfg, &aws_scanner).is_err());
}
