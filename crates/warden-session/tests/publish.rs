//! Discard, finalize (push to a bare remote, pull request to a stand-in forge), alerts and the
//! run registry, end to end against real git and real HTTP on 127.0.0.1.

mod common;

use std::time::Duration;

use common::{aws_scanner, bare_remote, git, github_standin, serve, write, Repo};
use warden_session::alert::{self, Alert};
use warden_session::forge::{ForgeConfig, ForgeKind};
use warden_session::runs::{RunOutcome, RunRecord, RunStore};
use warden_session::{
    discard, finalize, run_gates, ActionNote, GateConfig, GateStatus, PrOutcome, PublishConfig,
    PushOutcome, RunSummary, SessionError,
};

fn gates() -> GateConfig {
    GateConfig {
        scope: vec!["src".into(), "infra".into()],
        ..GateConfig::default()
    }
    .shell_test_command("sh test.sh")
}

fn summary() -> RunSummary {
    RunSummary {
        task: Some("Add a twice() helper\nwith a doc comment".into()),
        scope: vec!["src".into()],
        agent: Some("claude".into()),
        denied: vec![ActionNote {
            action: "Bash: rm -rf /".into(),
            reason: "destructive: recursive delete of /".into(),
        }],
        asked: vec![ActionNote {
            action: "Read: .env".into(),
            reason: "secret file".into(),
        }],
        audit_session: Some("sess-123".into()),
    }
}

#[test]
fn passing_work_is_pushed_and_a_checked_pull_request_is_opened() {
    let repo = Repo::new();
    let (_remote_dir, remote) = bare_remote();
    git(
        repo.root(),
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n/// Twice the answer.\npub fn twice() -> u32 { 84 }\n",
    );
    write(&ws.worktree, "src/extra.rs", "pub fn extra() {}\n");
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    assert_eq!(report.outcome(), GateStatus::Passed, "{report:#?}");

    let server = github_standin("acme/widgets", "t0ken-abc");
    std::env::set_var("WARDEN_TEST_TOKEN_PASSING", "t0ken-abc");
    let mut forge = ForgeConfig::new(ForgeKind::GitHub);
    forge.api_base = Some(server.base.clone());
    forge.repo = Some("acme/widgets".into());
    forge.token_env = Some("WARDEN_TEST_TOKEN_PASSING".into());
    let publish = PublishConfig {
        remote: Some("origin".into()),
        forge: Some(forge),
        ..PublishConfig::default()
    };
    let published = finalize(&ws, &summary(), &report, &publish).unwrap();

    // The branch reached the remote, with exactly the gated tree, committed by warden.
    assert_eq!(
        published.push,
        PushOutcome::Pushed {
            remote: "origin".into(),
            remote_ref: ws.branch_ref()
        }
    );
    let remote_head = git(&remote, &["rev-parse", &ws.branch_ref()]);
    assert_eq!(remote_head, published.commit);
    assert_eq!(
        git(&remote, &["rev-parse", &format!("{remote_head}^{{tree}}")]),
        report.snapshot.tree
    );
    assert_eq!(
        git(&remote, &["rev-parse", &format!("{remote_head}^")]),
        ws.base_commit
    );
    let message = git(
        &remote,
        &["log", "-1", "--format=%an <%ae>%n%B", &remote_head],
    );
    assert!(
        message.starts_with("warden <warden@localhost>\nwarden: Add a twice() helper"),
        "{message}"
    );
    assert!(
        message.contains(
            "Gates: secrets passed, overreach passed, sensitive-paths passed, tests passed"
        ),
        "{message}"
    );
    assert!(message.contains("Actions: 1 denied, 1 asked"), "{message}");
    assert!(
        message.contains("Audit: warden log show sess-123"),
        "{message}"
    );
    assert!(message.contains("Warden-Run: "), "{message}");
    assert_eq!(
        git(&remote, &["show", &format!("{remote_head}:src/extra.rs")]),
        "pub fn extra() {}"
    );

    // The stand-in checked method, path, token and fields before answering 201.
    assert_eq!(
        published.pr,
        PrOutcome::Opened(warden_session::forge::PullRequest {
            url: "https://github.example/acme/widgets/pull/7".into(),
            number: 7
        })
    );
    let req = server.seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "/repos/acme/widgets/pulls");
    assert_eq!(req.header("Authorization"), Some("Bearer t0ken-abc"));
    assert_eq!(req.header("X-GitHub-Api-Version"), Some("2022-11-28"));
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["head"], ws.branch.as_str());
    assert_eq!(body["base"], "main");
    assert_eq!(body["title"], "warden: Add a twice() helper");
    assert_eq!(body["draft"], false);
    let text = body["body"].as_str().unwrap();
    for needle in [
        "> Add a twice() helper",
        "| tests | passed |",
        "| secrets | passed |",
        "## Denied actions (1)",
        "`Bash: rm -rf /`: destructive: recursive delete of /",
        "## Asked actions (1)",
        "`Read: .env`: secret file",
        "warden log show sess-123",
        "`src/extra.rs`: +1 −0",
    ] {
        assert!(text.contains(needle), "PR body lacks {needle:?}:\n{text}");
    }

    // The worktree is gone; the local branch holds the commit; the checkout is untouched.
    assert!(published.worktree_removed && !ws.worktree.exists());
    assert_eq!(
        git(repo.root(), &["rev-parse", &ws.branch_ref()]),
        published.commit
    );
    assert_eq!(
        git(repo.root(), &["symbolic-ref", "--short", "HEAD"]),
        "main"
    );
    assert_eq!(repo.status(), "");
    assert_eq!(
        published.next_steps[0],
        "review and merge the pull request: https://github.example/acme/widgets/pull/7"
    );
}

#[test]
fn a_forge_that_rejects_the_request_is_reported_after_the_push() {
    let repo = Repo::new();
    let (_remote_dir, remote) = bare_remote();
    git(
        repo.root(),
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// x\n",
    );
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();

    let server = github_standin("acme/widgets", "right-token");
    std::env::set_var("WARDEN_TEST_TOKEN_WRONG", "wrong-token");
    let mut forge = ForgeConfig::new(ForgeKind::GitHub);
    forge.api_base = Some(server.base.clone());
    forge.repo = Some("acme/widgets".into());
    forge.token_env = Some("WARDEN_TEST_TOKEN_WRONG".into());
    let publish = PublishConfig {
        remote: Some("origin".into()),
        forge: Some(forge),
        ..PublishConfig::default()
    };
    let published = finalize(&ws, &summary(), &report, &publish).unwrap();
    assert!(matches!(published.push, PushOutcome::Pushed { .. }));
    match &published.pr {
        PrOutcome::Failed { error } => {
            assert!(
                error.contains("401") && error.contains("Bad credentials"),
                "{error}"
            );
            assert!(
                !error.contains("wrong-token"),
                "the token must not leak into messages"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(published
        .next_steps
        .iter()
        .any(|s| s.starts_with("open a pull request from")));
}

#[test]
fn without_a_remote_the_branch_stays_local_with_instructions_that_work() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\npub fn local() {}\n",
    );
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    let published = finalize(&ws, &summary(), &report, &PublishConfig::default()).unwrap();
    assert_eq!(published.push, PushOutcome::NoRemote);
    assert_eq!(published.pr, PrOutcome::NotRequested);
    let short = &ws.base_commit[..12];
    assert_eq!(
        published.next_steps,
        [
            format!("git log --stat {short}..{}", ws.branch),
            format!("git diff {short}...{}", ws.branch),
            format!("git switch main && git merge --no-ff {}", ws.branch),
            format!("warden discard {}", ws.run_id),
        ]
    );
    // Following the instructions merges the work.
    let diff = git(
        repo.root(),
        &["diff", "--stat", &format!("{short}...{}", ws.branch)],
    );
    assert!(diff.contains("src/lib.rs"), "{diff}");
    git(repo.root(), &["switch", "-q", "main"]);
    git(
        repo.root(),
        &["merge", "-q", "--no-ff", "-m", "merge", &ws.branch],
    );
    assert!(std::fs::read_to_string(repo.root().join("src/lib.rs"))
        .unwrap()
        .contains("pub fn local()"));
}

#[test]
fn needs_approval_opens_a_draft_and_says_why() {
    let repo = Repo::new();
    let (_remote_dir, remote) = bare_remote();
    git(
        repo.root(),
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    let ws = repo.workspace();
    write(&ws.worktree, "infra/main.tf", "resource \"x\" \"z\" {}\n");
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    assert_eq!(report.outcome(), GateStatus::NeedsApproval, "{report:#?}");

    let server = github_standin("acme/widgets", "tok");
    std::env::set_var("WARDEN_TEST_TOKEN_DRAFT", "tok");
    let mut forge = ForgeConfig::new(ForgeKind::GitHub);
    forge.api_base = Some(server.base.clone());
    forge.repo = Some("acme/widgets".into());
    forge.token_env = Some("WARDEN_TEST_TOKEN_DRAFT".into());
    let publish = PublishConfig {
        remote: Some("origin".into()),
        forge: Some(forge),
        ..PublishConfig::default()
    };
    let published = finalize(&ws, &summary(), &report, &publish).unwrap();
    assert!(published.needs_approval);
    assert!(matches!(published.pr, PrOutcome::Opened(_)));
    let req = server.seen.recv_timeout(Duration::from_secs(5)).unwrap();
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["draft"], true);
    let text = body["body"].as_str().unwrap();
    assert!(
        text.contains("**Approval required before merge.**"),
        "{text}"
    );
    assert!(text.contains("infra/main.tf (matches infra/**)"), "{text}");
}

#[test]
fn finalize_refuses_failed_gates_moved_branches_and_empty_runs() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 41 }\n",
    );
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    assert_eq!(report.outcome(), GateStatus::Failed);
    let err = finalize(&ws, &summary(), &report, &PublishConfig::default()).unwrap_err();
    assert!(matches!(err, SessionError::GatesFailed { .. }), "{err}");
    assert_eq!(
        git(repo.root(), &["rev-parse", &ws.branch_ref()]),
        ws.base_commit,
        "nothing committed"
    );

    // Gates pass, then the agent (or anything) commits more before publishing.
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// ok\n",
    );
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    assert_eq!(report.outcome(), GateStatus::Passed);
    write(&ws.worktree, "src/sneaky.rs", "// added after the gates\n");
    git(&ws.worktree, &["add", "-A"]);
    git(&ws.worktree, &["commit", "-q", "-m", "late"]);
    let err = finalize(&ws, &summary(), &report, &PublishConfig::default()).unwrap_err();
    assert!(matches!(err, SessionError::BranchMoved { .. }), "{err}");

    let untouched = repo.workspace();
    let report = run_gates(&untouched, &gates(), &aws_scanner).unwrap();
    let err = finalize(&untouched, &summary(), &report, &PublishConfig::default()).unwrap_err();
    assert!(matches!(err, SessionError::NoChanges { .. }), "{err}");
}

#[test]
fn discard_keeps_the_agents_work_and_removes_worktree_and_branch() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/committed.rs",
        "// committed by the agent\n",
    );
    git(&ws.worktree, &["add", "-A"]);
    git(&ws.worktree, &["commit", "-q", "-m", "agent work"]);
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 41 }\n",
    );
    write(&ws.worktree, "notes/untracked.txt", "left lying around\n");

    let kept = discard(&ws, "tests failed").unwrap();
    assert_eq!(
        kept.kept_ref,
        format!("refs/warden/discarded/{}", ws.run_id)
    );
    assert!(kept.worktree_removed);
    assert!(!ws.worktree.exists());
    assert!(!repo.ref_exists(&ws.branch_ref()), "the branch is removed");
    assert!(
        git(repo.root(), &["worktree", "list", "--porcelain"])
            .lines()
            .filter(|l| l.starts_with("worktree "))
            .count()
            == 1
    );

    // Everything the agent left is in the kept commit, on top of its own commit.
    let r = &kept.kept_ref;
    assert_eq!(git(repo.root(), &["rev-parse", r]), kept.commit);
    assert_eq!(
        git(repo.root(), &["show", &format!("{r}:notes/untracked.txt")]),
        "left lying around"
    );
    assert_eq!(
        git(repo.root(), &["show", &format!("{r}:src/lib.rs")]),
        "pub fn answer() -> u32 { 41 }"
    );
    assert_eq!(
        git(repo.root(), &["log", "-1", "--format=%s", &format!("{r}^")]),
        "agent work"
    );
    assert!(git(repo.root(), &["log", "-1", "--format=%B", r]).contains("Reason: tests failed"));
    assert_eq!(repo.status(), "", "the user's checkout is untouched");
}

#[test]
fn the_alert_webhook_receives_the_json_body() {
    let repo = Repo::new();
    let ws = repo.workspace();
    write(
        &ws.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 41 }\n",
    );
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    let kept = discard(&ws, "gates failed").unwrap();

    let receiver = serve(1, |req| {
        if req.method == "POST" {
            (204, String::new())
        } else {
            (405, String::new())
        }
    });
    let body = Alert::new(&ws, &summary(), &report, Some(&kept.kept_ref));
    alert::send(
        &format!("{}/hooks/warden", receiver.base),
        &body,
        Duration::from_secs(5),
    )
    .unwrap();

    let req = receiver.seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(req.url, "/hooks/warden");
    assert!(req
        .header("Content-Type")
        .unwrap_or("")
        .starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(v["event"], "warden.run.discarded");
    assert_eq!(v["run_id"], ws.run_id.as_str());
    assert_eq!(v["task"], "Add a twice() helper\nwith a doc comment");
    assert_eq!(v["kept_ref"], kept.kept_ref.as_str());
    assert_eq!(v["failed_gates"][0]["gate"], "tests");
    assert_eq!(v["failed_gates"][0]["status"], "failed");
    assert_eq!(v["audit"], "warden log show sess-123");
    assert!(v["text"].as_str().unwrap().contains("discarded"));
}

#[test]
fn an_unreachable_or_refusing_webhook_is_an_error_within_the_timeout() {
    let repo = Repo::new();
    let ws = repo.workspace();
    let report = run_gates(&ws, &gates(), &aws_scanner).unwrap();
    let body = Alert::new(&ws, &summary(), &report, None);
    assert_eq!(body.event, "warden.run.needs-approval");

    let refusing = serve(1, |_| (500, String::new()));
    let err = alert::send(&refusing.base, &body, Duration::from_secs(5)).unwrap_err();
    assert!(err.to_string().contains("500"), "{err}");

    // A listener that never answers: the bounded timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", silent.local_addr().unwrap());
    let start = std::time::Instant::now();
    assert!(alert::send(&url, &body, Duration::from_millis(500)).is_err());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(alert::send("file:///etc/passwd", &body, Duration::from_secs(1)).is_err());
}

#[test]
fn runs_are_recorded_listed_and_discarded() {
    let repo = Repo::new();
    let store = RunStore::open(repo.root()).unwrap();
    assert!(store.list().unwrap().records.is_empty());

    // Run 1: passes and stays local.
    let ws1 = repo.workspace();
    let mut rec1 = RunRecord::start(&ws1, Some("one".into()), vec!["src".into()]);
    store.save(&rec1).unwrap();
    write(
        &ws1.worktree,
        "src/lib.rs",
        "pub fn answer() -> u32 { 42 }\n// one\n",
    );
    let report = run_gates(&ws1, &gates(), &aws_scanner).unwrap();
    let published = finalize(&ws1, &summary(), &report, &PublishConfig::default()).unwrap();
    rec1.set_gates(&report);
    rec1.finish(RunOutcome::Passed {
        branch: ws1.branch.clone(),
        commit: published.commit,
        pushed_to: None,
        pr_url: None,
    });
    store.save(&rec1).unwrap();

    // Run 2: fails and is discarded.
    std::thread::sleep(Duration::from_millis(1100)); // a later second, so a later id
    let ws2 = repo.workspace();
    let mut rec2 = RunRecord::start(&ws2, Some("two".into()), Vec::new());
    write(&ws2.worktree, "src/lib.rs", "broken\n");
    let report = run_gates(&ws2, &gates(), &aws_scanner).unwrap();
    let kept = discard(&ws2, "tests failed").unwrap();
    rec2.set_gates(&report);
    rec2.finish(RunOutcome::Discarded {
        kept_ref: kept.kept_ref.clone(),
        reason: "tests failed".into(),
    });
    store.save(&rec2).unwrap();

    // Run 3: still running, its worktree in place.
    let ws3 = repo.workspace();
    store
        .save(&RunRecord::start(&ws3, None, Vec::new()))
        .unwrap();

    // A stray file is listed as unreadable, not ignored.
    std::fs::write(store.dir().join("garbage.json"), b"{").unwrap();

    let list = store.list().unwrap();
    let ids: Vec<String> = list.records.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(list.records[0].id, ws1.run_id);
    assert_eq!(list.records[0].outcome.label(), "passed");
    assert_eq!(list.records[0].gates.len(), 4);
    assert_eq!(list.unreadable.len(), 1);
    assert_eq!(store.get(&ws2.run_id).unwrap().outcome.label(), "discarded");

    // Discarding run 1 removes its branch; run 2 its kept ref.
    let removal = store.discard_run(&ws1.run_id, false).unwrap();
    assert_eq!(removal.refs, [ws1.branch_ref()]);
    assert!(!repo.ref_exists(&ws1.branch_ref()));
    let removal = store.discard_run(&ws2.run_id, false).unwrap();
    assert_eq!(removal.refs, std::slice::from_ref(&kept.kept_ref));
    assert!(!repo.ref_exists(&kept.kept_ref));
    assert!(store.get(&ws2.run_id).unwrap().removed.is_some());

    // A running run is refused unless forced; forced, its worktree goes too.
    let err = store.discard_run(&ws3.run_id, false).unwrap_err();
    assert!(matches!(err, SessionError::RunStillRunning { .. }), "{err}");
    assert!(ws3.worktree.exists());
    let removal = store.discard_run(&ws3.run_id, true).unwrap();
    assert_eq!(removal.worktree.as_deref(), Some(ws3.worktree.as_path()));
    assert!(!ws3.worktree.exists());
    assert_eq!(removal.refs, [ws3.branch_ref()]);

    let missing = warden_session::RunId::parse("20000101-000000-zzzz").unwrap();
    assert!(matches!(
        store.discard_run(&missing, false),
        Err(SessionError::RunNotFound { .. })
    ));
    assert_eq!(repo.status(), "");
}
